// Time pev2's own parser on the inputs benchmarks/plans.py gives it (node + an installed pev2).
//
//   node benchmarks/pev2_parse.mjs PEV2_DIR INPUTS.json REPEAT
//
// INPUTS.json: {"name": [text, ...], ...}. For each name, the best CPU time of REPEAT runs of what the
// pev2 component does with a pasted plan: PlanService.fromSource(text) then createPlan(...)
// (parse, then the per-node figures it shows), over every text of the list in turn.
// pev2 exports only its Vue component, so a copy of its bundle that also exports the
// service class is written beside it (pev2.bench-service.mjs), to resolve its imports.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [dir, inputsPath, repeatArg] = process.argv.slice(2);
const dist = join(dir, "dist");
const bundle = readFileSync(join(dist, "pev2.es.js"), "utf8");
// the class that defines fromSource: the last "class X {" before it
const at = bundle.search(/\n  fromSource\(\w+\) \{/);
const m = at < 0 ? null : bundle.slice(0, at).match(/\nclass (\w+) \{(?![\s\S]*\nclass \w+ \{)/);
if (!m) throw new Error("pev2's PlanService class not found in its bundle (another pev2 version?)");
const copy = join(dist, "pev2.bench-service.mjs");
writeFileSync(copy, bundle + `\nexport { ${m[1]} as PlanService };\n`);
const { PlanService } = await import(pathToFileURL(copy).href);

const inputs = JSON.parse(readFileSync(inputsPath, "utf8"));
const repeat = Number(repeatArg || 5);
const out = {};
for (const [name, texts] of Object.entries(inputs)) {
  let best = Infinity;
  let failed = 0;
  for (let r = 0; r < repeat; r++) {
    failed = 0;
    const t0 = process.cpuUsage();
    for (const text of texts) {
      try {
        const service = new PlanService();
        const source = service.fromSource(text);
        service.createPlan("", source, source["Query Text"] || "");
      } catch {
        failed++;
      }
    }
    const used = process.cpuUsage(t0);  // CPU time, as the Python side counts it: steadier on a busy machine
    best = Math.min(best, (used.user + used.system) / 1e6);
  }
  out[name] = { seconds: best, failed };
}
console.log(JSON.stringify(out));
