import { afterAll, describe, expect, it } from "vitest";
import { startReceiver } from "./receiver.testing.ts";
import { createWebhookSender } from "./sender.ts";

// SPEC §3.9: any 2xx within 10 s is success. The sender's deadlines are swept periodically, so
// an answer can arrive after the deadline before the sweep ends the attempt: it must not count.
describe("the sender's timeout", () => {
  const timeoutMs = 2000;
  const sender = createWebhookSender({ allowPrivateNetworks: true, timeoutMs });
  afterAll(() => sender.close());
  const secrets = ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"];

  it("an answer that comes after the timeout, before the sweep, is a failed attempt, not a success", async () => {
    const late = await startReceiver(
      () => new Promise<number>((resolve) => setTimeout(() => resolve(204), timeoutMs + 60)),
    );
    const hanging = await startReceiver(() => "hang");
    try {
      // An attempt in flight already, so the sweep runs on its own period (250 ms for this
      // timeout), about half of which passes before the late attempt starts: its answer, 60 ms
      // past its deadline, comes before the sweep that would end it.
      const first = sender.send({ url: hanging.url, id: "msg_hanging", body: "{}", secrets }, 0);
      await new Promise((resolve) => setTimeout(resolve, 130));
      const result = await sender.send({ url: late.url, id: "msg_late", body: "{}", secrets }, 0);
      await first;
      expect(late.received).toHaveLength(1);
      expect(result).toMatchObject({ responseStatus: null, error: `no answer within ${timeoutMs} ms` });
      expect(result.durationMs).toBeGreaterThanOrEqual(timeoutMs);
    } finally {
      await late.close();
      await hanging.close();
    }
  });

  it("an answer within the timeout counts", async () => {
    const quick = await startReceiver(() => 204);
    try {
      expect(await sender.send({ url: quick.url, id: "msg_quick", body: "{}", secrets }, 0)).toMatchObject({
        responseStatus: 204,
        error: null,
      });
    } finally {
      await quick.close();
    }
  });
});
