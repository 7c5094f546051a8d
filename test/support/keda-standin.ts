import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";

/**
 * A KEDA stand-in: a gRPC client on KEDA's UPSTREAM externalscaler.proto (from
 * ../shared/reference/keda, not our copy in protos/), making the calls KEDA's external
 * scaler makes (external_scaler.go): on every poll GetMetricSpec, then GetMetrics with the
 * spec's metric name, then IsActive; reading the float fields when > 0 and the int fields
 * otherwise; and holding StreamIsActive open as the external-push trigger does.
 */

/** A ScaledObjectRef as KEDA sends it: the ScaledObject's namespace and name, the trigger's metadata. */
export interface StandinRef {
  readonly namespace: string;
  readonly name: string;
  readonly scalerMetadata?: Readonly<Record<string, string>>;
}

/** What KEDA would hand the HPA after one poll. */
export interface Poll {
  readonly metricName: string;
  /** The AverageValue target, as KEDA reads it (targetSizeFloat when > 0, else targetSize). */
  readonly target: number;
  /** The metric value, as KEDA reads it (metricValueFloat when > 0, else metricValue). */
  readonly value: number;
  readonly active: boolean;
  /** The raw responses, for checks on both fields. */
  readonly raw: { spec: MetricSpecWire; metric: MetricValueWire };
}

interface MetricSpecWire {
  metricName: string;
  targetSize: string;
  targetSizeFloat: number;
}
interface MetricValueWire {
  metricName: string;
  metricValue: string;
  metricValueFloat: number;
}

/** An open StreamIsActive: every result received, in order. */
export interface ActivityStream {
  readonly results: boolean[];
  /** Resolves with the `count`-th result (1-based) once received. */
  nth(count: number): Promise<boolean>;
  /** Resolves with the status the stream ended with. */
  readonly ended: Promise<grpc.StatusObject>;
  cancel(): void;
}

type Unary<Req, Res> = (
  req: Req,
  cb: (err: grpc.ServiceError | null, res?: Res) => void,
) => grpc.ClientUnaryCall;

interface ExternalScalerClient extends grpc.Client {
  IsActive: Unary<StandinRef, { result: boolean }>;
  GetMetricSpec: Unary<StandinRef, { metricSpecs: MetricSpecWire[] }>;
  GetMetrics: Unary<
    { scaledObjectRef: StandinRef; metricName: string },
    { metricValues: MetricValueWire[] }
  >;
  StreamIsActive(req: StandinRef): grpc.ClientReadableStream<{ result: boolean }>;
  StreamMetricSpec(req: StandinRef): grpc.ClientReadableStream<unknown>;
}

/** The upstream proto's ExternalScaler client constructor. */
export function upstreamClientConstructor(referenceDir: string): grpc.ServiceClientConstructor {
  const def = loadSync(join(referenceDir, "keda", "externalscaler.proto"), {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
  });
  const pkg = grpc.loadPackageDefinition(def).externalscaler as grpc.GrpcObject;
  return pkg.ExternalScaler as grpc.ServiceClientConstructor;
}

/** PEM contents KEDA takes from a TriggerAuthentication (caCert, tlsClientCert, tlsClientKey). */
export interface StandinTls {
  readonly caCert: Buffer;
  readonly clientCert?: Buffer;
  readonly clientKey?: Buffer;
  /** The name the server's certificate must carry, when the address is an IP. */
  readonly serverName?: string;
}

export class KedaStandin {
  readonly #client: ExternalScalerClient;

  constructor(referenceDir: string, address: string, tls?: StandinTls) {
    const Client = upstreamClientConstructor(referenceDir);
    const creds =
      tls === undefined
        ? grpc.credentials.createInsecure()
        : grpc.credentials.createSsl(tls.caCert, tls.clientKey ?? null, tls.clientCert ?? null);
    const options =
      tls?.serverName === undefined ? {} : { "grpc.ssl_target_name_override": tls.serverName };
    this.#client = new Client(address, creds, options) as unknown as ExternalScalerClient;
  }

  #unary<Req, Res>(method: Unary<Req, Res>, req: Req): Promise<Res> {
    return new Promise((resolve, reject) => {
      method.call(this.#client, req, (err, res) => (err ? reject(err) : resolve(res!)));
    });
  }

  isActive(ref: StandinRef): Promise<boolean> {
    return this.#unary(this.#client.IsActive, ref).then((r) => r.result);
  }

  getMetricSpec(ref: StandinRef): Promise<MetricSpecWire[]> {
    return this.#unary(this.#client.GetMetricSpec, ref).then((r) => r.metricSpecs);
  }

  getMetrics(ref: StandinRef, metricName: string): Promise<MetricValueWire[]> {
    return this.#unary(this.#client.GetMetrics, { scaledObjectRef: ref, metricName }).then(
      (r) => r.metricValues,
    );
  }

  /** One poll as KEDA makes it: GetMetricSpec, GetMetrics, IsActive. */
  async poll(ref: StandinRef): Promise<Poll> {
    const [spec] = await this.getMetricSpec(ref);
    if (spec === undefined) throw new Error("GetMetricSpec returned no metric spec");
    const [metric] = await this.getMetrics(ref, spec.metricName);
    if (metric === undefined) throw new Error("GetMetrics returned no metric value");
    const active = await this.isActive(ref);
    return {
      metricName: spec.metricName,
      target: spec.targetSizeFloat > 0 ? spec.targetSizeFloat : Number(spec.targetSize),
      value: metric.metricValueFloat > 0 ? metric.metricValueFloat : Number(metric.metricValue),
      active,
      raw: { spec, metric },
    };
  }

  /** Opens StreamIsActive and keeps it open until cancelled or ended by the server. */
  streamIsActive(ref: StandinRef): ActivityStream {
    const call = this.#client.StreamIsActive(ref);
    const results: boolean[] = [];
    const waiters: { count: number; resolve: (v: boolean) => void }[] = [];
    call.on("data", (m: { result: boolean }) => {
      results.push(m.result);
      for (const w of waiters.filter((x) => x.count === results.length)) w.resolve(m.result);
    });
    const ended = new Promise<grpc.StatusObject>((resolve) => {
      call.on("status", resolve);
      // An error status also arrives as 'error'; 'status' carries it.
      call.on("error", () => {});
    });
    return {
      results,
      nth: (count) =>
        count <= results.length
          ? Promise.resolve(results[count - 1]!)
          : new Promise((resolve) => waiters.push({ count, resolve })),
      ended,
      cancel: () => call.cancel(),
    };
  }

  /** StreamMetricSpec: resolves with the status it ends with. */
  streamMetricSpec(ref: StandinRef): Promise<grpc.StatusObject> {
    const call = this.#client.StreamMetricSpec(ref);
    return new Promise((resolve) => {
      call.on("status", resolve);
      call.on("error", () => {});
      call.on("data", () => {});
    });
  }

  /** Waits until the channel is connected (or fails, e.g. a refused TLS handshake). */
  ready(deadlineMs = 5000): Promise<void> {
    return new Promise((resolve, reject) =>
      this.#client.waitForReady(Date.now() + deadlineMs, (err) => (err ? reject(err) : resolve())),
    );
  }

  close(): void {
    this.#client.close();
  }
}
