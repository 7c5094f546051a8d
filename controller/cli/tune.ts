import { parseArgs } from "node:util";
import { type Document, isMap, isSeq, parseDocument } from "yaml";
import { InputError } from "../diagnostics/problem.js";
import { loadModelPool, parseModelPool } from "../policy/index.js";
import {
  type ChosenProfile,
  chooseProfile,
  type StoredProfile,
  storedProfileOf,
} from "../simulate/pool-profile.js";
import { DEFAULT_PROFILE, DEFAULT_PROFILE_SPEC } from "../simulate/profile.js";
import { simulatedModel } from "../simulate/setup.js";
import { type TuneCandidate, tuneBatching } from "../simulate/tune.js";
import { writeFileAtomic } from "../util/atomic-file.js";
import { assertOutputPath } from "../util/output-path.js";
import { checkModelName, flagNumber } from "./flags.js";
import { INPUT_SIZE_HELP, inputSizeOptions, loadProfile, readInputText } from "./inputs.js";
import {
  badValue,
  type CommandIO,
  commandLine,
  ExitCode,
  inputsOf,
  processIO,
  reportInputErrors,
  usageError,
} from "./io.js";

const HELP = `Usage: tritonscale tune [--profile <csv|linear:...>] (--slo-p99 <ms> | --pool <pool.yaml> [--model <name>] [--write])

Chooses max_batch_size, preferred_batch_size, max_queue_delay_microseconds and the
instance count that give the most requests per second per GPU with p99 latency inside
the SLO, using the simulator's model of Triton's dynamic batcher — offline, no GPU.
Prints the dynamic_batching block, the per-replica capacity and the profile used; with
--pool --write, writes them into the pool's model (comments kept), with the --profile
it measured as spec.models[].profile.

Options:
  --profile <spec>   perf_analyzer or Model Analyzer CSV, or linear:a=<ms>,b=<ms>
                     (default: the pool model's spec.models[].profile, else ${DEFAULT_PROFILE_SPEC},
                     an assumption that --write does not store)
  --slo-p99 <ms>     the p99 latency objective (default: the pool's slo.latencyP99Ms)
  --pool <file>      a ModelPool whose model to tune
  --model <name>     which pool model (default: the first)
  --write            write the result into --pool
  --top <n>          list the n best configurations, 1 or more (default 5)
${INPUT_SIZE_HELP}
  -h, --help         show this help

Exit code: 0 on success, 1 when an input has a problem (or cannot be read, or no
configuration meets the SLO), 2 for a bad command line.
`;

/** `tritonscale tune`. */
export async function runTune(argv: readonly string[], io: CommandIO = processIO): Promise<number> {
  const args = commandLine(io, "tune", HELP, argv, parse);
  if (typeof args === "number") return args;
  const { values } = args;
  if ((values["slo-p99"] === undefined && !values.pool) || (values.write && !values.pool)) {
    return usageError(io, "tune", "needs --slo-p99 or --pool (--write needs --pool)", HELP);
  }
  if (values.write && values.pool === "-") {
    return usageError(io, "tune", "--write needs a pool file, not standard input", HELP);
  }
  if (values.model !== undefined && !values.pool) {
    return usageError(io, "tune", "--model needs --pool", HELP);
  }
  const top = flagNumber("top", values.top, 5, { integer: true, min: 1 });
  if (typeof top === "string") return badValue(io, "tune", top);
  const sloFlag = flagNumber("slo-p99", values["slo-p99"], 0, { greaterThan: 0 });
  if (typeof sloFlag === "string") return badValue(io, "tune", sloFlag);
  const limits = inputSizeOptions(values["max-input-size"]);
  if (typeof limits === "string") return badValue(io, "tune", limits);
  const profileSpec = values.profile;
  const inputs = inputsOf(io);
  return reportInputErrors(io, async () => {
    const poolInput = values.pool
      ? await readInputText(inputs, values.pool, { expected: "a ModelPool (YAML)", ...limits })
      : undefined;
    const policy = poolInput ? loadModelPool(poolInput.text, poolInput.file) : undefined;
    if (policy) {
      const badModel = checkModelName(values.model, policy);
      if (badModel) return badValue(io, "tune", badModel);
    }
    if (values.write && values.pool) assertOutputPath(values.pool, "file");
    const sloMs = values["slo-p99"] !== undefined ? sloFlag : policy!.spec.slo.latencyP99Ms;
    const given =
      profileSpec === undefined ? undefined : await loadProfile(inputs, profileSpec, limits);
    const chosen: ChosenProfile = policy
      ? chooseProfile(policy, simulatedModel(policy, values.model), given)
      : given
        ? { profile: given, origin: "command-line", from: "--profile" }
        : {
            profile: DEFAULT_PROFILE,
            origin: "default",
            from: "the default (no --profile and no --pool; assumed, not measured)",
          };
    const profile = chosen.profile;
    const ranked = tuneBatching({ profile, sloMs });
    const best = ranked[0];
    if (!best || best.capacity.requestsPerSecond <= 0) {
      io.stderr.write(
        `tritonscale tune: no configuration keeps p99 under ${sloMs} ms with this profile, even at light load\n`,
      );
      return ExitCode.Problems;
    }
    io.stdout.write(
      `recommended of ${ranked.length} configurations for p99 ≤ ${sloMs} ms (the simplest within 1% of the most throughput per GPU):\n\n`,
    );
    io.stdout.write(`${formatBlock(best)}\n`);
    io.stdout.write(
      `per-replica capacity: ${best.capacity.requestsPerSecond.toFixed(1)} req/s at p99 ${best.capacity.p99Ms.toFixed(1)} ms (mean batch ${best.capacity.meanBatch.toFixed(2)}; saturation ${best.capacity.saturationRequestsPerSecond.toFixed(1)} req/s)\n`,
    );
    io.stdout.write(`profile: ${profile.name} from ${chosen.from}\n`);
    if (top > 1 || values.top !== undefined) {
      io.stdout.write(`\n  req/s   p99 ms  max_batch  preferred  delay_us  instances\n`);
      for (const c of ranked.slice(0, top)) {
        io.stdout.write(
          `${c.capacity.requestsPerSecond.toFixed(1).padStart(7)}  ${c.capacity.p99Ms.toFixed(1).padStart(7)}  ${String(c.maxBatchSize).padStart(9)}  ${(c.preferredBatchSizes.join(",") || "-").padStart(9)}  ${String(c.maxQueueDelayMicroseconds).padStart(8)}  ${String(c.instances).padStart(9)}\n`,
        );
      }
    }
    if (values.write && values.pool && policy && poolInput) {
      const model = simulatedModel(policy, values.model);
      const index = policy.spec.models.indexOf(model);
      const doc = parseDocument(poolInput.text);
      const at = ["spec", "models", index];
      doc.setIn([...at, "maxBatchSize"], best.maxBatchSize);
      doc.setIn([...at, "instances"], best.instances);
      doc.setIn([...at, "batching", "preferredBatchSizes"], [...best.preferredBatchSizes]);
      doc.setIn([...at, "batching", "maxQueueDelayMicroseconds"], best.maxQueueDelayMicroseconds);
      const stored = profileToStore(chosen, best.maxBatchSize, model.profile?.source);
      if (stored !== undefined) setProfile(doc, [...at, "profile"], stored);
      const updated = doc.toString();
      const check = parseModelPool(updated, values.pool); // never write a pool that no longer loads
      if (check.policy === undefined) throw new InputError(check.problems);
      await writeFileAtomic(values.pool, updated);
      const fields = `maxBatchSize, instances, batching${stored === undefined ? "" : ", profile"}`;
      io.stdout.write(
        `\nwrote spec.models[${index}] (${model.name}) of ${values.pool}: ${fields}\n`,
      );
      if (chosen.origin === "default") {
        io.stdout.write(
          `profile not written: the default ${DEFAULT_PROFILE_SPEC} is an assumption, not a measurement; pass --profile <perf_analyzer.csv> to store a measured one\n`,
        );
      }
    }
    return ExitCode.Ok;
  });
}

/** Longest `profile.source` a pool accepts (its schema's maxLength). */
const SOURCE_MAX = 256;

/**
 * What `--write` stores in `spec.models[].profile`: the --profile it read (a CSV as a table
 * at its measured batch sizes within the chosen maxBatchSize, its name as `source`); the
 * pool's own profile again only when the new maxBatchSize cuts its table; never the
 * default, which is an assumption (undefined: leave the field as it is).
 */
export function profileToStore(
  chosen: ChosenProfile,
  maxBatchSize: number,
  poolSource: string | undefined,
): StoredProfile | undefined {
  const p = chosen.profile;
  if (chosen.origin === "default") return undefined;
  if (chosen.origin === "pool") {
    const last = p.definition?.kind === "points" ? p.definition.points.at(-1)?.batch : undefined;
    if (last === undefined || last <= maxBatchSize) return undefined;
    return storedProfileOf(p, maxBatchSize, poolSource);
  }
  const source =
    p.definition?.kind === "linear"
      ? undefined
      : p.name.replace(/[\r\n]+/g, " ").slice(0, SOURCE_MAX);
  return storedProfileOf(p, maxBatchSize, source);
}

/** Sets `spec.models[i].profile` to `stored`, table rows in flow style (`{ batch: 1, ms: 6.2 }`). */
function setProfile(
  doc: Document,
  path: readonly (string | number)[],
  stored: StoredProfile,
): void {
  const node = doc.createNode(stored);
  if (isMap(node)) {
    const table = node.get("table");
    if (isSeq(table)) {
      for (const row of table.items) if (isMap(row)) row.flow = true;
    }
    const linear = node.get("linear");
    if (isMap(linear)) linear.flow = true;
  }
  doc.setIn(path, node);
}

/** The config.pbtxt blocks for a candidate. */
export function formatBlock(c: TuneCandidate): string {
  const lines = [`max_batch_size: ${c.maxBatchSize}`, "dynamic_batching {"];
  if (c.preferredBatchSizes.length > 0)
    lines.push(`  preferred_batch_size: [${c.preferredBatchSizes.join(", ")}]`);
  lines.push(`  max_queue_delay_microseconds: ${c.maxQueueDelayMicroseconds}`, "}");
  lines.push("instance_group {", `  count: ${c.instances}`, "  kind: KIND_GPU", "}");
  return `${lines.join("\n")}\n`;
}

function parse(args: string[]) {
  return parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      profile: { type: "string" },
      "slo-p99": { type: "string" },
      pool: { type: "string" },
      model: { type: "string" },
      write: { type: "boolean" },
      top: { type: "string" },
      "max-input-size": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
}
