import { DomainError } from "@arcadia/domain";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase, testBackends } from "../testing/index.ts";
import { retryOnConflict } from "./errors.ts";
import { inTransaction } from "./sql.ts";

// Deadlocks need two transactions at once: PostgreSQL only (the embedded database runs one at a time).
const backends = testBackends({ pooled: true }).filter((b) => b !== "embedded");

describe.runIf(backends.length > 0).each(backends)(
  "retrying a transaction PostgreSQL rolled back on %s",
  (backend) => {
    let db: TestDatabase;
    const sql = (text: string) => db.orm.em.fork().getConnection().execute(text);

    beforeAll(async () => {
      db = await createTestDatabase(backend);
      await sql("create table retry_probe (id int primary key, v int not null)");
      await sql("insert into retry_probe values (1, 0), (2, 0)");
    });
    afterAll(() => db?.close());

    it("runs the loser of a deadlock again, so both transactions' writes land once", async () => {
      let tries = 0;
      let firstLocks = 0;
      let bothLocked!: () => void;
      const barrier = new Promise<void>((resolve) => {
        bothLocked = resolve;
      });
      // Two transactions lock the same two rows in opposite orders, each waiting (on its first try)
      // until the other holds its first row: PostgreSQL must abort one of them.
      const crossing = (first: number, second: number) =>
        retryOnConflict(() =>
          inTransaction(db.orm.em.fork(), async (q) => {
            tries += 1;
            await q("update retry_probe set v = v + 1 where id = $1", [first]);
            if (firstLocks < 2) {
              firstLocks += 1;
              if (firstLocks === 2) bothLocked();
              await barrier;
            }
            await q("update retry_probe set v = v + 1 where id = $1", [second]);
          }),
        );
      await Promise.all([crossing(1, 2), crossing(2, 1)]);
      expect(tries).toBe(3);
      expect(await sql("select id, v from retry_probe order by id")).toEqual([
        { id: 1, v: 2 },
        { id: 2, v: 2 },
      ]);
    });

    it("does not retry any other failure", async () => {
      let tries = 0;
      const refused = retryOnConflict(async () => {
        tries += 1;
        throw new DomainError("CONFLICT", "not a deadlock");
      });
      await expect(refused).rejects.toMatchObject({ code: "CONFLICT" });
      const broken = retryOnConflict(() =>
        inTransaction(db.orm.em.fork(), async (q) => {
          tries += 1;
          await q("select * from no_such_table");
        }),
      );
      await expect(broken).rejects.toThrow();
      expect(tries).toBe(2);
    });
  },
);
