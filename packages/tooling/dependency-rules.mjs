// The import rules of ARCHITECTURE.md, checked by dependency-cruiser in `pnpm lint`
// (check-dependencies.mjs). Paths are relative to the repository root.

/** Which workspace packages each one may import (through its `exports` map). */
const MAY_IMPORT = {
  "packages/domain": [],
  "packages/contract": ["packages/domain"],
  "packages/runtime": ["packages/domain"],
  "packages/db": ["packages/domain"],
  "apps/worker": ["packages/db", "packages/domain", "packages/runtime"],
  "apps/api": ["packages/contract", "packages/db", "packages/domain", "packages/runtime", "apps/worker"],
  "packages/bench": ["apps/api", "apps/worker", "packages/db", "packages/domain", "packages/runtime"],
  "packages/tooling": [],
};

const literal = (text) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

const layerRules = Object.entries(MAY_IMPORT).map(([from, allowed]) => ({
  name: `layers: ${from}`,
  comment: `${from} may import ${allowed.length ? allowed.join(", ") : "no other workspace package"}`,
  severity: "error",
  from: { path: `^${literal(from)}/` },
  to: {
    path: "^(apps|packages)/",
    pathNot: [`^${literal(from)}/`, ...allowed.map((other) => `^${literal(other)}/`)],
  },
}));

export default {
  forbidden: [
    {
      name: "no-circular",
      comment: "Files that import each other in a loop cannot be read or changed one at a time.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "domain-imports-nothing",
      comment: "packages/domain is business rules only: no framework, no I/O, no Node built-ins.",
      severity: "error",
      from: { path: "^packages/domain/", pathNot: "\\.test\\.ts$" },
      to: { pathNot: "^packages/domain/" },
    },
    {
      name: "contract-imports-only-domain",
      comment: "packages/contract is zod schemas built on the domain's constants.",
      severity: "error",
      from: { path: "^packages/contract/" },
      to: { pathNot: ["^packages/(contract|domain)/", "node_modules/zod/"] },
    },
    {
      name: "through-exports-maps",
      comment:
        "Another package is imported by its name (@arcadia/x, resolved through its `exports` map), never by a relative path into its files.",
      severity: "error",
      from: { path: "^(apps|packages)/([^/]+)/" },
      to: { path: "^(apps|packages)/", pathNot: "^$1/$2/", dependencyTypes: ["local"] },
    },
    {
      name: "resolvable",
      comment: "Every import resolves (a deep import past a package's `exports` map does not).",
      severity: "error",
      from: {},
      to: { couldNotResolve: true },
    },
    ...layerRules,
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)(node_modules|\\.data|dist)/" },
    tsPreCompilationDeps: true,
    combinedDependencies: false,
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      extensions: [".ts", ".mjs", ".js", ".json"],
    },
  },
};
