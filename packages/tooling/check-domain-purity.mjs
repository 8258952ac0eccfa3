#!/usr/bin/env node
// Fails when packages/domain reaches outside itself: a non-relative import, a runtime
// dependency, or a read of the clock or of randomness. The domain takes time and ids as
// parameters so that its rules stay deterministic and testable.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = process.argv[2] ?? "packages/domain";
const problems = [];

const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
for (const field of ["dependencies", "peerDependencies", "optionalDependencies"]) {
  if (pkg[field] && Object.keys(pkg[field]).length > 0) {
    problems.push(`package.json: "${field}" must be empty (the domain has no runtime dependencies)`);
  }
}

const importPattern = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)["']([^"']+)["']/gm;
const impurePatterns = [
  [/\bnew Date\(\s*\)/, "reads the clock (new Date())"],
  [/\bDate\.now\(/, "reads the clock (Date.now())"],
  [/\bMath\.random\(/, "uses randomness (Math.random())"],
  [/\brandomUUID\(/, "uses randomness (randomUUID())"],
  [/\bprocess\./, "reads the process environment"],
];

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== "node_modules") walk(path);
    } else if (name.endsWith(".ts")) {
      check(path);
    }
  }
}

function check(path) {
  const text = readFileSync(path, "utf8");
  const isTest = path.endsWith(".test.ts");
  for (const match of text.matchAll(importPattern)) {
    const spec = match[1];
    // Tests may use the test runner and property-testing library; nothing else may leave the package.
    if (spec.startsWith(".")) continue;
    if (isTest && (spec === "vitest" || spec === "fast-check")) continue;
    problems.push(`${relative(".", path)}: imports "${spec}"`);
  }
  if (isTest) return;
  for (const [pattern, what] of impurePatterns) {
    if (pattern.test(text)) problems.push(`${relative(".", path)}: ${what}`);
  }
}

walk(join(root, "src"));
if (problems.length > 0) {
  console.error("packages/domain must stay framework-free and I/O-free:");
  for (const p of problems) console.error(`  - ${p}`);
  process.exit(1);
}
console.log("domain purity: ok");
