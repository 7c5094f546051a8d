/**
 * A Triton stand-in for tests: a real gRPC server on protos/grpc_service.proto (ServerLive,
 * ServerReady, ModelReady, ModelStatistics, ModelMetadata) and an HTTP `/metrics` endpoint
 * exporting Triton's metric names, labels, HELP and TYPE lines (shared/reference/triton/
 * metric-catalog.md), whose counters move with a small deterministic load model that the
 * test drives: set an arrival rate, `advance(seconds)`, load or unload models, restart.
 *
 * The load model is a fluid dynamic batcher: per second, λ requests arrive; a batch of b
 * takes `a + b·perImageMs` ms; the batcher forms batches of b = min(maxBatch, max(1,
 * ⌈λ·a/1000⌉)) (more arrive while one batch computes). Capacity is b / (a + b·perImageMs)
 * ms⁻¹; what exceeds it waits (the pending gauge). E.g. a = 4 ms, perImageMs = 2.2 ms,
 * λ = 500 req/s: b = 2, a batch takes 8.4 ms, capacity 238 req/s, so the queue grows by
 * 262 req/s. Counters are exported as whole numbers, as Triton's are.
 *
 * No clock of its own: time moves only with `advance`.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import * as grpc from "@grpc/grpc-js";
import { loadTritonService } from "../../controller/triton/grpc.js";

/** Where a model stands, as Triton's repository index says. */
export type StandinModelState = "loading" | "ready" | "unloaded";

/** One model of the stand-in. */
export interface StandinModelOptions {
  readonly name: string;
  /** @default "1" */
  readonly version?: string;
  /** @default "ready" */
  readonly state?: StandinModelState;
  /** Fixed time of a batch, ms. @default 4 */
  readonly batchMs?: number;
  /** Added time per image of a batch, ms. @default 2.2 */
  readonly perImageMs?: number;
  /** @default 16 */
  readonly maxBatch?: number;
}

/** How `/metrics` answers (for failure tests). */
export type MetricsMode = "ok" | "chunked" | "garbage" | "http-500" | "hang";

interface ModelRun {
  readonly name: string;
  readonly version: string;
  state: StandinModelState;
  readonly batchMs: number;
  readonly perImageMs: number;
  readonly maxBatch: number;
  rate: number;
  pending: number;
  success: number;
  failure: Record<"REJECTED" | "CANCELED" | "BACKEND" | "OTHER", number>;
  inferences: number;
  execs: number;
  requestUs: number;
  queueUs: number;
  inputUs: number;
  inferUs: number;
  outputUs: number;
  busySeconds: number;
  lastInferenceMs: number;
}

const HELP: Record<string, [string, "counter" | "gauge"]> = {
  nv_inference_request_success: [
    "Number of successful inference requests, all batch sizes",
    "counter",
  ],
  nv_inference_request_failure: ["Number of failed inference requests, all batch sizes", "counter"],
  nv_inference_count: [
    "Number of inferences performed (does not include cached requests)",
    "counter",
  ],
  nv_inference_exec_count: [
    "Number of model executions performed (does not include cached requests)",
    "counter",
  ],
  nv_inference_request_duration_us: [
    "Cumulative inference request duration in microseconds (includes cached requests)",
    "counter",
  ],
  nv_inference_queue_duration_us: [
    "Cumulative inference queuing duration in microseconds (includes cached requests)",
    "counter",
  ],
  nv_inference_compute_input_duration_us: [
    "Cumulative compute input duration in microseconds (does not include cached requests)",
    "counter",
  ],
  nv_inference_compute_infer_duration_us: [
    "Cumulative compute inference duration in microseconds (does not include cached requests)",
    "counter",
  ],
  nv_inference_compute_output_duration_us: [
    "Cumulative inference compute output duration in microseconds (does not include cached requests)",
    "counter",
  ],
  nv_inference_pending_request_count: [
    "Instantaneous number of pending requests awaiting execution per-model.",
    "gauge",
  ],
};

const FAILURE_REASONS = ["REJECTED", "CANCELED", "BACKEND", "OTHER"] as const;

/** Options of {@link TritonStandin}. */
export interface TritonStandinOptions {
  readonly models: readonly StandinModelOptions[];
  /** GPUs the replica reports (`nv_gpu_*` per `gpu_uuid`). @default 1 */
  readonly gpus?: number;
  /** A name for the replica identity (`<name>/<incarnation>`). @default "triton-0" */
  readonly name?: string;
  /**
   * Export `nv_inference_request_summary_us` (quantiles 0.5, 0.9, 0.99 with `_sum` and
   * `_count`), as Triton does with `--metrics-config summary_latencies=true`. The fluid
   * load model has no spread between requests, so every quantile is the mean request time
   * so far (Triton's are over a sliding window of the requests themselves). @default false
   */
  readonly summaryLatencies?: boolean;
}

/** A Triton server stand-in on loopback: gRPC and `/metrics`. */
export class TritonStandin {
  private readonly models: ModelRun[];
  private readonly gpus: number;
  private readonly name: string;
  private readonly summaryLatencies: boolean;
  private incarnation = 1;
  private serverReady = true;
  private mode: MetricsMode = "ok";
  private statisticsLag = 0;
  /** Wall-clock ms of the last `/metrics` answer in live mode, or undefined when off. */
  private liveSince: number | undefined;
  /** The live mode's clock, in ms. */
  private liveNow: () => number = Date.now;
  private elapsed = 0;
  private http: Server | undefined;
  private grpc: grpc.Server | undefined;
  private hung: import("node:http").ServerResponse[] = [];
  /** Calls seen by the gRPC server, by method name. */
  readonly calls: Record<string, number> = {};
  metricsPort = 0;
  grpcPort = 0;

  constructor(options: TritonStandinOptions) {
    this.gpus = options.gpus ?? 1;
    this.name = options.name ?? "triton-0";
    this.summaryLatencies = options.summaryLatencies ?? false;
    this.models = options.models.map((m) => ({
      name: m.name,
      version: m.version ?? "1",
      state: m.state ?? "ready",
      batchMs: m.batchMs ?? 4,
      perImageMs: m.perImageMs ?? 2.2,
      maxBatch: m.maxBatch ?? 16,
      ...zero(),
    }));
  }

  /** The replica identity a discovery would report: new after each {@link restart}. */
  get replica(): string {
    return `${this.name}/${this.incarnation}`;
  }

  /** Discovery's view of this replica. */
  endpoint(): { replica: string; host: string; metricsPort: number; grpcPort: number } {
    return {
      replica: this.replica,
      host: "127.0.0.1",
      metricsPort: this.metricsPort,
      grpcPort: this.grpcPort,
    };
  }

  private model(name: string): ModelRun {
    const m = this.models.find((x) => x.name === name);
    if (!m)
      throw new Error(
        `stand-in has no model ${name} (has ${this.models.map((x) => x.name).join(", ")})`,
      );
    return m;
  }

  /** Sets the arrival rate of a model, requests per second. */
  setArrivalRate(model: string, rps: number): void {
    this.model(model).rate = rps;
  }

  /** Loads (`loading` then `ready`) or unloads a model; unloading drops its series and counters. */
  setModelState(model: string, state: StandinModelState): void {
    const m = this.model(model);
    m.state = state;
    if (state !== "ready") Object.assign(m, { ...zero(), rate: m.rate });
  }

  setServerReady(ready: boolean): void {
    this.serverReady = ready;
  }

  /** How `/metrics` answers from now on. */
  setMetricsMode(mode: MetricsMode): void {
    this.mode = mode;
    if (mode !== "hang") for (const r of this.hung.splice(0)) r.destroy();
  }

  /**
   * Live mode, for a real Prometheus scraping on its own schedule: each `/metrics` request
   * first advances the load model by the wall-clock time since the previous one (or by
   * the time of `nowSeconds`, e.g. the accelerated clock a controller under test runs on).
   */
  setLive(on: boolean, nowSeconds?: () => number): void {
    this.liveNow = nowSeconds === undefined ? Date.now : () => nowSeconds() * 1000;
    this.liveSince = on ? this.liveNow() : undefined;
  }

  /** Makes gRPC statistics report `n` fewer successful requests than `/metrics` (a broken server). */
  lagStatistics(n: number): void {
    this.statisticsLag = n;
  }

  /** Adds failed requests of a reason. */
  fail(model: string, reason: (typeof FAILURE_REASONS)[number], n: number): void {
    this.model(model).failure[reason] += n;
  }

  /** A restarted process: every counter from zero, a new replica identity. */
  restart(): void {
    this.incarnation++;
    this.elapsed = 0;
    for (const m of this.models) Object.assign(m, { ...zero(), rate: m.rate });
  }

  /** Moves the load model `seconds` forward. */
  advance(seconds: number): void {
    this.elapsed += seconds;
    for (const m of this.models) {
      if (m.state !== "ready") continue;
      const arrived = m.rate * seconds;
      const b = Math.min(m.maxBatch, Math.max(1, Math.ceil((m.rate * m.batchMs) / 1000)));
      const batchSec = (m.batchMs + b * m.perImageMs) / 1000;
      const capacity = (b / batchSec) * seconds;
      const backlog = m.pending + arrived;
      const served = Math.min(backlog, capacity);
      m.pending = backlog - served;
      const batches = served / b;
      const waitSec =
        (b - 1) / (2 * Math.max(m.rate, 1e-9)) + m.pending / Math.max(b / batchSec, 1e-9);
      m.success += served;
      m.inferences += served;
      m.execs += batches;
      m.queueUs += served * Math.min(waitSec, 60) * 1e6;
      m.inputUs += served * 50;
      m.inferUs += served * batchSec * 1e6;
      m.outputUs += served * 30;
      m.requestUs += served * (Math.min(waitSec, 60) * 1e6 + batchSec * 1e6 + 80);
      m.busySeconds += batches * batchSec;
      if (served > 0) m.lastInferenceMs = Date.UTC(2026, 0, 1) + this.elapsed * 1000;
    }
  }

  /** The `/metrics` text as Triton writes it. */
  metricsText(): string {
    const ready = this.models.filter((m) => m.state === "ready");
    const lines: string[] = [];
    const lbl = (m: ModelRun) => `model="${m.name}",version="${m.version}"`;
    const family = (name: string, rows: string[]) => {
      const [help, type] = HELP[name]!;
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...rows);
    };
    family(
      "nv_inference_request_success",
      ready.map((m) => `nv_inference_request_success{${lbl(m)}} ${Math.floor(m.success)}`),
    );
    family(
      "nv_inference_request_failure",
      ready.flatMap((m) =>
        FAILURE_REASONS.map(
          (r) => `nv_inference_request_failure{${lbl(m)},reason="${r}"} ${m.failure[r]}`,
        ),
      ),
    );
    const counter = (name: string, f: (m: ModelRun) => number) =>
      family(
        name,
        ready.map((m) => `${name}{${lbl(m)}} ${Math.floor(f(m))}`),
      );
    counter("nv_inference_count", (m) => m.inferences);
    counter("nv_inference_exec_count", (m) => m.execs);
    counter("nv_inference_request_duration_us", (m) => m.requestUs);
    counter("nv_inference_queue_duration_us", (m) => m.queueUs);
    counter("nv_inference_compute_input_duration_us", (m) => m.inputUs);
    counter("nv_inference_compute_infer_duration_us", (m) => m.inferUs);
    counter("nv_inference_compute_output_duration_us", (m) => m.outputUs);
    family(
      "nv_inference_pending_request_count",
      ready.map((m) => `nv_inference_pending_request_count{${lbl(m)}} ${Math.floor(m.pending)}`),
    );
    if (this.summaryLatencies) {
      lines.push(
        "# HELP nv_inference_request_summary_us Summary of inference request duration in microseconds (includes cached requests)",
        "# TYPE nv_inference_request_summary_us summary",
      );
      for (const m of ready) {
        const count = Math.floor(m.success);
        const mean = count > 0 ? Math.round(m.requestUs / m.success) : Number.NaN;
        for (const quantile of ["0.5", "0.9", "0.99"])
          lines.push(`nv_inference_request_summary_us{${lbl(m)},quantile="${quantile}"} ${mean}`);
        lines.push(
          `nv_inference_request_summary_us_sum{${lbl(m)}} ${Math.floor(m.requestUs)}`,
          `nv_inference_request_summary_us_count{${lbl(m)}} ${count}`,
        );
      }
    }
    const util = this.gpuUtilization();
    const uuid = (g: number) => `GPU-00000000-0000-0000-0000-${String(g).padStart(12, "0")}`;
    lines.push(
      "# HELP nv_gpu_utilization GPU utilization rate [0.0 - 1.0)",
      "# TYPE nv_gpu_utilization gauge",
    );
    for (let g = 0; g < this.gpus; g++)
      lines.push(`nv_gpu_utilization{gpu_uuid="${uuid(g)}"} ${util}`);
    lines.push(
      "# HELP nv_gpu_memory_used_bytes GPU used memory, in bytes",
      "# TYPE nv_gpu_memory_used_bytes gauge",
    );
    for (let g = 0; g < this.gpus; g++)
      lines.push(`nv_gpu_memory_used_bytes{gpu_uuid="${uuid(g)}"} ${ready.length * 5e8}`);
    lines.push(
      "# HELP nv_cpu_utilization CPU utilization rate [0.0 - 1.0]",
      "# TYPE nv_cpu_utilization gauge",
      "nv_cpu_utilization 0.05",
    );
    return `${lines.join("\n")}\n`;
  }

  /** The busy fraction of the GPUs since start (Triton samples it per interval; close enough here). */
  gpuUtilization(): number {
    if (this.elapsed === 0) return 0;
    const busy = this.models.reduce((s, m) => s + m.busySeconds, 0);
    return Math.round(Math.min(1, busy / this.elapsed / this.gpus) * 1000) / 1000;
  }

  /** The exact values behind the text, for assertions: whole numbers as exported. */
  counters(model: string): {
    requestSuccess: number;
    requestFailure: number;
    inferenceCount: number;
    execCount: number;
    queueDurationUs: number;
    computeInferDurationUs: number;
    pending: number;
  } {
    const m = this.model(model);
    return {
      requestSuccess: Math.floor(m.success),
      requestFailure: FAILURE_REASONS.reduce((s, r) => s + m.failure[r], 0),
      inferenceCount: Math.floor(m.inferences),
      execCount: Math.floor(m.execs),
      queueDurationUs: Math.floor(m.queueUs),
      computeInferDurationUs: Math.floor(m.inferUs),
      pending: Math.floor(m.pending),
    };
  }

  /** Starts both servers on ephemeral loopback ports. */
  async start(): Promise<void> {
    this.http = createServer((req, res) => {
      if (req.url !== "/metrics") {
        res.writeHead(404).end();
        return;
      }
      if (this.liveSince !== undefined) {
        const t = this.liveNow();
        this.advance((t - this.liveSince) / 1000);
        this.liveSince = t;
      }
      switch (this.mode) {
        case "http-500":
          res.writeHead(500).end("internal error\n");
          return;
        case "hang":
          this.hung.push(res);
          return;
        case "chunked": {
          // The same text in 7-byte pieces, one per turn of the event loop: records, and
          // UTF-8 sequences, split anywhere.
          const body = Buffer.from(this.metricsText(), "utf8");
          res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8" });
          const send = (at: number) => {
            if (at >= body.length) {
              res.end();
              return;
            }
            res.write(body.subarray(at, at + 7));
            setImmediate(() => send(at + 7));
          };
          send(0);
          return;
        }
        case "garbage":
          res
            .writeHead(200, { "Content-Type": "text/plain; charset=utf-8" })
            .end("nv_inference_count{model=yolo 1\n\u0000\u0001");
          return;
        default:
          res
            .writeHead(200, { "Content-Type": "text/plain; charset=utf-8" })
            .end(this.metricsText());
      }
    });
    await new Promise<void>((resolve) => this.http?.listen(0, "127.0.0.1", resolve));
    this.metricsPort = (this.http.address() as AddressInfo).port;

    const Service = loadTritonService();
    const server = new grpc.Server();
    const count = (m: string) => {
      this.calls[m] = (this.calls[m] ?? 0) + 1;
    };
    type Cb = grpc.sendUnaryData<object>;
    type Call = grpc.ServerUnaryCall<Record<string, string>, object>;
    const find = (name: string, version: string) =>
      this.models.find((m) => m.name === name && (version === "" || version === m.version));
    server.addService(Service.service, {
      ServerLive: (_c: Call, cb: Cb) => {
        count("ServerLive");
        cb(null, { live: true });
      },
      ServerReady: (_c: Call, cb: Cb) => {
        count("ServerReady");
        cb(null, { ready: this.serverReady });
      },
      ModelReady: (c: Call, cb: Cb) => {
        count("ModelReady");
        const m = find(c.request.name ?? "", c.request.version ?? "");
        cb(null, { ready: this.serverReady && m?.state === "ready" });
      },
      ModelMetadata: (c: Call, cb: Cb) => {
        count("ModelMetadata");
        const m = find(c.request.name ?? "", c.request.version ?? "");
        if (m?.state !== "ready") {
          cb({
            code: grpc.status.UNAVAILABLE,
            details: `Request for unknown model: '${c.request.name}' is not found`,
          });
          return;
        }
        cb(null, {
          name: m.name,
          versions: [m.version],
          platform: "onnxruntime_onnx",
          inputs: [{ name: "images", datatype: "FP32", shape: ["-1", "3", "640", "640"] }],
          outputs: [{ name: "output0", datatype: "FP32", shape: ["-1", "84", "8400"] }],
        });
      },
      ModelStatistics: (c: Call, cb: Cb) => {
        count("ModelStatistics");
        const name = c.request.name ?? "";
        const version = c.request.version ?? "";
        const ms = this.models.filter(
          (m) =>
            m.state === "ready" &&
            (name === "" || m.name === name) &&
            (version === "" || m.version === version),
        );
        if (name !== "" && ms.length === 0) {
          cb({
            code: grpc.status.NOT_FOUND,
            details: `requested model '${name}' is not available`,
          });
          return;
        }
        const d = (count: number, us: number) => ({
          count: String(Math.floor(count)),
          ns: String(Math.floor(us) * 1000),
        });
        cb(null, {
          model_stats: ms.map((m) => {
            const fails = FAILURE_REASONS.reduce((s, r) => s + m.failure[r], 0);
            return {
              name: m.name,
              version: m.version,
              last_inference: String(m.lastInferenceMs),
              inference_count: String(Math.floor(m.inferences)),
              execution_count: String(Math.floor(m.execs)),
              inference_stats: {
                success: d(m.success - this.statisticsLag, m.requestUs),
                fail: d(fails, 0),
                queue: d(m.success, m.queueUs),
                compute_input: d(m.success, m.inputUs),
                compute_infer: d(m.success, m.inferUs),
                compute_output: d(m.success, m.outputUs),
                cache_hit: d(0, 0),
                cache_miss: d(0, 0),
              },
              batch_stats: [],
              memory_usage: [],
              response_stats: {},
            };
          }),
        });
      },
    });
    this.grpcPort = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) =>
        err ? reject(err) : resolve(port),
      ),
    );
    this.grpc = server;
  }

  /** Stops both servers. */
  async stop(): Promise<void> {
    for (const r of this.hung.splice(0)) r.destroy();
    this.grpc?.forceShutdown();
    const h = this.http;
    if (h) {
      h.closeAllConnections();
      await new Promise<void>((resolve) => h.close(() => resolve()));
    }
  }
}

function zero(): Omit<
  ModelRun,
  "name" | "version" | "state" | "batchMs" | "perImageMs" | "maxBatch"
> {
  return {
    rate: 0,
    pending: 0,
    success: 0,
    failure: { REJECTED: 0, CANCELED: 0, BACKEND: 0, OTHER: 0 },
    inferences: 0,
    execs: 0,
    requestUs: 0,
    queueUs: 0,
    inputUs: 0,
    inferUs: 0,
    outputUs: 0,
    busySeconds: 0,
    lastInferenceMs: 0,
  };
}
