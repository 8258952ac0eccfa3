import { describe, expect, it } from "vitest";
import { configFromEnv } from "./config.ts";

describe("configFromEnv", () => {
  it("applies the SPEC's defaults", () => {
    expect(configFromEnv({})).toMatchObject({
      port: 3000,
      host: "127.0.0.1",
      databaseUrl: null,
      scheduler: true,
      logLevel: "info",
    });
    expect(configFromEnv({}).regions).toEqual(["au-syd", "au-mel", "ap-sgp", "eu-fra", "us-iad"]);
  });

  it("reads overrides and refuses nonsense", () => {
    expect(configFromEnv({ PORT: "8080", SCHEDULER: "off", REGIONS: "a, b" })).toMatchObject({
      port: 8080,
      scheduler: false,
      regions: ["a", "b"],
    });
    expect(() => configFromEnv({ PORT: "http" })).toThrow(/PORT/);
    expect(() => configFromEnv({ LOG_LEVEL: "loud" })).toThrow(/LOG_LEVEL/);
  });
});
