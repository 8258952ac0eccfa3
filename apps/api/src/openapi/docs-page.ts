/** A self-contained page (no external scripts) that renders the OpenAPI document at /docs. */
export const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Arcadia Cloud billing core — API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 15px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 980px; padding: 24px; color: #1d232b; }
  h1 { margin-bottom: 4px; } .muted { color: #5c6773; }
  details { border: 1px solid #d8dee4; border-radius: 6px; margin: 8px 0; padding: 8px 12px; }
  summary { cursor: pointer; } code, pre { font: 13px ui-monospace, monospace; }
  pre { background: #f6f8fa; padding: 10px; overflow: auto; border-radius: 4px; }
  .method { display: inline-block; min-width: 64px; font-weight: 600; text-transform: uppercase; }
  .get { color: #1a7f37; } .post { color: #0969da; } .patch { color: #9a6700; } .delete { color: #cf222e; }
</style>
</head>
<body>
<h1>Arcadia Cloud billing core</h1>
<p class="muted">REST under <code>/api/v1</code> (this page), the same operations over tRPC at <code>/trpc</code>.
Send <code>Authorization: Bearer &lt;token&gt;</code>. Raw document: <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</p>
<div id="ops">Loading…</div>
<script>
fetch("/api/v1/openapi.json").then(r => r.json()).then(doc => {
  const root = document.getElementById("ops");
  root.textContent = "";
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const d = document.createElement("details");
      const s = document.createElement("summary");
      s.innerHTML = '<span class="method ' + method + '">' + method + '</span> <code></code> — <span></span>';
      s.querySelector("code").textContent = path;
      s.querySelectorAll("span")[1].textContent = op.summary || "";
      d.appendChild(s);
      const p = document.createElement("p");
      p.textContent = op.description || "";
      d.appendChild(p);
      const pre = document.createElement("pre");
      pre.textContent = JSON.stringify({ parameters: op.parameters, requestBody: op.requestBody, responses: op.responses }, null, 2);
      d.appendChild(pre);
      root.appendChild(d);
    }
  }
}).catch(() => { document.getElementById("ops").textContent = "Could not load the OpenAPI document."; });
</script>
</body>
</html>`;
