/**
 * Start-up benchmark (`npm run bench`, or `node dist/bench/startup.js` alone): how long the
 * `tritonscale` command takes for quick commands, as a ratio to bare Node (`node -e 0`)
 * measured in the same run. Each command loads only its own modules, so `--version` should
 * cost about what Node itself does, and `validate` or `config lint` of one file a few
 * times that.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { packageRoot } from "../controller/util/package-root.js";

const runs = process.argv.includes("--quick") ? 5 : 15;
const main = join(packageRoot, "dist", "controller", "cli", "main.js");
const pool = join(packageRoot, "examples", "yolov8-pool.yaml");
const config = join(packageRoot, "test", "fixtures", "lint-repo", "detection", "config.pbtxt");

/** The median wall-clock milliseconds of `runs` runs of `node ...args`. */
function median(args: readonly string[]): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0 && !(args.includes("lint") && r.status === 1)) {
      throw new Error(`node ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
    }
    times.push(ms);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

const cases: { label: string; args: string[] }[] = [
  { label: "tritonscale --version", args: [main, "--version"] },
  { label: "tritonscale --help", args: [main, "--help"] },
  { label: "tritonscale validate <one pool>", args: [main, "validate", pool] },
  { label: "tritonscale config lint <one config>", args: [main, "config", "lint", config] },
  { label: "tritonscale render <one pool>", args: [main, "render", pool] },
];

const bare = median(["-e", "0"]);
console.log(`\n# Start-up: median of ${runs} runs, as a ratio to bare Node`);
console.log(`node -e 0: ${bare.toFixed(0)} ms (baseline)`);
console.log("| command | ms | × bare Node |");
console.log("|---|---:|---:|");
for (const c of cases) {
  const ms = median(c.args);
  console.log(`| ${c.label} | ${ms.toFixed(0)} | ${(ms / bare).toFixed(2)}× |`);
}
