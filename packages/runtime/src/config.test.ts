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

  it("reads the pooling settings, and refuses a pooling it does not know or one without a URL", () => {
    expect(configFromEnv({})).toMatchObject({ databasePooling: "none", directDatabaseUrl: null });
    const pooled = configFromEnv({
      DATABASE_URL: "postgres://app@pgbouncer:6432/arcadia",
      DATABASE_POOLING: "transaction",
      DIRECT_DATABASE_URL: "postgres://app@db:5432/arcadia",
    });
    expect(pooled).toMatchObject({
      databasePooling: "transaction",
      directDatabaseUrl: "postgres://app@db:5432/arcadia",
    });
    expect(() => configFromEnv({ DATABASE_URL: "postgres://x/y", DATABASE_POOLING: "session" })).toThrow(
      /DATABASE_POOLING/,
    );
    expect(() => configFromEnv({ DATABASE_POOLING: "transaction" })).toThrow(/needs DATABASE_URL/);
  });

  it("reads the metrics port and the keep-alive timeout, which outlasts a 60 s load balancer idle timeout", () => {
    expect(configFromEnv({})).toMatchObject({ metricsPort: null, keepAliveTimeoutMs: 65_000 });
    expect(configFromEnv({}).keepAliveTimeoutMs).toBeGreaterThan(60_000);
    expect(configFromEnv({ METRICS_PORT: "9464", HTTP_KEEP_ALIVE_TIMEOUT_MS: "350000" })).toMatchObject({
      metricsPort: 9464,
      keepAliveTimeoutMs: 350_000,
    });
    expect(() => configFromEnv({ METRICS_PORT: "x" })).toThrow(/METRICS_PORT/);
    expect(() => configFromEnv({ HTTP_KEEP_ALIVE_TIMEOUT_MS: "5" })).toThrow(/HTTP_KEEP_ALIVE_TIMEOUT_MS/);
  });
});
