/**
 * KEDA external scaler benchmark (`npm run bench`, or `node dist/bench/keda.js [--quick]`):
 * GetMetrics latency with 1,000 ScaledObjects (500 pools, Spot and on-demand each) over real
 * gRPC on loopback, as a ratio to a baseline measured in the same run on the same channel
 * and server: a unary echo of the same request bytes (gRPC and loopback cost, no answer).
 * GetMetrics and echo alternate so load from elsewhere on the machine hits both alike.
 * Four ways, all in one run (bench/keda-client.ts is the client):
 * - the client in this thread, one call at a time: client and server share one event loop
 *   (and one heap: the client's garbage is collected in the server's time);
 * - the client in a worker thread, one call at a time: its own event loop and heap on the
 *   machine's other core, closer to KEDA calling from its own process;
 * - in the same worker, alternating with those calls, a lean client: a unary gRPC call
 *   written on node:http2 (one stream and the message framing per call). KEDA calls with
 *   Go's grpc client, whose per-call work is small, where @grpc/grpc-js's own client work
 *   is most of its round trip here. The target is read on this row: our server and the
 *   loopback, with a caller that adds next to nothing of its own;
 * - 8 calls in flight in this thread: what queueing adds.
 * "Plain TCP round trip" sends the same bytes over a plain socket to an echo on this thread,
 * alternating with the calls: the floor that loopback and the two event loops' wake-ups
 * set, without HTTP/2 or gRPC.
 * "In the handler" is the server's own time per call, from the request decoded to the
 * answer handed to grpc-js, which encodes and writes it within that time (our lookup alone
 * is about 1.5 µs). Target: GetMetrics p99 < 1 ms.
 */
import { createServer } from "node:net";
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import * as grpc from "@grpc/grpc-js";
import { stringify } from "yaml";
import {
  createExternalScalerHandlers,
  externalScalerService,
  METRIC_NAME,
} from "../controller/keda/server.js";
import { KedaTargets } from "../controller/keda/targets.js";
import type { PoolDecision } from "../controller/loop/ports.js";
import { loadModelPool, type Policy } from "../controller/policy/index.js";
import { packageRoot } from "../controller/util/package-root.js";
import { type ClientInput, type ClientResult, ECHO_PATH, measureClient } from "./keda-client.js";

const quick = process.argv.includes("--quick");
const POOLS = 500;
const CALLS = quick ? 2_000 : 10_000;
const WARMUP = 500;

const base = loadModelPool(
  stringify({
    apiVersion: "tritonscale.dev/v1alpha1",
    kind: "ModelPool",
    metadata: { name: "pool", namespace: "bench" },
    spec: {
      models: [{ name: "yolov8s", template: "yolov8-onnx", imageSize: 640, classes: 80 }],
      slo: { latencyP99Ms: 85 },
      scaling: { engine: "keda", maxReplicas: 20 },
      capacity: { provider: "eks", spot: { enabled: true, onDemandBase: 1 } },
    },
  }),
  "bench-pool.yaml",
);

const targets = new KedaTargets();
for (let i = 0; i < POOLS; i++) {
  const policy: Policy = { ...base, metadata: { ...base.metadata, name: `pool-${i}` } };
  targets.setPool(policy);
  const zero = { spot: 0, onDemand: 0 };
  const d: PoolDecision = {
    pool: { namespace: "bench", name: `pool-${i}` },
    at: 0,
    scaler: "tritonscale",
    snapshot: {
      now: 0,
      replicas: {
        ready: { spot: i % 7, onDemand: 1 },
        starting: zero,
        pending: zero,
        oldestPendingSpotSeconds: 0,
      },
    },
    decision: {
      desired: { spot: i % 9, onDemand: 1 },
      active: true,
      held: false,
      reason: "bench",
      state: undefined,
    },
    capacityPerReplica: { yolov8s: 100 },
    previous: zero,
  };
  targets.publish(d);
}
const refs = targets.targets();
if (refs.length !== 2 * POOLS)
  throw new Error(`expected ${2 * POOLS} ScaledObjects, got ${refs.length}`);

// One server: the external scaler and a raw echo method beside it.
const server = new grpc.Server();
const tHandler: number[] = [];
let measuring = false;
server.addService(
  externalScalerService(),
  createExternalScalerHandlers(targets, (rpc, _code, seconds) => {
    if (measuring && rpc === "GetMetrics") tHandler.push(seconds * 1000);
  }).implementation,
);
const identity = (b: Buffer) => b;
server.addService(
  {
    Echo: {
      path: ECHO_PATH,
      requestStream: false,
      responseStream: false,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
    },
  },
  {
    Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
      cb(null, call.request),
  },
);
const port = await new Promise<number>((resolve, reject) =>
  server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) =>
    e ? reject(e) : resolve(p),
  ),
);

// A plain TCP echo beside it: the floor under gRPC (bench/keda-client.ts tcpRoundTrips).
const tcpServer = createServer((socket) => {
  socket.setNoDelay(true);
  socket.on("data", (chunk) => socket.write(chunk));
});
const tcpPort = await new Promise<number>((resolve) =>
  tcpServer.listen(0, "127.0.0.1", () => resolve((tcpServer.address() as { port: number }).port)),
);

const requests = refs.map((t) => ({
  scaledObjectRef: { namespace: t.namespace, name: t.name, scalerMetadata: {} },
  metricName: METRIC_NAME,
}));
const want = refs.map((t) => {
  const l = targets.lookup(t.namespace, t.name);
  return l.found ? l.answer!.replicas : -1;
});
const input: ClientInput = { port, requests, want, calls: CALLS, warmup: WARMUP };

/** The client in this thread: it and the server share one event loop. */
async function inProcess(concurrency = 1): Promise<ClientResult & { handler: number[] }> {
  tHandler.length = 0;
  measuring = false;
  const r = await measureClient({ ...input, concurrency, tcpPort }, () => {
    measuring = true;
  });
  measuring = false;
  return { ...r, handler: [...tHandler] };
}

/** The client in a worker thread: its own event loop, on the other core. */
async function inWorker(): Promise<ClientResult & { handler: number[] }> {
  tHandler.length = 0;
  measuring = false;
  const worker = new Worker(join(packageRoot, "dist", "bench", "keda-client.js"), {
    workerData: { kedaClient: { ...input, tcpPort, lean: true } },
  });
  const result = await new Promise<ClientResult>((resolve, reject) => {
    worker.on("message", (m: { measuring?: boolean; result?: ClientResult }) => {
      if (m.measuring) measuring = true;
      if (m.result) resolve(m.result);
    });
    worker.on("error", reject);
  });
  measuring = false;
  await worker.terminate();
  return { ...result, handler: [...tHandler] };
}

const same = await inProcess();
const apart = await inWorker();
const concurrent = await inProcess(8);
await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
await new Promise<void>((resolve) => tcpServer.close(() => resolve()));

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const row = (label: string, xs: number[], baseP99: number) =>
  `${label.padEnd(60)} ${pct(xs, 50).toFixed(3).padStart(7)}  ${pct(xs, 99).toFixed(3).padStart(7)}  ${pct(xs, 99.9).toFixed(3).padStart(8)}  ${(pct(xs, 99) / baseP99).toFixed(2).padStart(9)}`;

console.log(
  `\n# KEDA external scaler: GetMetrics over gRPC on loopback, ${refs.length.toLocaleString("en")} ScaledObjects (${POOLS} pools), ${CALLS.toLocaleString("en")} calls each`,
);
console.log(`${"call".padEnd(60)}  p50 ms   p99 ms  p99.9 ms  ×echo p99`);
const block = (title: string, r: ClientResult & { handler: number[] }) => {
  const echoP99 = pct(r.echo, 99);
  console.log(row(`echo, same bytes: ${title}`, r.echo, echoP99));
  console.log(row(`GetMetrics: ${title}`, r.metrics, echoP99));
  console.log(row(`  in the handler`, r.handler, echoP99));
  if (r.tcp) console.log(row(`plain TCP round trip, same bytes: ${title}`, r.tcp, echoP99));
};
block("client in this thread", same);
block("client in a worker thread", apart);
const lean = apart.lean!;
console.log(
  row("echo, same bytes: lean HTTP/2 client, worker thread", lean.echo, pct(lean.echo, 99)),
);
console.log(row("GetMetrics: lean HTTP/2 client, worker thread", lean.metrics, pct(lean.echo, 99)));
block("8 in flight, this thread", concurrent);
const p99 = pct(lean.metrics, 99);
const wrong = same.wrong + apart.wrong + concurrent.wrong;
console.log(
  `target GetMetrics p99 < 1 ms (one call at a time from a worker thread, the lean HTTP/2 client, which adds next to no work of its own, as KEDA's grpc-go adds little): ${p99 < 1 ? "met" : "MISS"} (${p99.toFixed(3)} ms, ${(p99 / pct(lean.echo, 99)).toFixed(2)}× the echo's p99 on the same client; with @grpc/grpc-js as the client ${pct(apart.metrics, 99).toFixed(3)} ms, ${(pct(apart.metrics, 99) / pct(apart.echo, 99)).toFixed(2)}× its echo; a plain TCP round trip's p99 ${pct(apart.tcp ?? [Number.NaN], 99).toFixed(3)} ms; in this thread ${pct(same.metrics, 99).toFixed(3)} ms; in the handler p99 ${pct(apart.handler, 99).toFixed(3)} ms, both clients' calls); wrong answers: ${wrong}`,
);
console.log(
  `load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(
      " ",
    )} on ${availableParallelism()} cores: a p99 far above the handler's is gRPC and the machine's scheduling, which the echo shares`,
);
