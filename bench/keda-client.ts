/**
 * The KEDA side of bench/keda.ts: GetMetrics and a unary echo of the same bytes (and, when
 * given a TCP echo's port, a plain TCP round trip of them), one call at a time and alternating, both timed from the encoded request to the answer's bytes, against a server at `port`. Run in the benchmark's own thread
 * (client and server then share one event loop, as in the first rows) or in a worker thread
 * (its own event loop, on the machine's other core: closer to KEDA, a separate process).
 */
import { connect as http2Connect } from "node:http2";
import { connect } from "node:net";
import { join } from "node:path";
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { protosDir } from "../controller/util/package-root.js";

/** What the client needs: the server, the requests and their expected answers. */
export interface ClientInput {
  readonly port: number;
  readonly requests: readonly unknown[];
  readonly want: readonly number[];
  readonly calls: number;
  readonly warmup: number;
  /** Calls in flight at once (1: one at a time). */
  readonly concurrency?: number;
  /** A raw TCP echo server's port: also time round trips of the request bytes over it. */
  readonly tcpPort?: number;
  /**
   * Also time the same calls with a lean client (one call at a time only), alternating with
   * the @grpc/grpc-js client's: a unary gRPC call written on node:http2 ({@link leanUnary}:
   * per call, one HTTP/2 stream and the 5-byte message framing), which, as KEDA's compiled
   * grpc-go client, adds next to no work of its own.
   */
  readonly lean?: boolean;
}

/** Latencies in ms, after the warm-up, and answers that were not the expected ones. */
export interface ClientResult {
  readonly metrics: number[];
  readonly echo: number[];
  readonly wrong: number;
  /** The same calls by the lean client, if asked. */
  readonly lean?: { readonly metrics: number[]; readonly echo: number[] };
  /** Round trips of the same bytes over a plain TCP socket (no HTTP/2, no gRPC), if asked. */
  readonly tcp?: number[];
}

/** The echo method's path (the benchmark's server adds it beside the external scaler). */
export const ECHO_PATH = "/bench.Echo/Echo";

/** Measures (see the module comment); `onMeasuring` is told when the warm-up ends. */
export async function measureClient(
  input: ClientInput,
  onMeasuring: () => void = () => undefined,
): Promise<ClientResult> {
  const pkg = grpc.loadPackageDefinition(
    loadSync(join(protosDir, "externalscaler.proto"), {
      keepCase: true,
      longs: String,
      defaults: true,
    }),
  ).externalscaler as grpc.GrpcObject;
  const Client = pkg.ExternalScaler as grpc.ServiceClientConstructor;
  const def = Client.service.GetMetrics!;
  const identity = (b: Buffer) => b;
  const client = new Client(`127.0.0.1:${input.port}`, grpc.credentials.createInsecure());
  type Reply = { metricValues: { metricValueFloat: number }[] };
  // Both calls send the same pre-encoded bytes and take the answer's bytes as they come:
  // the client's own protobuf work (KEDA's is Go's) stays out of the timing, and the
  // answer is decoded after it, to check it.
  const unary = (path: string, bytes: Buffer) =>
    new Promise<Buffer>((resolve, reject) =>
      client.makeUnaryRequest(path, identity, identity, bytes, (e, v) =>
        e ? reject(e) : resolve(v!),
      ),
    );
  const getMetrics = (bytes: Buffer) => unary(def.path, bytes);
  const echo = (bytes: Buffer) => unary(ECHO_PATH, bytes);
  const encoded = input.requests.map((r) => def.requestSerialize(r));
  const metrics: number[] = [];
  const echoes: number[] = [];
  let wrong = 0;
  let seed = 12345;
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % input.requests.length;
  };
  const lanes = Math.max(1, input.concurrency ?? 1);
  // One call at a time only: the TCP trip shares no connection with the lanes.
  const tcpLink =
    input.tcpPort === undefined || lanes > 1 ? undefined : await tcpEcho(input.tcpPort);
  const tcps: number[] = [];
  const lean = input.lean && lanes === 1 ? leanUnary(input.port) : undefined;
  const leanMetrics: number[] = [];
  const leanEchoes: number[] = [];
  let i = 0;
  const lane = async (): Promise<void> => {
    while (i < input.warmup + input.calls) {
      const n = i++;
      if (n === input.warmup) onMeasuring();
      const k = next();
      let t0 = performance.now();
      const bytes = await getMetrics(encoded[k]!);
      const dm = performance.now() - t0;
      const reply = def.responseDeserialize(bytes) as Reply;
      if (reply.metricValues[0]?.metricValueFloat !== input.want[k]) wrong++;
      t0 = performance.now();
      await echo(encoded[k]!);
      const de = performance.now() - t0;
      const dt = tcpLink === undefined ? 0 : await tcpLink.trip(encoded[k]!);
      if (n >= input.warmup) {
        metrics.push(dm);
        echoes.push(de);
        if (tcpLink !== undefined) tcps.push(dt);
      }
      if (lean !== undefined) {
        t0 = performance.now();
        const leanBytes = await lean.call(def.path, encoded[k]!);
        const lm = performance.now() - t0;
        const leanReply = def.responseDeserialize(leanBytes) as Reply;
        if (leanReply.metricValues[0]?.metricValueFloat !== input.want[k]) wrong++;
        t0 = performance.now();
        await lean.call(ECHO_PATH, encoded[k]!);
        const le = performance.now() - t0;
        if (n >= input.warmup) {
          leanMetrics.push(lm);
          leanEchoes.push(le);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  client.close();
  lean?.close();
  tcpLink?.close();
  return {
    metrics,
    echo: echoes,
    wrong,
    ...(tcpLink === undefined ? {} : { tcp: tcps }),
    ...(lean === undefined ? {} : { lean: { metrics: leanMetrics, echo: leanEchoes } }),
  };
}

/**
 * A unary gRPC client written on node:http2, for timing the server without
 * @grpc/grpc-js's own per-call work: each call is one HTTP/2 stream (POST `path`,
 * `content-type: application/grpc`, `te: trailers`) carrying one length-prefixed message
 * (flag 0: not compressed, 4-byte big-endian length); the answer is the one message of the
 * response, and the call fails unless the trailers say `grpc-status: 0`.
 */
function leanUnary(port: number): {
  call: (path: string, bytes: Buffer) => Promise<Buffer>;
  close: () => void;
} {
  const session = http2Connect(`http://127.0.0.1:${port}`);
  session.on("error", () => undefined);
  const call = (path: string, bytes: Buffer) =>
    new Promise<Buffer>((resolve, reject) => {
      const head = Buffer.alloc(5);
      head.writeUInt32BE(bytes.length, 1);
      const stream = session.request({
        ":method": "POST",
        ":path": path,
        "content-type": "application/grpc",
        te: "trailers",
      });
      const chunks: Buffer[] = [];
      let status: string | undefined;
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("trailers", (t) => {
        status = String(t["grpc-status"]);
      });
      stream.on("error", reject);
      stream.on("end", () => {
        const body = Buffer.concat(chunks);
        if (status !== "0") {
          reject(new Error(`${path}: grpc-status ${status ?? "missing"}`));
          return;
        }
        if (body.length < 5 || body[0] !== 0 || body.readUInt32BE(1) !== body.length - 5) {
          reject(new Error(`${path}: not one uncompressed message (${body.length} bytes)`));
          return;
        }
        resolve(body.subarray(5));
      });
      stream.end(Buffer.concat([head, bytes]));
    });
  return { call, close: () => session.close() };
}

/**
 * The machine's floor under gRPC: a round trip of the given bytes over one plain TCP
 * connection (Nagle off, as grpc-js sets it) to a server that writes back what it reads;
 * what the loopback and the two event loops' wake-ups cost, with no HTTP/2 framing and no
 * gRPC call objects. Returns the function timing one trip, and one closing the socket.
 */
async function tcpEcho(port: number): Promise<{
  trip: (bytes: Buffer) => Promise<number>;
  close: () => void;
}> {
  const socket = connect(port, "127.0.0.1");
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  let expected = 0;
  let got = 0;
  let done: (() => void) | undefined;
  socket.on("data", (chunk: Buffer) => {
    got += chunk.length;
    if (got >= expected && done) {
      const d = done;
      done = undefined;
      d();
    }
  });
  return {
    trip: async (bytes) => {
      expected = bytes.length;
      got = 0;
      const t0 = performance.now();
      await new Promise<void>((resolve) => {
        done = resolve;
        socket.write(bytes);
      });
      return performance.now() - t0;
    },
    close: () => socket.destroy(),
  };
}

if (!isMainThread && (workerData as { kedaClient?: ClientInput } | null)?.kedaClient) {
  const input = (workerData as { kedaClient: ClientInput }).kedaClient;
  const result = await measureClient(input, () => parentPort!.postMessage({ measuring: true }));
  parentPort!.postMessage({ result });
}
