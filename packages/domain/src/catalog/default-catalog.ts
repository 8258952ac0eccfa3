import type { AddonInput, Includes, PlanVersionInput } from "./catalog.ts";

/** The catalog a fresh database starts with (SPEC §3.3). */
export const DEFAULT_CATALOG: {
  readonly plans: readonly {
    code: string;
    name: string;
    version: PlanVersionInput & { includes: Includes };
  }[];
  readonly addons: readonly AddonInput[];
} = {
  plans: [
    {
      code: "hobby",
      name: "Hobby",
      version: { priceCents: 0, currency: "AUD", trialDays: 14, includes: { storage: "1", compute: "0.5" } },
    },
    {
      code: "studio",
      name: "Studio",
      version: {
        priceCents: 4900,
        currency: "AUD",
        trialDays: 14,
        includes: { storage: "10", compute: "1" },
      },
    },
    {
      code: "scale",
      name: "Scale",
      version: {
        priceCents: 19900,
        currency: "AUD",
        trialDays: 14,
        includes: { storage: "100", compute: "4" },
      },
    },
  ],
  addons: [
    {
      code: "storage_50gb",
      name: "Storage 50 GB",
      resourceKind: "storage",
      qty: "50",
      priceCents: 750,
      currency: "AUD",
    },
    {
      code: "compute_2vcpu",
      name: "Compute 2 vCPU",
      resourceKind: "compute",
      qty: "2",
      priceCents: 2000,
      currency: "AUD",
    },
    {
      code: "llm_tokens_1m",
      name: "LLM tokens 1M",
      resourceKind: "llm_tokens",
      qty: "1000000",
      priceCents: 1500,
      currency: "AUD",
    },
  ],
};
