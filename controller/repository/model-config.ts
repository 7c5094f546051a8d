import type { Problem } from "../diagnostics/problem.js";
import type { ModelConfig } from "./model-config.generated.js";
import { describeMessage, type MessageInfo } from "./pbtxt/descriptor.js";
import { formatTextFormat } from "./pbtxt/format.js";
import { type PositionIndex, parseTextFormat } from "./pbtxt/parse.js";
import { modelConfigType } from "./pbtxt/schema.js";
import type { PbMessage } from "./pbtxt/value.js";

export type * from "./model-config.generated.js";
export type { PositionIndex } from "./pbtxt/parse.js";

/** A parsed `config.pbtxt`: the config, where each field was written, and every problem. */
export interface ParsedModelConfig {
  readonly file: string;
  readonly config: ModelConfig;
  readonly positions: PositionIndex;
  /** Syntax and schema problems (unknown fields, bad enums, ranges, duplicates); empty when valid. */
  readonly problems: readonly Problem[];
  /** False when a syntax error stopped the parse (its problem is the last one); see ParseResult. */
  readonly complete: boolean;
}

let info: MessageInfo | undefined;
function modelConfigInfo(): MessageInfo {
  info ??= describeMessage(modelConfigType());
  return info;
}

/**
 * Parses a Triton `config.pbtxt` (protobuf text format of `inference.ModelConfig`),
 * driven by `protos/model_config.proto`. Never throws on bad input: problems come back
 * as `file:line:col: path: message` entries, all of them.
 */
export function parseModelConfig(text: string, file: string): ParsedModelConfig {
  const r = parseTextFormat(modelConfigInfo(), text, file);
  // The parser walked the ModelConfig descriptor, so the value has the generated shape.
  return {
    file,
    config: r.message as ModelConfig,
    positions: r.positions,
    problems: r.problems,
    complete: r.complete,
  };
}

/** Canonical text of a ModelConfig (field-number order, two-space indent). */
export function formatModelConfig(config: ModelConfig): string {
  return formatTextFormat(modelConfigInfo(), config as PbMessage);
}

/**
 * The position of `path`, or of its nearest recorded ancestor (`a.b[2].c` → `a.b[2]` → `a.b` → `a`).
 */
export function positionOf(positions: PositionIndex, path: string): { line: number; col: number } {
  let p = path;
  for (;;) {
    const pos = positions.get(p);
    if (pos) return pos;
    const cut = Math.max(p.lastIndexOf("."), p.lastIndexOf("["));
    if (cut <= 0) return { line: 1, col: 1 };
    p = p.slice(0, cut);
  }
}
