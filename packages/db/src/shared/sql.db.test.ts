import { DomainError } from "@arcadia/domain";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase, testBackends } from "../testing/index.ts";
import { onUniqueViolation } from "./errors.ts";
import { prepared } from "./prepared.ts";
import { inTransaction, withConnection } from "./sql.ts";

describe.each(testBackends({ pooled: true }))("plain SQL on the ORM's pool on %s", (backend) => {
  let db: TestDatabase;
  const keys = async () =>
    (
      await db.orm.em
        .getConnection()
        .execute("select key from idempotency_keys where principal_id = 'sql-test' order by key")
    ).map((r) => r.key as string);
  const insert = prepared(
    "sql_test_insert_key",
    `insert into idempotency_keys (id, principal_id, key, request_hash, status_code, response_body, created_at)
     values (gen_random_uuid(), 'sql-test', $1, 'h', 200, '{}', now())`,
  );

  beforeAll(async () => {
    db = await createTestDatabase(backend);
  });
  afterAll(() => db?.close());

  it("commits what the work wrote, and rolls all of it back when the work throws", async () => {
    await inTransaction(db.orm.em.fork(), async (sql) => {
      await sql(insert, ["committed-1"]);
      await sql(insert, ["committed-2"]);
    });
    const failing = inTransaction(db.orm.em.fork(), async (sql) => {
      await sql(insert, ["rolled-back-1"]);
      await sql(insert, ["rolled-back-2"]);
      throw new DomainError("CONFLICT", "changed my mind");
    });
    await expect(failing).rejects.toMatchObject({ code: "CONFLICT" });
    expect(await keys()).toEqual(["committed-1", "committed-2"]);
  });

  it("joins the unit of work's open transaction instead of opening its own", async () => {
    const outer = db.orm.em.fork().transactional(async (em) => {
      await inTransaction(em, (sql) => sql(insert, ["joined"]));
      // Seen on the outer transaction's connection, not yet on another (the embedded database has
      // a single session, where another connection waits for the transaction to end).
      const inside = await withConnection(em, (sql) =>
        sql("select key from idempotency_keys where key = 'joined'"),
      );
      expect(inside).toHaveLength(1);
      if (backend !== "embedded") expect(await keys()).not.toContain("joined");
      throw new Error("the outer transaction fails after the inner work");
    });
    await expect(outer).rejects.toThrow("outer transaction fails");
    expect(await keys()).not.toContain("joined");
  });

  it("gives every connection back, after success and after failure, however many calls", async () => {
    const em = db.orm.em.fork();
    for (let i = 0; i < 40; i++) {
      await withConnection(em, (sql) => sql("select $1::int as n", [i]));
      await expect(withConnection(em, (sql) => sql("select 1/0"))).rejects.toThrow();
      await expect(
        inTransaction(em, async (sql) => {
          await sql("select 1");
          throw new Error("fail");
        }),
      ).rejects.toThrow("fail");
    }
    const [row] = await withConnection(em, (sql) => sql<{ n: number }>("select 7 as n"));
    expect(row?.n).toBe(7);
  });

  it("reports a unique violation from the driver as the domain's conflict code", async () => {
    await inTransaction(db.orm.em.fork(), (sql) => sql(insert, ["unique-once"]));
    const again = onUniqueViolation(
      () => inTransaction(db.orm.em.fork(), (sql) => sql(insert, ["unique-once"])),
      "CONFLICT",
      "taken",
      "idempotency_keys_principal_key_unique",
    );
    await expect(again).rejects.toMatchObject({ code: "CONFLICT", message: "taken" });
    const otherConstraint = onUniqueViolation(
      () => inTransaction(db.orm.em.fork(), (sql) => sql(insert, ["unique-once"])),
      "CONFLICT",
      "taken",
      "some_other_constraint",
    );
    await expect(otherConstraint).rejects.not.toBeInstanceOf(DomainError);
  });
});
