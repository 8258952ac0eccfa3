import { ensureBootstrapToken, newId, useCaseContext } from "@arcadia/db";
import { type Backend, createTestDatabase, type TestDatabase } from "@arcadia/db/testing";
import { DEFAULT_REGIONS } from "@arcadia/domain";
import { createLogger, Metrics } from "@arcadia/runtime";
import { newApp } from "../app.ts";
import { listen } from "../listen.ts";
import type { Services } from "../services.ts";

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON
export interface HttpResult<T = any> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

export interface RequestOptions {
  readonly token?: string | null;
  readonly body?: unknown;
  /** Sent as is (for malformed-JSON cases). */
  readonly rawBody?: string;
  readonly headers?: Record<string, string>;
}

export interface Harness {
  readonly url: string;
  readonly db: TestDatabase;
  readonly adminToken: string;
  /** The app's metrics (what `GET /metrics` serves). */
  readonly metrics: Metrics;
  /** Error log lines the server wrote (unexpected errors only). */
  readonly serverErrors: string[];
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON
  request<T = any>(method: string, path: string, options?: RequestOptions): Promise<HttpResult<T>>;
  /** A tenant with an admin and a viewer token, made over the API itself (a sandbox with `testClock`). */
  tenant(slug?: string, options?: { testClock?: { frozenAt: string } }): Promise<TenantTokens>;
  /** A fixture deployment (au-syd) made with `token`; its id. */
  deployment(token: string, slug: string, displayName?: string): Promise<string>;
  close(): Promise<void>;
}

export interface TenantTokens {
  readonly tenantId: string;
  readonly admin: string;
  readonly viewer: string;
}

let tenantCounter = 0;

/** The real app on a real port against a fresh database of its own (embedded or PostgreSQL). */
export async function startHarness(
  backend: Backend,
  options: { webhookAllowPrivateNetworks?: boolean } = {},
): Promise<Harness> {
  const db = await createTestDatabase(backend);
  const serverErrors: string[] = [];
  const services: Services = {
    orm: db.orm,
    now: () => new Date(),
    regions: DEFAULT_REGIONS,
    logger: createLogger("error", {}, (line) => serverErrors.push(line)),
    metrics: new Metrics({ service: "api", processMetrics: false }),
    webhookAllowPrivateNetworks: options.webhookAllowPrivateNetworks ?? false,
  };
  const adminToken = `test-admin-${newId()}`;
  await ensureBootstrapToken(useCaseContext(db.orm.em.fork(), services.now, DEFAULT_REGIONS), adminToken);
  const app = newApp(services);
  const { server, port } = await listen(app, 0, "127.0.0.1");
  const url = `http://127.0.0.1:${port}`;

  const request = async <T>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<HttpResult<T>> => {
    const headers: Record<string, string> = { ...options.headers };
    const token = options.token === undefined ? adminToken : options.token;
    if (token) headers.authorization = `Bearer ${token}`;
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers["content-type"] = "application/json";
    }
    const response = await fetch(url + path, { method, headers, body });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body: parsed as T, headers: response.headers };
  };

  return {
    url,
    db,
    adminToken,
    metrics: services.metrics!,
    serverErrors,
    request,
    async deployment(token: string, slug: string, displayName = slug) {
      const r = await request<{ id: string }>("POST", "/api/v1/deployments", {
        token,
        body: { slug, displayName, region: "au-syd" },
      });
      if (r.status !== 201) throw new Error(`deployment: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body.id;
    },
    async tenant(slug = `tenant-${++tenantCounter}-${newId().slice(-8)}`, options = {}) {
      const tenant = await request<{ id: string }>("POST", "/api/v1/tenants", {
        body: { slug, name: slug, ...options },
      });
      if (tenant.status !== 201) throw new Error(`tenant: ${tenant.status} ${JSON.stringify(tenant.body)}`);
      const token = async (role: string) => {
        const r = await request<{ token: string }>("POST", "/api/v1/tokens", {
          body: { role, tenantId: tenant.body.id, name: role },
        });
        if (r.status !== 201) throw new Error(`token: ${r.status} ${JSON.stringify(r.body)}`);
        return r.body.token;
      };
      return {
        tenantId: tenant.body.id,
        admin: await token("tenant_admin"),
        viewer: await token("tenant_viewer"),
      };
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      });
      await db.close();
    },
  };
}
