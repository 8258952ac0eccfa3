#!/usr/bin/env node
// Fails on an import cycle or an import that breaks the layer rules of ARCHITECTURE.md
// (dependency-rules.mjs). Run from the repository root: `node packages/tooling/check-dependencies.mjs`.
import { cruise, format } from "dependency-cruiser";
import rules from "./dependency-rules.mjs";

const roots = process.argv.slice(2);
const result = await cruise(roots.length > 0 ? roots : ["apps", "packages"], {
  validate: true,
  ruleSet: { forbidden: rules.forbidden },
  ...rules.options,
});
const report = await format(result.output, { outputType: "err" });
const { violations, totalCruised, totalDependenciesCruised } = result.output.summary;
if (violations.length > 0) {
  console.error(report.output);
  process.exit(1);
}
console.log(`dependencies: ok (${totalCruised} modules, ${totalDependenciesCruised} imports, no cycles)`);
