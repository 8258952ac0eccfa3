import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "./embedded-postgres.ts";

describe("the embedded server's connection sharing", () => {
  let embedded: EmbeddedPostgres;
  beforeAll(async () => {
    embedded = await startEmbeddedPostgres();
    const c = new pg.Client({ connectionString: embedded.url });
    await c.connect();
    await c.query("create table counters (id int primary key, n int not null)");
    await c.query("insert into counters values (1, 0)");
    await c.end();
  });
  afterAll(() => embedded?.stop());
  const connected = (count: number) =>
    Promise.all(
      Array.from({ length: count }, async () => {
        const c = new pg.Client({ connectionString: embedded.url });
        await c.connect();
        return c;
      }),
    );

  it("keeps concurrent parameterised queries and transactions of many connections apart", async () => {
    const clients = await connected(8);
    try {
      // Each client works sequentially (a connection runs one thing at a time); the clients race.
      const work = clients.map(async (c, i) => {
        for (let j = 0; j < 25; j++) {
          const { rows } = await c.query("select $1::int * 1000 + $2::int as v", [i, j]);
          expect(rows[0].v).toBe(i * 1000 + j);
          await c.query("begin");
          const { rows: current } = await c.query("select n from counters where id = $1 for update", [1]);
          await c.query("update counters set n = $1 where id = $2", [current[0].n + 1, 1]);
          await c.query("commit");
        }
      });
      await Promise.all(work);
      const { rows } = await clients[0]!.query("select n from counters where id = 1");
      expect(rows[0].n).toBe(8 * 25);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });

  it("rolls back the transaction of a client that disappears, and serves the others", async () => {
    const doomed = new pg.Client({ connectionString: embedded.url });
    doomed.on("error", () => {}); // its connection is cut on purpose
    await doomed.connect();
    await doomed.query("begin");
    await doomed.query("update counters set n = -1 where id = $1", [1]);
    // The newcomer waits for the backend, which the doomed client holds until it goes away.
    const other = new pg.Client({ connectionString: embedded.url });
    const connecting = other.connect();
    (doomed as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    await connecting;
    const { rows } = await other.query("select n from counters where id = $1", [1]);
    expect(rows[0].n).toBe(200);
    await other.end();
  });

  it("keeps the named prepared queries of each connection apart, and drops them when it goes", async () => {
    const clients = await connected(4);
    // A Parse that fails creates nothing; dropping the connection's queries must still drop the rest.
    await expect(clients[1]!.query({ name: "broken", text: "selec 1" })).rejects.toThrow();
    // The same name, a different query per client, used over and over in turn.
    await Promise.all(
      clients.map(async (c, i) => {
        for (let j = 0; j < 10; j++) {
          const { rows } = await c.query({
            name: "same_name",
            text: `select $1::int + ${i * 100} as v`,
            values: [j],
          });
          expect(rows[0].v).toBe(i * 100 + j);
        }
      }),
    );
    await Promise.all(clients.slice(1).map((c) => c.end()));
    const left = async () =>
      (await clients[0]!.query("select count(*)::int as n from pg_prepared_statements")).rows[0].n;
    await expect.poll(left).toBe(1);
    await clients[0]!.end();
  });
});
