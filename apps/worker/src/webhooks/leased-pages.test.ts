import type { DueDelivery } from "@arcadia/db";
import { describe, expect, it } from "vitest";
import { LeasedPages } from "./dispatcher.ts";

// A page's lease may go only with its last attempt settled, and never once an attempt of it went
// unrecorded: that attempt has no row and no log line, and only the page's recovery sends it again.

const delivery = (leaseId: string, n: number, paged = true): DueDelivery => ({
  deliveryId: `${leaseId}-${n}`,
  endpointId: "e",
  url: "http://127.0.0.1:9/hooks",
  attempt: 1,
  leaseId: paged ? leaseId : `claim-${leaseId}-${n}`,
  paged,
  secrets: [],
  eventId: `event-${n}`,
  body: "{}",
});

describe("the pages a process holds", () => {
  it("names a page complete only with the statement that settles its last attempts", () => {
    const pages = new LeasedPages();
    const p = [1, 2, 3].map((n) => delivery("p", n));
    const q = [1, 2].map((n) => delivery("q", n));
    const claimed = delivery("c", 1, false);
    pages.add([...p, ...q, claimed]);
    expect(pages.completedBy([p[0]!, claimed])).toEqual([]);
    pages.settle([p[0]!, claimed]);
    // q's two and p's last two in one batch: both complete.
    expect(pages.completedBy([q[0]!, p[1]!, q[1]!, p[2]!]).sort()).toEqual(["p", "q"]);
    pages.settle([q[0]!, p[1]!, q[1]!, p[2]!]);
    // Gone from the books: a page seen again is counted afresh.
    pages.add([delivery("p", 4)]);
    expect(pages.completedBy([delivery("p", 4)])).toEqual(["p"]);
  });

  it("never names complete a page an attempt of which failed to be recorded or handed back", () => {
    const pages = new LeasedPages();
    const p = [1, 2, 3].map((n) => delivery("p", n));
    pages.add(p);
    pages.fail([p[0]!]);
    expect(pages.completedBy([p[1]!, p[2]!])).toEqual([]);
    pages.settle([p[1]!, p[2]!]);
    // Settled to the last, it leaves the books (its lease runs out and is recovered).
    pages.add([delivery("p", 9)]);
    expect(pages.completedBy([delivery("p", 9)])).toEqual(["p"]);
  });
});
