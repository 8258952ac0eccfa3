import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "../database.ts";
import { createDeployment } from "../deployments/deployments.ts";
import { deploymentDocument, operator, TestClock, tenantFixture, testContext } from "../testing/index.ts";
import { startEmbeddedPostgres } from "./embedded-postgres.ts";

describe("the embedded database", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "arcadia-embedded-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("keeps its data in the folder across a restart", async () => {
    const clock = new TestClock(new Date("2026-11-10T00:00:00Z"));
    const first = await openDatabase({ dataDir, embeddedPort: 0 });
    expect(first.kind).toBe("embedded");
    expect(first.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    const tenant = await tenantFixture(first.orm, clock);
    const { deployment } = await createDeployment(testContext(first.orm, clock), tenant.admin, {
      slug: "durable",
      displayName: "Durable",
      region: "eu-fra",
    });
    await first.close();

    const second = await openDatabase({ dataDir, embeddedPort: 0 });
    try {
      const doc = await deploymentDocument(testContext(second.orm, clock), operator, deployment.id);
      expect(doc.deployment.slug).toBe("durable");
      expect(doc.events).toHaveLength(1);
      const rows = await second.orm.em.getConnection().execute("select count(*)::int as n from plans");
      expect(rows[0]?.n).toBe(3); // seeded once, not twice
    } finally {
      await second.close();
    }
  });

  it("hands a second process the running server's URL instead of opening the folder twice", async () => {
    const owner = await startEmbeddedPostgres({ dataDir, port: 0 });
    try {
      // A lock file naming a live process other than us (our parent) stands for another owner.
      const { writeFileSync } = await import("node:fs");
      writeFileSync(
        join(dataDir, "arcadia-server.json"),
        JSON.stringify({ pid: process.ppid, url: owner.url }),
      );
      const joined = await startEmbeddedPostgres({ dataDir, port: 0 });
      expect(joined.owned).toBe(false);
      expect(joined.url).toBe(owner.url);
    } finally {
      await owner.stop();
    }
  });
});
