/**
 * Triton's gRPC API (protos/grpc_service.proto, package `inference`), the few calls the
 * controller needs: ServerReady, ModelReady and ModelStatistics. Loaded with
 * @grpc/proto-loader as upstream's clients do: `keepCase` (field names as in the proto:
 * `inference_count`, `compute_infer`) and `longs: String` (uint64 counters and nanoseconds
 * exceed 2^53, so they arrive as decimal strings).
 *
 * Every call has a deadline; a failed call rejects with an Error naming the address, the
 * call and the gRPC status (`127.0.0.1:8001 ModelReady yolov8s: DEADLINE_EXCEEDED: ...`).
 */
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { packageRoot } from "../util/package-root.js";

/** proto-loader options shared by the client and the test stand-in. */
export const TRITON_PROTO_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

let cached: grpc.ServiceClientConstructor | undefined;

/** The `inference.GRPCInferenceService` definition loaded from protos/grpc_service.proto. */
export function loadTritonService(): grpc.ServiceClientConstructor {
  if (cached) return cached;
  const dir = join(packageRoot, "protos");
  const def = protoLoader.loadSync(join(dir, "grpc_service.proto"), {
    ...TRITON_PROTO_OPTIONS,
    includeDirs: [dir],
  });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    inference: { GRPCInferenceService: grpc.ServiceClientConstructor };
  };
  cached = pkg.inference.GRPCInferenceService;
  return cached;
}

/** `StatisticDuration`: a cumulative count and total time, both uint64 as decimal strings. */
export interface StatisticDuration {
  readonly count: string;
  /** Total duration in nanoseconds. */
  readonly ns: string;
}

/** The part of `InferStatistics` the controller reads. */
export interface InferStatistics {
  readonly success: StatisticDuration;
  readonly fail: StatisticDuration;
  /** Time requests waited in the scheduler queue, ns. */
  readonly queue: StatisticDuration;
  readonly compute_input: StatisticDuration;
  /** Model execution time, ns. */
  readonly compute_infer: StatisticDuration;
  readonly compute_output: StatisticDuration;
  readonly cache_hit: StatisticDuration;
  readonly cache_miss: StatisticDuration;
}

/** `ModelStatistics` of one model version, as the proto names its fields. */
export interface ModelStatistics {
  readonly name: string;
  readonly version: string;
  /** Milliseconds since the epoch of the last inference; "0" if never run. */
  readonly last_inference: string;
  /** Inferences (a batch of n counts n). */
  readonly inference_count: string;
  /** Model executions (a batch counts once). */
  readonly execution_count: string;
  readonly inference_stats: InferStatistics;
  readonly batch_stats: readonly {
    readonly batch_size: string;
    readonly compute_input: StatisticDuration;
    readonly compute_infer: StatisticDuration;
    readonly compute_output: StatisticDuration;
  }[];
}

/** Options of {@link TritonClient}. */
export interface TritonClientOptions {
  /**
   * Deadline of each call, milliseconds.
   * @default 2000
   */
  readonly deadlineMs?: number;
  /** Channel credentials. @default insecure (Triton's gRPC port inside the cluster) */
  readonly credentials?: grpc.ChannelCredentials;
}

type Unary = (
  req: object,
  meta: grpc.Metadata,
  opts: grpc.CallOptions,
  cb: (err: grpc.ServiceError | null, res?: unknown) => void,
) => grpc.ClientUnaryCall;

/** A client of one Triton server's gRPC port (`host:port`). */
export class TritonClient {
  private readonly client: grpc.Client;
  private readonly deadlineMs: number;

  constructor(
    readonly address: string,
    options: TritonClientOptions = {},
  ) {
    const Service = loadTritonService();
    this.deadlineMs = options.deadlineMs ?? 2000;
    this.client = new Service(address, options.credentials ?? grpc.credentials.createInsecure(), {
      // Fail fast on a dead pod instead of waiting out backoff on the next call.
      "grpc.initial_reconnect_backoff_ms": 200,
      "grpc.max_reconnect_backoff_ms": 2000,
    });
  }

  private call<T>(method: string, req: object, what = method): Promise<T> {
    const fn = (this.client as unknown as Record<string, Unary>)[method]!;
    return new Promise<T>((resolve, reject) => {
      fn.call(
        this.client,
        req,
        new grpc.Metadata(),
        { deadline: Date.now() + this.deadlineMs },
        (err, res) => {
          if (err) {
            const code = grpc.status[err.code] ?? String(err.code);
            reject(new Error(`${this.address} ${what}: ${code}: ${err.details || err.message}`));
          } else resolve(res as T);
        },
      );
    });
  }

  /** Whether the server is ready for inference (`ServerReady`). */
  async serverReady(): Promise<boolean> {
    return (await this.call<{ ready: boolean }>("ServerReady", {})).ready;
  }

  /** Whether `name` (version `version`, or the server's choice when empty) is ready. */
  async modelReady(name: string, version = ""): Promise<boolean> {
    const r = await this.call<{ ready: boolean }>(
      "ModelReady",
      { name, version },
      `ModelReady ${name}${version ? `/${version}` : ""}`,
    );
    return r.ready;
  }

  /** Statistics of `name` (all models when empty), all versions when `version` is empty. */
  async modelStatistics(name = "", version = ""): Promise<ModelStatistics[]> {
    const r = await this.call<{ model_stats: ModelStatistics[] }>(
      "ModelStatistics",
      { name, version },
      `ModelStatistics ${name || "(all)"}`,
    );
    return r.model_stats;
  }

  close(): void {
    this.client.close();
  }
}

/** Nanoseconds (a uint64 decimal string) as microseconds, Triton's metric unit. */
export function nsToUs(ns: string): number {
  // Split to keep precision beyond 2^53 ns (about 104 days of accumulated time).
  const n = BigInt(ns);
  return Number(n / 1000n) + Number(n % 1000n) / 1000;
}

/**
 * Cross-checks a replica's `/metrics` counters (read first) against its gRPC statistics
 * (read after): both count the same completed requests, so each statistic must be at least
 * the counter read before it. Returns what disagrees, in words: a model version the
 * statistics know but `/metrics` does not show (its per-model metrics are off), or a
 * statistic below its counter (the server restarted between the two reads, or one of them
 * is wrong). Durations are compared in µs (statistics are in ns).
 */
export function crossCheckStatistics(
  metrics: readonly {
    readonly model: string;
    readonly version: string;
    readonly counters: {
      readonly requestSuccess?: number;
      readonly inferenceCount?: number;
      readonly execCount?: number;
      readonly queueDurationUs?: number;
      readonly computeInferDurationUs?: number;
    };
  }[],
  stats: readonly ModelStatistics[],
): string[] {
  const out: string[] = [];
  for (const st of stats) {
    const m = metrics.find((x) => x.model === st.name && x.version === st.version);
    if (!m) {
      if (Number(st.inference_stats.success.count) > 0)
        out.push(`${st.name}/${st.version}: in gRPC statistics but not in /metrics`);
      continue;
    }
    const pairs: [string, number | undefined, number][] = [
      ["request success", m.counters.requestSuccess, Number(st.inference_stats.success.count)],
      ["inference count", m.counters.inferenceCount, Number(st.inference_count)],
      ["execution count", m.counters.execCount, Number(st.execution_count)],
      ["queue µs", m.counters.queueDurationUs, nsToUs(st.inference_stats.queue.ns)],
      [
        "compute infer µs",
        m.counters.computeInferDurationUs,
        nsToUs(st.inference_stats.compute_infer.ns),
      ],
    ];
    for (const [what, counter, stat] of pairs) {
      // Whole µs on /metrics against ns in statistics: allow the rounding.
      if (counter !== undefined && stat + 1 < counter)
        out.push(
          `${st.name}/${st.version}: ${what} ${stat} in gRPC statistics, below ${counter} on /metrics read before`,
        );
    }
  }
  return out;
}
