/**
 * The horizon of the feed (`FEED_PAGE`) and of the webhook fan-out: the oldest transaction still
 * running *in this database* (only those can still commit events here), as an `xid8` expression
 * over this query's snapshot. The server-wide `pg_snapshot_xmin` would let another database's long
 * transaction — a migration, a report, another tenant database's batch — hold the feed and every
 * delivery back for as long as it runs.
 *
 * A transaction id in the snapshot counts as another database's only when `pg_stat_activity`
 * positively shows it there (a backend is connected to one database, and `events.xid` is always
 * a top-level id, as `backend_xid` is). Anything not shown so — finished since the snapshot, a
 * prepared transaction, a session whose details this role may not see — counts as ours, which only
 * waits longer, never skips an event. With none of ours running, everything below the snapshot's
 * `xmax` has committed or rolled back.
 */
export const DATABASE_HORIZON = `(select coalesce(
     (select min(x) from pg_snapshot_xip(s.snapshot) x
       where not exists (
         select 1 from pg_stat_activity a
          where a.backend_xid = xid(x)
            and a.datid <> (select oid from pg_database where datname = current_database()))),
     pg_snapshot_xmax(s.snapshot))
   from (select pg_current_snapshot() as snapshot) s)`;
