import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { protosDir } from "../util/package-root.js";
import { TARGET_PER_REPLICA } from "./answer.js";
import type { KedaTargets } from "./targets.js";
import { createKedaCredentials, type KedaTls } from "./tls.js";

/**
 * KEDA's external scaler over gRPC (protos/externalscaler.proto, package `externalscaler`):
 * IsActive, StreamIsActive, GetMetricSpec and GetMetrics, answered from {@link KedaTargets}
 * (the last decision per pool), never waiting on a scrape; StreamMetricSpec answers
 * UNIMPLEMENTED, so KEDA keeps polling GetMetricSpec (runtime-facts.md).
 *
 * Errors, as gRPC statuses KEDA logs and counts toward its fallback:
 * - NOT_FOUND: a ScaledObject no loaded pool renders (message names it and known ones);
 * - UNAVAILABLE: a known ScaledObject whose pool has no decision yet (just started):
 *   KEDA then changes nothing (an error is never "inactive"), and after
 *   `fallback.failureThreshold` its fallback keeps the current replicas;
 * - NOT_FOUND for GetMetrics of a metric name other than the one GetMetricSpec gave.
 * No request changes any state.
 */

/** The metric name GetMetricSpec gives (KEDA prefixes `s<trigger index>-` for the HPA). */
export const METRIC_NAME = "tritonscale-desired-replicas";

/** The service's RPCs, for request metrics. */
export const KEDA_RPCS = [
  "IsActive",
  "StreamIsActive",
  "GetMetricSpec",
  "GetMetrics",
  "StreamMetricSpec",
] as const;
/** One of the service's RPCs. */
export type KedaRpc = (typeof KEDA_RPCS)[number];

/** Where and how the external scaler listens, and what it answers from. */
export interface KedaServerOptions {
  readonly targets: KedaTargets;
  /** Port to listen on; 0 picks a free one (see {@link KedaServer.port}). */
  readonly port: number;
  /** @default "0.0.0.0" */
  readonly host?: string;
  /** Plaintext when absent. */
  readonly tls?: KedaTls;
  /** Told of every finished call (request count and latency metrics). */
  readonly onCall?: (rpc: KedaRpc, code: grpc.status, seconds: number) => void;
}

/** A running external scaler. */
export interface KedaServer {
  /** The port bound. */
  readonly port: number;
  /**
   * Serves new connections with renewed certificates (the controller re-reads
   * `--tls-cert/--tls-key/--client-ca`); throws on a server started without TLS.
   */
  updateTls(tls: KedaTls): void;
  /** Stops accepting calls, ends open streams and waits for calls in progress. */
  close(): Promise<void>;
}

interface ScaledObjectRef {
  name: string;
  namespace: string;
  scalerMetadata: Record<string, string>;
}
interface GetMetricsRequest {
  scaledObjectRef: ScaledObjectRef | null;
  metricName: string;
}

let definition: grpc.GrpcObject | undefined;

/** The ExternalScaler service definition, loaded once from protos/externalscaler.proto. */
export function externalScalerService(): grpc.ServiceDefinition {
  definition ??= grpc.loadPackageDefinition(
    loadSync(join(protosDir, "externalscaler.proto"), {
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
    }),
  );
  const pkg = definition.externalscaler as grpc.GrpcObject;
  return (pkg.ExternalScaler as grpc.ServiceClientConstructor).service;
}

function refKey(ref: ScaledObjectRef | null | undefined): { namespace: string; name: string } {
  return { namespace: ref?.namespace ?? "", name: ref?.name ?? "" };
}

function fail(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

/** The service implementation, and a way to end its open streams (on shutdown). */
export interface ExternalScalerHandlers {
  readonly implementation: grpc.UntypedServiceImplementation;
  endStreams(details: string): void;
}

/** Builds the service implementation over `targets`. */
export function createExternalScalerHandlers(
  targets: KedaTargets,
  onCall?: KedaServerOptions["onCall"],
): ExternalScalerHandlers {
  /** Ends of the open StreamIsActive calls. */
  const streams = new Set<(code: grpc.status, details?: string) => void>();
  const timed = <Req, Res>(
    rpc: KedaRpc,
    answer: (req: Req) => Res | grpc.ServiceError,
  ): grpc.handleUnaryCall<Req, Res> => {
    return (call, callback) => {
      const t0 = onCall === undefined ? 0 : performance.now();
      const r = answer(call.request);
      const err = r instanceof Error ? r : null;
      if (err !== null) callback(err);
      else callback(null, r as Res);
      onCall?.(rpc, err?.code ?? grpc.status.OK, (performance.now() - t0) / 1000);
    };
  };

  /** The answer of a ScaledObject, or the status that explains why there is none. */
  const answerOf = (ref: ScaledObjectRef | null) => {
    const { namespace, name } = refKey(ref);
    const l = targets.lookup(namespace, name);
    if (!l.found) return fail(grpc.status.NOT_FOUND, l.message);
    if (l.answer === undefined) {
      return fail(
        grpc.status.UNAVAILABLE,
        `ScaledObject ${namespace}/${name}: pool ${l.target.pool.namespace}/${l.target.pool.name} has no decision yet (the controller just started); KEDA keeps the current replicas`,
      );
    }
    return l.answer;
  };

  const implementation: grpc.UntypedServiceImplementation = {
    IsActive: timed<ScaledObjectRef, { result: boolean }>("IsActive", (ref) => {
      const a = answerOf(ref);
      return a instanceof Error ? a : { result: a.active };
    }),

    GetMetricSpec: timed<ScaledObjectRef, unknown>("GetMetricSpec", (ref) => {
      const { namespace, name } = refKey(ref);
      const l = targets.lookup(namespace, name);
      if (!l.found) return fail(grpc.status.NOT_FOUND, l.message);
      return {
        metricSpecs: [
          {
            metricName: METRIC_NAME,
            targetSize: TARGET_PER_REPLICA,
            targetSizeFloat: TARGET_PER_REPLICA,
          },
        ],
      };
    }),

    GetMetrics: timed<GetMetricsRequest, unknown>("GetMetrics", (req) => {
      const a = answerOf(req.scaledObjectRef);
      if (a instanceof Error) return a;
      if (req.metricName !== METRIC_NAME) {
        const { namespace, name } = refKey(req.scaledObjectRef);
        return fail(
          grpc.status.NOT_FOUND,
          `ScaledObject ${namespace}/${name} has no metric ${JSON.stringify(req.metricName)}; its metric is ${JSON.stringify(METRIC_NAME)} (from GetMetricSpec)`,
        );
      }
      // Integers: the int field equals the float, so KEDA's fallback to the int field when
      // the float is 0 reads the same 0.
      return {
        metricValues: [
          { metricName: METRIC_NAME, metricValue: a.replicas, metricValueFloat: a.replicas },
        ],
      };
    }),

    StreamIsActive: (call: grpc.ServerWritableStream<ScaledObjectRef, { result: boolean }>) => {
      const t0 = performance.now();
      const { namespace, name } = refKey(call.request);
      let done = false;
      const end = (code: grpc.status, details?: string) => {
        if (done) return;
        done = true;
        streams.delete(end);
        unwatch?.();
        if (details === undefined) call.end();
        else call.emit("error", fail(code, details));
        onCall?.("StreamIsActive", code, (performance.now() - t0) / 1000);
      };
      const unwatch = targets.watch(namespace, name, {
        active: (result) => {
          if (!done) call.write({ result });
        },
        gone: (message) => end(grpc.status.NOT_FOUND, message),
      });
      if (unwatch === undefined) {
        const l = targets.lookup(namespace, name);
        end(
          grpc.status.NOT_FOUND,
          l.found ? `unknown ScaledObject ${namespace}/${name}` : l.message,
        );
        return;
      }
      call.on("cancelled", () => end(grpc.status.CANCELLED));
      streams.add(end);
    },

    StreamMetricSpec: (call: grpc.ServerWritableStream<ScaledObjectRef, unknown>) => {
      call.emit(
        "error",
        fail(
          grpc.status.UNIMPLEMENTED,
          "StreamMetricSpec is not implemented: the metric spec never changes; poll GetMetricSpec",
        ),
      );
      onCall?.("StreamMetricSpec", grpc.status.UNIMPLEMENTED, 0);
    },
  };
  return {
    implementation,
    endStreams: (details) => {
      for (const end of [...streams]) end(grpc.status.UNAVAILABLE, details);
    },
  };
}

/** Starts the external scaler on `host:port`. */
export async function startKedaServer(options: KedaServerOptions): Promise<KedaServer> {
  const server = new grpc.Server();
  const handlers = createExternalScalerHandlers(options.targets, options.onCall);
  server.addService(externalScalerService(), handlers.implementation);
  const host = options.host ?? "0.0.0.0";
  const address = host.includes(":") ? `[${host}]:${options.port}` : `${host}:${options.port}`;
  const tls = options.tls === undefined ? undefined : createKedaCredentials(options.tls);
  const credentials = tls?.credentials ?? grpc.ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, credentials, (err, p) =>
      err
        ? reject(new Error(`KEDA external scaler: cannot listen on ${address}: ${err.message}`))
        : resolve(p),
    );
  });
  return {
    port,
    updateTls: (next) => {
      if (tls === undefined) {
        throw new Error("the KEDA external scaler was started without TLS (--tls-cert/--tls-key)");
      }
      tls.update(next);
    },
    close: () =>
      new Promise<void>((resolve) => {
        handlers.endStreams("the controller is shutting down");
        server.tryShutdown(() => resolve());
      }),
  };
}
