// The stronger floor for reads: node:http + pg and nothing else. PostgreSQL builds each answer as
// JSON text in the contract's shape (`@arcadia/db/json-reads`, one named prepared query per
// read), and the text goes to the socket as it arrives: no rows parsed into objects, no mapping,
// presenting or stringify. Tokens are cached for five seconds, as the API does. What a read costs
// here is what this machine needs at the least to serve it; `bare-server.ts` (rows → objects →
// JSON) stays beside it as the floor of the old read path.
import { createServer, type ServerResponse } from "node:http";
import {
  DEPLOYMENT_DOCUMENT_JSON,
  deploymentsPage,
  invoicesPage,
  type Prepared,
} from "@arcadia/db/json-reads";
import pg from "pg";
import { tokenCache } from "./token-cache.ts";

const pool = new pg.Pool({ connectionString: process.argv[2], max: 10 });
pool.on("error", () => {}); // an idle client dropped by the server is simply replaced

const principal = tokenCache(pool);

function send(res: ServerResponse, status: number, text: string) {
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

const NOT_FOUND = JSON.stringify({ error: { code: "NOT_FOUND", message: "Deployment not found." } });
const DOCUMENT = /^\/api\/v1\/deployments\/([0-9a-f-]{36})$/;
const LIST = /^\/api\/v1\/(deployments|invoices)\?limit=(\d+)$/;
const LISTS: Record<string, Prepared> = {
  deployments: deploymentsPage({ tenant: false, state: false, cursor: false }),
  invoices: invoicesPage({ tenant: false, deployment: false, cursor: false }),
};
const tenantLists: Record<string, Prepared> = {
  deployments: deploymentsPage({ tenant: true, state: false, cursor: false }),
  invoices: invoicesPage({ tenant: true, deployment: false, cursor: false }),
};

const server = createServer(async (req, res) => {
  try {
    const who = await principal(req.headers.authorization);
    if (!who) return send(res, 401, '{"error":{"code":"UNAUTHENTICATED"}}');
    const url = req.url ?? "";
    const document = req.method === "GET" ? DOCUMENT.exec(url) : null;
    if (document) {
      const { rows } = await pool.query({ ...DEPLOYMENT_DOCUMENT_JSON, values: [document[1]] });
      const row = rows[0];
      if (!row || (who.tenant_id !== null && row.tenant_id !== who.tenant_id))
        return send(res, 404, NOT_FOUND);
      return send(res, 200, row.body);
    }
    const list = req.method === "GET" ? LIST.exec(url) : null;
    if (list) {
      const limit = Number(list[2]);
      const { rows } = await pool.query(
        who.tenant_id === null
          ? { ...LISTS[list[1]!]!, values: [limit] }
          : { ...tenantLists[list[1]!]!, values: [limit, who.tenant_id] },
      );
      const { items, more, last_at: at, last_id: id } = rows[0];
      const cursor = more ? `"${Buffer.from(JSON.stringify([at, id])).toString("base64url")}"` : "null";
      return send(res, 200, `{"items":${items},"nextCursor":${cursor}}`);
    }
    send(res, 404, '{"error":{"code":"NOT_FOUND"}}');
  } catch {
    send(res, 500, '{"error":{"code":"INTERNAL"}}');
  }
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(
    `${JSON.stringify({ port: typeof address === "object" && address ? address.port : 0 })}\n`,
  );
});
process.on("SIGTERM", () => server.close(() => pool.end().then(() => process.exit(0))));
