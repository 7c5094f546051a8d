/**
 * What commands read, through the one input reader: ModelPool files, latency profiles,
 * and the `--max-input-size` flag that raises the whole-file limit.
 */
import { InputError } from "../diagnostics/problem.js";
import { nodeFileReader } from "../io/node-file-reader.js";
import { type ModelPoolResult, type Policy, parseModelPool } from "../policy/index.js";
import { listTemplates } from "../repository/templates.js";
import { type LatencyProfile, parseProfile } from "../simulate/profile.js";
import {
  DEFAULT_INPUT_LIMIT_BYTES,
  formatBytes,
  type InputReader,
  type InputText,
  type ReadOptions,
} from "../util/input.js";
import { parseNumber } from "../util/number.js";
import { templatesDir } from "../util/package-root.js";
/** Reads a whole text input; an input that cannot be read throws its problems. */
export async function readInputText(
  reader: InputReader,
  path: string,
  options?: ReadOptions,
): Promise<InputText> {
  const r = await reader.readText(path, options);
  if (!r.ok) throw new InputError(r.problems);
  return r.input;
}

/** The model templates shipped with tritonscale (folders of its repo-templates/). */
export function shippedTemplates(): readonly string[] {
  return listTemplates(nodeFileReader, templatesDir);
}

/**
 * Reads and checks a ModelPool file (or `-`); every problem, unreadable files included.
 * Model templates are checked against the shipped ones, in the same pass as the rest.
 */
export async function readModelPool(
  reader: InputReader,
  path: string,
  options?: ReadOptions,
): Promise<ModelPoolResult> {
  const r = await reader.readText(path, { expected: "a ModelPool (YAML)", ...options });
  if (!r.ok) return { problems: r.problems };
  return parseModelPool(r.input.text, r.input.file, { templates: shippedTemplates() });
}

/** Reads and checks a ModelPool; throws InputError with every problem. */
export async function loadPolicy(
  reader: InputReader,
  path: string,
  options?: ReadOptions,
): Promise<Policy> {
  const r = await readModelPool(reader, path, options);
  if (r.policy === undefined) throw new InputError(r.problems);
  return r.policy;
}

/** A profile from the command line: a spec such as `linear:a=4,b=2.2`, or a CSV file to read. */
export async function loadProfile(
  reader: InputReader,
  spec: string,
  options?: ReadOptions,
): Promise<LatencyProfile> {
  if (/^[a-z]+:/.test(spec) || spec === "default") return parseProfile(spec, "--profile");
  const input = await readInputText(reader, spec, {
    expected: "a latency profile (perf_analyzer or Model Analyzer CSV)",
    ...options,
  });
  return parseProfile(input.text, input.file);
}

/** The `--max-input-size` option every command that reads whole files takes. */
export const INPUT_SIZE_OPTION = {
  "max-input-size": { type: "string" },
} as const;

/** Help text for {@link INPUT_SIZE_OPTION}. */
export const INPUT_SIZE_HELP = `  --max-input-size <n>  largest input file read whole, e.g. 32MiB (default: ${formatBytes(DEFAULT_INPUT_LIMIT_BYTES)})`;

const UNITS: Readonly<Record<string, number>> = {
  "": 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  kib: 1024,
  m: 1e6,
  mb: 1e6,
  mib: 1024 ** 2,
  g: 1e9,
  gb: 1e9,
  gib: 1024 ** 3,
};

/**
 * Parses a size such as `8MiB`, `20MB`, `5000000`: a positive number and an optional
 * unit (B, KB/KiB, MB/MiB, GB/GiB, case-insensitive). Returns bytes, or a message.
 */
export function parseSize(text: string): { bytes: number } | { message: string } {
  const m = /^\s*([0-9.eE+-]+)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  const n = m ? parseNumber(m[1]!, { greaterThan: 0 }) : undefined;
  if (!m || unit === undefined || n === undefined || !n.ok) {
    return { message: `must be a size such as 16MiB, 20MB or 5000000 (got "${text}")` };
  }
  const bytes = Math.floor(n.value * unit);
  if (!Number.isSafeInteger(bytes) || bytes < 1) {
    return { message: `must be from 1 byte to 8 PiB (got "${text}")` };
  }
  return { bytes };
}

/** The read options of a command line's `--max-input-size`, or a usage message. */
export function inputSizeOptions(value: string | undefined): ReadOptions | string {
  if (value === undefined) return {};
  const r = parseSize(value);
  return "message" in r ? `--max-input-size ${r.message}` : { limitBytes: r.bytes };
}
