/**
 * Traces for the simulator, in one place: the {@link ArrivalSource} contract and limits
 * (arrivals.ts), synthetic specs `synthetic:KIND:key=value:…` ({@link parseTraceSpec},
 * synthetic.ts) and recorded CSV traces ({@link parseTraceCsv}, {@link readTraceCsv},
 * trace-csv.ts). The pieces behind them: intensity.ts (piecewise-constant rates λ(t)) and
 * arrival-sources.ts (the generators over them).
 */

export {
  type ArrivalSource,
  MAX_TRACE_REQUESTS,
  MAX_TRACE_SECONDS,
} from "./arrivals.js";
export {
  parseTraceSpec,
  SYNTHETIC_KINDS,
  type SyntheticKind,
  type SyntheticKindDoc,
  type SyntheticParam,
  type SyntheticParamType,
} from "./synthetic.js";
export {
  MAX_TRACE_LINE,
  parseTraceCsv,
  readTraceCsv,
  TRACE_COUNT_COLUMNS,
  TRACE_RATE_COLUMNS,
  TRACE_TIME_COLUMNS,
  TraceCsvParser,
} from "./trace-csv.js";
