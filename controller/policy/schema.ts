/**
 * The ModelPool schema: the one source of truth for the policy's shape, defaults and
 * documentation. The loader validates against it (TypeBox `Value.Errors`), fills its
 * defaults, derives the TypeScript types from it (`Static<>`), and
 * {@link buildCrdOpenApiSchema} turns it into the CRD's OpenAPI v3 schema.
 *
 * Conventions:
 * - Every object rejects unknown keys (`additionalProperties: false`).
 * - A field with a default is optional in the input (absent from JSON Schema `required`) but
 *   always present in {@link ModelPoolDocument}, the type of a defaulted document. Its
 *   description ends with `Default: <value>.`, generated from the default itself.
 * - Durations are strings (`90s`, `10m`, `1h30m`, `500ms`, see duration.ts). The
 *   {@link Policy} keeps the string and adds a sibling `<field>Seconds` number, e.g.
 *   `scaling.idleWindow: "10m"` and `scaling.idleWindowSeconds: 600`.
 * - `x-valid` (non-standard, removed from the CRD schema) says in words what a pattern
 *   accepts, for error messages.
 * - `x-duration` (non-standard) holds a duration's range ({@link DurationBounds}) and
 *   `x-keys: qualified-name` marks maps keyed by Kubernetes qualified names (labels.ts);
 *   the loader checks both generically.
 */
import {
  type SchemaOptions,
  type Static,
  type TLiteral,
  type TSchema,
  type TUnion,
  Type,
} from "@sinclair/typebox";
import type { Problem, SourcePos } from "../diagnostics/problem.js";
import { DURATION_HINT, DURATION_PATTERN, type Duration } from "./duration.js";

/** The `apiVersion` every ModelPool carries. */
export const API_VERSION = "tritonscale.dev/v1alpha1";
/** The API group of tritonscale's custom resources. */
export const API_GROUP = "tritonscale.dev";
/** The `kind` of the resource. */
export const KIND = "ModelPool";

/** Model precisions: the data type of the model's weights and activations. */
export const PRECISIONS = ["fp32", "fp16", "int8"] as const;
/** A model precision. */
export type Precision = (typeof PRECISIONS)[number];

/** What Triton does with a request that waited longer than its queue timeout. */
export const TIMEOUT_ACTIONS = ["REJECT", "DELAY"] as const;
/** A queue timeout action. */
export type TimeoutAction = (typeof TIMEOUT_ACTIONS)[number];

/** Kubernetes objects that actuate replica counts. */
export const SCALING_ENGINES = ["keda", "hpa"] as const;
/** How requests are spread over a pool's ready replicas (`spec.scaling.loadBalancing`). */
export const LOAD_BALANCING = ["random", "roundRobin"] as const;
/** A way of spreading requests over replicas (`spec.scaling.loadBalancing`). */
export type LoadBalancing = (typeof LOAD_BALANCING)[number];
/** A scaling engine. */
export type ScalingEngine = (typeof SCALING_ENGINES)[number];

/**
 * Scaling algorithms (deciders) a pool may name; `hpa-gpu` and `keda-queue` are the
 * baselines. The one list of names: scaling/registry.ts has exactly one factory per name
 * (`satisfies Record<ScalerName, ScalerFactory>`, so a missing or extra one does not compile).
 */
export const SCALERS = ["tritonscale", "hpa-gpu", "keda-queue", "fallback"] as const;
/** A scaling algorithm name. */
export type ScalerName = (typeof SCALERS)[number];

/** Where GPU nodes come from; decides node labels and taints for Spot. */
export const PROVIDERS = ["gke", "eks", "aks", "karpenter", "generic"] as const;
/** A capacity provider. */
export type Provider = (typeof PROVIDERS)[number];

/** Where Triton reads its model repository from. */
export const REPOSITORY_SOURCES = ["local", "s3", "gcs", "azure", "pvc"] as const;
/** A model repository source. */
export type RepositorySource = (typeof REPOSITORY_SOURCES)[number];

/** Triton's `--model-control-mode`. */
export const MODEL_CONTROL_MODES = ["none", "explicit", "poll"] as const;
/** A model control mode. */
export type ModelControlMode = (typeof MODEL_CONTROL_MODES)[number];

/** Kubernetes toleration operators. */
export const TOLERATION_OPERATORS = ["Exists", "Equal"] as const;
/** Kubernetes taint effects. */
export const TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"] as const;

/** Triton model names: lowercase letters, digits, `-`, `_`, `.`; alphanumeric at both ends. */
export const MODEL_NAME_PATTERN = "^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$";
/** A DNS-1123 label (Kubernetes object names derived from it stay valid). */
export const DNS_LABEL_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
/** A folder name in repo-templates/: no path separators, no leading dot. */
export const TEMPLATE_PATTERN = "^[A-Za-z0-9][A-Za-z0-9._-]*$";
/** Five whitespace-separated cron fields; the loader checks each field's values. */
export const CRON_PATTERN = "^\\s*\\S+(\\s+\\S+){4}\\s*$";
/** A Kubernetes resource quantity such as `2`, `500m`, `8Gi`. */
export const QUANTITY_PATTERN = "^[0-9]+(\\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$";
/**
 * A Kubernetes qualified name (taint and label keys) or the empty string; lengths are
 * checked apart (labels.ts checks map keys exactly).
 */
export const QUALIFIED_NAME_OR_EMPTY_PATTERN =
  "^(([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$";
/** A Kubernetes label value (at most 63 characters). */
export const LABEL_VALUE_PATTERN = "^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$";

// ---------------------------------------------------------------------------------------
// Schema helpers

/**
 * Gives `schema` a default: the field becomes optional in the input (and leaves JSON
 * Schema `required`) while the static type keeps it present, because the loader fills
 * it before anything reads it. Appends `Default: <value>.` to the description.
 */
function withDefault<T extends TSchema>(value: NoInfer<Static<T>>, schema: T): T {
  const description =
    typeof schema.description === "string"
      ? `${schema.description} Default: ${formatDefault(value)}.`
      : undefined;
  const withValue = { ...schema, default: value, ...(description ? { description } : {}) };
  return Type.Optional(withValue) as unknown as T;
}

/**
 * Makes an object field optional with default `{}`: absent means every field inside takes
 * its own default (the loader, and the Kubernetes API server for the CRD, fill them).
 */
function withDefaults<T extends TSchema>(schema: T): T {
  const description =
    typeof schema.description === "string"
      ? `${schema.description} Optional: when absent every field takes its default.`
      : undefined;
  const withValue = { ...schema, default: {}, ...(description ? { description } : {}) };
  return Type.Optional(withValue) as unknown as T;
}

function formatDefault(value: unknown): string {
  if (typeof value === "string") return value === "" ? '""' : value;
  return JSON.stringify(value);
}

/** A string enum (JSON Schema `anyOf` of `const`s; `enum` in the CRD schema). */
function StringEnum<const T extends readonly [string, ...string[]]>(
  values: T,
  options: SchemaOptions,
): TUnion<TLiteral<T[number]>[]> {
  return Type.Union(
    values.map((v) => Type.Literal(v)),
    options,
  ) as unknown as TUnion<TLiteral<T[number]>[]>;
}

/**
 * The range of a duration field, kept on its schema node as `x-duration` (non-standard,
 * removed from the CRD schema): the loader checks it for every duration, the reference
 * docs show it, and the description states it.
 */
export interface DurationBounds {
  /** Shortest valid duration, e.g. `"1s"` (`"0s"` allows zero). */
  readonly minimum: Duration;
  /** Longest valid duration, e.g. `"5m"`. */
  readonly maximum: Duration;
  /** Whether the value must be whole seconds (it becomes an integer field such as HPA `periodSeconds`). */
  readonly wholeSeconds?: boolean;
}

/** The {@link DurationBounds} of a schema node, if it is a duration. */
export function durationBoundsOf(schema: unknown): DurationBounds | undefined {
  if (typeof schema !== "object" || schema === null) return undefined;
  return (schema as { "x-duration"?: DurationBounds })["x-duration"];
}

/** A duration string (see duration.ts) within `bounds`; the policy adds `<field>Seconds` beside it. */
function DurationString(description: string, bounds: DurationBounds) {
  const whole = bounds.wholeSeconds === true ? ", in whole seconds" : "";
  return Type.Unsafe<Duration>(
    Type.String({
      pattern: DURATION_PATTERN,
      "x-valid": DURATION_HINT,
      "x-duration": bounds,
      description: `${description} From ${bounds.minimum} to ${bounds.maximum}${whole}.`,
    }),
  );
}

/** Whether a schema node is a duration string (by its pattern). */
export function isDurationSchema(schema: unknown): boolean {
  return (
    typeof schema === "object" &&
    schema !== null &&
    (schema as { pattern?: unknown }).pattern === DURATION_PATTERN
  );
}

/** What a label value may be, for messages. */
export const LABEL_VALUE_HINT =
  'a Kubernetes label value (at most 63 letters, digits, "-", "_" and ".", alphanumeric at both ends)';

/**
 * A map whose keys are Kubernetes qualified names (`app`, `app.kubernetes.io/name`): labels,
 * annotations, node selectors. `x-keys` (non-standard, removed from the CRD schema) makes
 * the loader check every key (see labels.ts); keys such as `__proto__` stay ordinary keys.
 */
function QualifiedNameMap<T extends TSchema>(value: T, description: string) {
  return Type.Record(Type.String(), value, {
    "x-keys": "qualified-name",
    description: `${description} Keys are Kubernetes qualified names such as "app" or "app.kubernetes.io/name".`,
  });
}

/** A map of Kubernetes labels: qualified-name keys, label values. */
function LabelMap(description: string) {
  return QualifiedNameMap(
    Type.String({ maxLength: 63, pattern: LABEL_VALUE_PATTERN, "x-valid": LABEL_VALUE_HINT }),
    description,
  );
}

const strict = { additionalProperties: false } as const;

// ---------------------------------------------------------------------------------------
// spec.models[]

/** `spec.models[].batching.queue`: Triton's `default_queue_policy`. */
export const queuePolicySchema = Type.Object(
  {
    maxQueueSize: withDefault(
      0,
      Type.Integer({
        minimum: 0,
        description:
          "Most requests that may wait in the model's queue; more are rejected at once. 0 means unbounded.",
      }),
    ),
    timeoutMicroseconds: withDefault(
      0,
      Type.Integer({
        minimum: 0,
        description:
          "Microseconds a request may wait in the queue before timeoutAction applies. 0 means no timeout.",
      }),
    ),
    timeoutAction: withDefault(
      "REJECT",
      StringEnum(TIMEOUT_ACTIONS, {
        description:
          "What happens to a request that waited timeoutMicroseconds: REJECT fails it, DELAY lets it wait behind the others.",
      }),
    ),
    allowTimeoutOverride: withDefault(
      false,
      Type.Boolean({
        description: "Whether a request may set its own, shorter queue timeout.",
      }),
    ),
  },
  {
    ...strict,
    description: "Queue policy of the dynamic batcher (Triton default_queue_policy).",
  },
);

/** `spec.models[].batching`: Triton's `dynamic_batching`. */
export const batchingSchema = Type.Object(
  {
    preferredBatchSizes: withDefault(
      [],
      Type.Array(Type.Integer({ minimum: 1 }), {
        maxItems: 32,
        description:
          "Batch sizes the dynamic batcher tries to form, strictly increasing, each between 1 and maxBatchSize. Empty lets Triton use maxBatchSize.",
      }),
    ),
    maxQueueDelayMicroseconds: withDefault(
      100,
      Type.Integer({
        minimum: 0,
        description:
          "Microseconds a request may wait for others to form a batch; must stay below the latency SLO (slo.latencyP99Ms × 1000).",
      }),
    ),
    preserveOrdering: withDefault(
      false,
      Type.Boolean({ description: "Return responses in the order the requests arrived." }),
    ),
    queue: withDefaults(queuePolicySchema),
  },
  {
    ...strict,
    description:
      "Dynamic batching (Triton dynamic_batching). Filled with its defaults when maxBatchSize > 0 and absent; must be absent when maxBatchSize is 0.",
  },
);

/** Largest compute time a profile may give, in milliseconds (10 minutes): beyond it, a typo. */
export const PROFILE_MAX_MS = 600_000;

/** `spec.models[].profile.linear`: a batch of n takes a + b·n milliseconds. */
export const linearProfileSchema = Type.Object(
  {
    a: Type.Number({
      minimum: 0,
      maximum: PROFILE_MAX_MS,
      description:
        "Milliseconds of one batch whatever its size (launch, copies), e.g. 4. a + b must be > 0. Required.",
    }),
    b: Type.Number({
      minimum: 0,
      maximum: PROFILE_MAX_MS,
      description:
        "Milliseconds each request adds to its batch, e.g. 2.2 (0 for a constant time). Required.",
    }),
  },
  {
    ...strict,
    description:
      "A linear profile: a batch of n requests computes in a + b·n ms, the same meaning as the command line's --profile linear:a=<ms>,b=<ms>.",
  },
);

/** One row of `spec.models[].profile.table`: a batch size and its compute time. */
export const profilePointSchema = Type.Object(
  {
    batch: Type.Integer({
      minimum: 1,
      maximum: 1024,
      description:
        "Batch size measured, at most the model's maxBatchSize (1 when maxBatchSize is 0); strictly increasing down the table. Required.",
    }),
    ms: Type.Number({
      exclusiveMinimum: 0,
      maximum: PROFILE_MAX_MS,
      description:
        "Milliseconds one model instance computes a batch of that size (Triton's compute input + infer + output). Required.",
    }),
  },
  { ...strict, description: "A measured batch size and its compute time." },
);

/** `spec.models[].profile`: the model's latency profile, what its capacity at the SLO is computed from. */
export const profileSchema = Type.Object(
  {
    linear: Type.Optional(linearProfileSchema),
    table: Type.Optional(
      Type.Array(profilePointSchema, {
        minItems: 1,
        maxItems: 1024,
        description:
          "A measured profile: batch sizes with their compute times, linear between rows and beyond them (one row: time proportional to the batch size). tritonscale tune --write fills it from a perf_analyzer or Model Analyzer CSV.",
      }),
    ),
    source: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 256,
        pattern: "^[^\\n\\r]*$",
        "x-valid": 'one line of text such as "perf_analyzer:perf.csv"',
        description:
          "Where the profile comes from, for people and reports (tune --write writes the --profile it read). Optional.",
      }),
    ),
  },
  {
    ...strict,
    description:
      "How long one model instance computes a batch of n requests: exactly one of linear or table. The per-replica capacity at the SLO that the tritonscale scaler divides demand by is computed from it (as simulate does); live, the controller corrects it from the observed compute time per batch (between 0.5× and 2×). Optional: without it, the documented default linear a=4, b=2.2 (an assumed YOLOv8s fp16 on a T4) is used, and validate warns.",
  },
);

/** One entry of `spec.models`: a detector served by every replica of the pool. */
export const modelSchema = Type.Object(
  {
    name: Type.String({
      pattern: MODEL_NAME_PATTERN,
      maxLength: 63,
      "x-valid":
        'lowercase letters, digits, "-", "_" and "." starting and ending with a letter or digit (at most 63 characters)',
      description:
        "Triton model name (the folder in the model repository), unique in the pool. Required.",
    }),
    template: Type.String({
      minLength: 1,
      pattern: TEMPLATE_PATTERN,
      "x-valid": 'a folder name in repo-templates/ such as "yolov8-onnx" (no "/")',
      description:
        "Folder in repo-templates/ the model's config.pbtxt is generated from, e.g. yolov8-onnx. Its existence is checked by the generator. Required.",
    }),
    imageSize: Type.Integer({
      minimum: 32,
      maximum: 4096,
      multipleOf: 32,
      description:
        "Square input size in pixels (the network's stride needs a multiple of 32), e.g. 640. Required.",
    }),
    classes: Type.Integer({
      minimum: 1,
      maximum: 10_000,
      description: "Number of object classes the detector outputs, e.g. 80 for COCO. Required.",
    }),
    precision: withDefault(
      "fp16",
      StringEnum(PRECISIONS, {
        description: "Data type the model runs in: fp32, fp16 or int8.",
      }),
    ),
    maxBatchSize: withDefault(
      8,
      Type.Integer({
        minimum: 0,
        maximum: 1024,
        description:
          "Largest batch a model instance executes (Triton max_batch_size). 0 disables batching and the batch dimension.",
      }),
    ),
    batching: Type.Optional(batchingSchema),
    profile: Type.Optional(profileSchema),
    instances: withDefault(
      1,
      Type.Integer({
        minimum: 1,
        maximum: 64,
        description:
          "Model instances per GPU (Triton instance_group count); more overlap pre/post-processing with compute.",
      }),
    ),
    tensorrt: withDefault(
      false,
      Type.Boolean({
        description:
          "Run an ONNX model through ONNX Runtime's TensorRT execution accelerator (faster, longer cold start).",
      }),
    ),
    modelFile: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "Local path of the model file (.onnx, .plan) to copy into the version folder, relative to the ModelPool file. Optional: without it the repository must already hold the file.",
      }),
    ),
    version: withDefault(
      1,
      Type.Integer({
        minimum: 1,
        description: "Model version folder number in the repository.",
      }),
    ),
    warmup: withDefault(
      true,
      Type.Boolean({
        description:
          "Generate Triton model_warmup samples so a replica is ready only once the model ran once.",
      }),
    ),
  },
  { ...strict, description: "A detection model served by every replica of the pool." },
);

// ---------------------------------------------------------------------------------------
// spec.slo

/** `spec.slo`: the latency objective the pool is scaled to meet. */
export const sloSchema = Type.Object(
  {
    latencyP99Ms: Type.Number({
      exclusiveMinimum: 0,
      maximum: 60_000,
      description:
        "99th-percentile end-to-end request latency objective in milliseconds (queue + compute). Required.",
    }),
    targetAttainment: withDefault(
      0.995,
      Type.Number({
        exclusiveMinimum: 0,
        maximum: 1,
        description:
          "Fraction of windows in which the observed p99 must be within latencyP99Ms; what reports and the simulator measure.",
      }),
    ),
    window: withDefault(
      "1m",
      DurationString("Length of one attainment window over which the p99 latency is measured.", {
        minimum: "1s",
        maximum: "24h",
      }),
    ),
  },
  { ...strict, description: "Latency service-level objective." },
);

// ---------------------------------------------------------------------------------------
// spec.scaling

function behaviorSchema(
  direction: "up" | "down",
  d: { stabilizationWindow: Duration; maxPodsPerPeriod: number; maxPercentPerPeriod: number },
) {
  const s = Type.Object(
    {
      stabilizationWindow: withDefault(
        d.stabilizationWindow,
        DurationString(
          direction === "up"
            ? "Scale up to the lowest recommendation seen within this window (0s reacts at once)."
            : "Scale down only to the highest recommendation seen within this window.",
          { minimum: "0s", maximum: "1h", wholeSeconds: true },
        ),
      ),
      maxPodsPerPeriod: withDefault(
        d.maxPodsPerPeriod,
        Type.Integer({
          minimum: 0,
          maximum: 1000,
          description: `Replicas that may be ${direction === "up" ? "added" : "removed"} per period. The larger of this and maxPercentPerPeriod applies; 0 leaves only the percent limit.`,
        }),
      ),
      maxPercentPerPeriod: withDefault(
        d.maxPercentPerPeriod,
        Type.Integer({
          minimum: 0,
          maximum: 10_000,
          description: `Percent of the current replicas that may be ${direction === "up" ? "added" : "removed"} per period; 0 leaves only the pod limit.`,
        }),
      ),
      period: withDefault(
        "15s",
        DurationString("Period the two limits apply to (HPA periodSeconds).", {
          minimum: "1s",
          maximum: "30m",
          wholeSeconds: true,
        }),
      ),
    },
    {
      ...strict,
      description: `How fast the pool may scale ${direction} (Kubernetes HPA behavior.scale${direction === "up" ? "Up" : "Down"}, selectPolicy Max).`,
    },
  );
  return withDefaults(s);
}

/** `spec.scaling.schedules[]`: a recurring minimum, e.g. pre-warm before the morning peak. */
export const scheduleSchema = Type.Object(
  {
    name: Type.String({
      pattern: DNS_LABEL_PATTERN,
      maxLength: 63,
      "x-valid": 'a DNS label such as "weekday-peak"',
      description: "Name of the schedule, unique in the pool. Required.",
    }),
    cron: Type.String({
      pattern: CRON_PATTERN,
      "x-valid":
        'a 5-field cron expression "minute hour day-of-month month day-of-week" such as "0 8 * * 1-5"',
      description:
        'When the schedule starts: a 5-field cron expression, e.g. "30 7 * * 1-5" (07:30 Monday to Friday). Required.',
    }),
    timezone: withDefault(
      "UTC",
      Type.String({
        minLength: 1,
        description: "IANA time zone the cron expression is read in, e.g. Europe/Berlin.",
      }),
    ),
    duration: DurationString("How long the minimum holds after each start, e.g. 10h. Required.", {
      minimum: "1s",
      maximum: "168h",
    }),
    minReplicas: Type.Integer({
      minimum: 0,
      maximum: 1000,
      description:
        "Replicas kept at least while the schedule is active; at most maxReplicas. Required.",
    }),
  },
  { ...strict, description: "A recurring minimum replica count." },
);

/**
 * `spec.scaling.keda.tls`: TLS between KEDA and tritonscale's external scaler. The controller
 * serves with `--tls-cert/--tls-key` (and `--client-ca` for mutual TLS); the pool's
 * ScaledObjects then set `enableTLS` and take the CA (and KEDA's client certificate) from a
 * TriggerAuthentication on this Secret, so both sides are configured from one place.
 */
export const kedaTlsSchema = Type.Object(
  {
    secretName: Type.String({
      pattern: DNS_LABEL_PATTERN,
      maxLength: 63,
      "x-valid": 'a Secret name such as "tritonscale-keda-client"',
      description:
        "Secret in the pool's namespace with the CA that signed the controller's serving certificate under key ca.crt and, with clientCertificate, KEDA's client certificate and key under tls.crt and tls.key (the keys a cert-manager Certificate writes). Required.",
    }),
    clientCertificate: withDefault(
      false,
      Type.Boolean({
        description:
          "Mutual TLS: KEDA presents tls.crt / tls.key from the Secret (the controller runs with --client-ca).",
      }),
    ),
  },
  { ...strict, description: "TLS to the external scaler." },
);

/** `spec.scaling.keda`: the KEDA ScaledObject (engine keda). */
export const kedaSchema = Type.Object(
  {
    scalerAddress: withDefault(
      "tritonscale.tritonscale-system.svc:9090",
      Type.String({
        pattern: "^[A-Za-z0-9.-]+:[0-9]{1,5}$",
        "x-valid": 'host:port such as "tritonscale.tritonscale-system.svc:9090"',
        description:
          "gRPC address of tritonscale's KEDA external scaler (the external trigger's scalerAddress).",
      }),
    ),
    prometheusFallback: withDefault(
      true,
      Type.Boolean({
        description:
          "Add a prometheus trigger on queue time beside the external one, so scaling goes on if the tritonscale controller is down (KEDA's fallback never fires for a failing external scaler, KEDA 8056).",
      }),
    ),
    tls: Type.Optional(kedaTlsSchema),
    hpaTolerance: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 1,
        description:
          "Tolerance of the HPA that KEDA creates (behavior.scaleUp/scaleDown.tolerance), e.g. 0. Unset: not rendered, and the cluster-wide 10% applies, so from 10 replicas up the HPA ignores a decision within 10% of the current count (at 20 replicas it stays at 20 for a decision of 18 to 22). 0: the HPA applies every decision exactly (the controller's decision already applies scaling.tolerance). Needs Kubernetes >= 1.33 with the HPAConfigurableTolerance feature gate; without it the API server drops the field.",
      }),
    ),
  },
  { ...strict, description: "KEDA ScaledObject settings (engine keda)." },
);

/**
 * `spec.scaling.history`: the tritonscale scaler's learned history of the pool's arrival
 * rate (scaling/history.ts): a ring of `window / resolution` buckets (at most 20,000; a
 * longer window is cut to that many) plus small histograms, a few hundred KiB at most,
 * saved where the next leader finds it.
 */
export const historySchema = Type.Object(
  {
    enabled: withDefault(
      true,
      Type.Boolean({
        description:
          "Learn the traffic's shape: headroom for the lead time, clumped arrivals, scale-down that pays, keep-alive from idle gaps, recurring patterns. false: the reactive capacity model alone.",
      }),
    ),
    resolution: withDefault(
      "30s",
      DurationString("Length of one history bucket (the mean arrival rate over it).", {
        minimum: "10s",
        maximum: "10m",
        wholeSeconds: true,
      }),
    ),
    window: withDefault(
      "48h",
      DurationString(
        "How much history is kept (two days: a daily pattern is seen twice). At most 20,000 buckets are kept; a longer window is cut to that.",
        { minimum: "1h", maximum: "336h", wholeSeconds: true },
      ),
    ),
    warmup: withDefault(
      "10m",
      DurationString(
        "History needed before the learned terms apply; before that the scaler is the reactive capacity model alone.",
        { minimum: "0s", maximum: "48h", wholeSeconds: true },
      ),
    ),
    leadQuantile: Type.Optional(
      Type.Number({
        minimum: 0.5,
        maximum: 1,
        description:
          "Quantile of the learned rise of demand within the lead time (coldStart + nodeProvisioning) that capacity is held for. Unset: spec.slo.targetAttainment.",
      }),
    ),
    downQuantile: withDefault(
      0.9,
      Type.Number({
        minimum: 0,
        maximum: 1,
        description:
          "Scale-down pays only if, with this probability, demand does not come back within nodeLinger + the lead time (the time a removed replica is still paid for plus the time to bring it back): capacity for this quantile of the learned rise within that time is kept. 0 disables.",
      }),
    ),
    nodeLinger: withDefault(
      "10m",
      DurationString(
        "How long an emptied GPU node stays (and is billed) before the node autoscaler removes it. simulate's cluster model lingers nodes this long too. With provider karpenter the rendered NodePool's consolidateAfter is this; elsewhere set the node autoscaler to match (cluster-autoscaler's --scale-down-unneeded-time, 10m by default, is cluster-wide).",
        { minimum: "0s", maximum: "2h", wholeSeconds: true },
      ),
    ),
    minGaps: withDefault(
      10,
      Type.Integer({
        minimum: 1,
        maximum: 1000,
        description:
          "Idle gaps observed before their histogram replaces idleWindow (keep-alive = its 99th percentile, pre-warm = its 5th, Shahrad et al., ATC 2020).",
      }),
    ),
    minCorrelation: withDefault(
      0.8,
      Type.Number({
        minimum: 0,
        maximum: 1,
        description:
          "Autocorrelation at a period (15m, 20m, 30m, 1h, 24h) above which the pattern counts as recurring and the load one period ago pre-warms the pool; 1 disables.",
      }),
    ),
  },
  { ...strict, description: "The tritonscale scaler's learned history." },
);

/** `spec.scaling`: how replica counts are decided and actuated. */
export const scalingSchema = Type.Object(
  {
    engine: withDefault(
      "keda",
      StringEnum(SCALING_ENGINES, {
        description:
          "Kubernetes object that actuates replica counts: keda (ScaledObject with tritonscale's external scaler; can scale to zero) or hpa (HorizontalPodAutoscaler on an external metric; minReplicas >= 1).",
      }),
    ),
    scaler: withDefault(
      "tritonscale",
      StringEnum(SCALERS, {
        description:
          "Algorithm that decides replica counts: tritonscale (capacity model at the SLO), or a baseline for comparison: hpa-gpu (the Kubernetes HPA on 70% GPU utilization), keda-queue (a KEDA trigger on pending requests) or fallback (the rendered KEDA prometheus trigger on queue time alone, as while the controller is down: scale-ups only).",
      }),
    ),
    minReplicas: withDefault(
      0,
      Type.Integer({
        minimum: 0,
        maximum: 1000,
        description: "Fewest replicas; 0 allows scale to zero after idleWindow.",
      }),
    ),
    maxReplicas: withDefault(
      10,
      Type.Integer({
        minimum: 1,
        maximum: 1000,
        description: "Most replicas, the cost ceiling; at least minReplicas.",
      }),
    ),
    loadBalancing: withDefault(
      "random",
      StringEnum(LOAD_BALANCING, {
        description:
          "How requests reach the pool's ready replicas: random (a plain Kubernetes Service: kube-proxy picks a replica per connection, and gRPC or HTTP/2 clients keep theirs, so each replica sees at best a random share) or roundRobin (a proxy that balances each request in turn, such as Envoy, an Istio or Gateway API route). With roundRobin, n replicas each receive a steadier stream and each sustains more at the SLO, and the tritonscale scaler plans with that capacity curve; with random it plans with one replica's capacity on a random (Poisson) share, which a roundRobin pool only exceeds. simulate routes as this says: round robin, or each request to a uniformly random ready replica.",
      }),
    ),
    targetUtilization: withDefault(
      0.85,
      Type.Number({
        exclusiveMinimum: 0,
        maximum: 1,
        description:
          "Fraction of a replica's capacity at the SLO that the tritonscale scaler plans to use; the rest absorbs bursts. The capacity is already the rate at which p99 just meets the SLO, so this is higher than the usual 70% GPU-utilization target (simulated YOLOv8s diurnal day: 0.85 holds 100% of requests within the SLO at 1.09× the oracle's GPU-hours, 0.7 at 1.25×).",
      }),
    ),
    tolerance: withDefault(
      0.1,
      Type.Number({
        minimum: 0,
        maximum: 1,
        description:
          "Relative change of the desired replica count below which nothing changes (HPA tolerance).",
      }),
    ),
    syncPeriod: withDefault(
      "15s",
      DurationString("How often the controller decides.", { minimum: "1s", maximum: "5m" }),
    ),
    staleAfter: withDefault(
      "45s",
      DurationString(
        "Age after which a metric counts as missing: the scaler then holds and never scales down.",
        { minimum: "1s", maximum: "1h" },
      ),
    ),
    scaleUp: behaviorSchema("up", {
      stabilizationWindow: "0s",
      maxPodsPerPeriod: 4,
      maxPercentPerPeriod: 100,
    }),
    scaleDown: behaviorSchema("down", {
      stabilizationWindow: "5m",
      maxPodsPerPeriod: 0,
      maxPercentPerPeriod: 100,
    }),
    idleWindow: withDefault(
      "10m",
      DurationString(
        "Time without arrivals or pending requests before the pool may scale to zero (the controller decides it; KEDA's cooldownPeriod is then one polling interval).",
        { minimum: "1s", maximum: "24h", wholeSeconds: true },
      ),
    ),
    coldStart: withDefault(
      "90s",
      DurationString(
        "Expected time from a pod bound to a node to Ready (image pull, model load, warmup).",
        { minimum: "0s", maximum: "1h" },
      ),
    ),
    nodeProvisioning: withDefault(
      "2m",
      DurationString(
        "Expected time to add a GPU node when none is free (cluster autoscaler or Karpenter, GPU driver setup). The tritonscale scaler pre-warms for schedules and rising load by coldStart + nodeProvisioning, the time new capacity takes.",
        { minimum: "0s", maximum: "1h" },
      ),
    ),
    schedules: withDefault(
      [],
      Type.Array(scheduleSchema, {
        maxItems: 50,
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["name"],
        description: "Recurring minimum replica counts, e.g. for known daily peaks.",
      }),
    ),
    keda: withDefaults(kedaSchema),
    history: withDefaults(historySchema),
  },
  { ...strict, description: "How replica counts are decided and actuated." },
);

// ---------------------------------------------------------------------------------------
// spec.capacity

/** `spec.capacity.tolerations[]`: a Kubernetes toleration, passed through to pods. */
export const tolerationSchema = Type.Object(
  {
    key: Type.Optional(
      Type.String({
        maxLength: 317,
        pattern: QUALIFIED_NAME_OR_EMPTY_PATTERN,
        "x-valid":
          'a Kubernetes qualified name such as "nvidia.com/gpu" (an optional DNS-subdomain prefix and "/", then at most 63 letters, digits, "-", "_" and ".", alphanumeric at both ends), or empty',
        description: "Taint key; empty with Exists matches all.",
      }),
    ),
    operator: Type.Optional(
      StringEnum(TOLERATION_OPERATORS, { description: "Exists or Equal (Kubernetes default)." }),
    ),
    value: Type.Optional(
      Type.String({
        maxLength: 63,
        pattern: LABEL_VALUE_PATTERN,
        "x-valid": LABEL_VALUE_HINT,
        description: "Taint value, for operator Equal.",
      }),
    ),
    effect: Type.Optional(
      StringEnum(TAINT_EFFECTS, {
        description: "Taint effect to match; empty matches all effects.",
      }),
    ),
    tolerationSeconds: Type.Optional(
      Type.Integer({
        description: "For NoExecute: seconds the pod stays bound after the taint appears.",
      }),
    ),
  },
  { ...strict, description: "A Kubernetes toleration (core/v1 Toleration)." },
);

/** `spec.capacity`: the GPU nodes replicas run on and the Spot / on-demand split. */
export const capacitySchema = Type.Object(
  {
    provider: withDefault(
      "generic",
      StringEnum(PROVIDERS, {
        description:
          "Where GPU nodes come from: gke, eks, aks, karpenter or generic; decides the Spot node labels and taints.",
      }),
    ),
    gpu: withDefaults(
      Type.Object(
        {
          type: withDefault(
            "nvidia-tesla-t4",
            Type.String({
              minLength: 1,
              maxLength: 63,
              pattern: LABEL_VALUE_PATTERN,
              "x-valid":
                'a GPU name such as "nvidia-l4" (it becomes a node label value: at most 63 letters, digits, "-", "_" and ".", alphanumeric at both ends)',
              description:
                "GPU model as the provider names it, e.g. nvidia-tesla-t4, nvidia-l4, nvidia-a10g.",
            }),
          ),
          count: withDefault(
            1,
            Type.Integer({ minimum: 1, maximum: 16, description: "GPUs per replica." }),
          ),
          resourceName: withDefault(
            "nvidia.com/gpu",
            Type.String({
              minLength: 1,
              maxLength: 317,
              pattern: QUALIFIED_NAME_OR_EMPTY_PATTERN,
              "x-valid":
                'a Kubernetes resource name such as "nvidia.com/gpu" (an optional DNS-subdomain prefix and "/", then at most 63 letters, digits, "-", "_" and ".", alphanumeric at both ends)',
              description: "Extended resource requested for the GPUs.",
            }),
          ),
        },
        { ...strict, description: "The GPU each replica gets." },
      ),
    ),
    spot: withDefaults(
      Type.Object(
        {
          enabled: withDefault(
            false,
            Type.Boolean({ description: "Run replicas above onDemandBase on Spot capacity." }),
          ),
          onDemandBase: withDefault(
            1,
            Type.Integer({
              minimum: 0,
              maximum: 1000,
              description:
                "Replicas always on on-demand capacity (when that many are wanted); at most maxReplicas.",
            }),
          ),
          fallbackAfter: withDefault(
            "3m",
            DurationString(
              "How long a Spot replica may stay unschedulable before an on-demand one replaces it.",
              { minimum: "0s", maximum: "1h" },
            ),
          ),
        },
        { ...strict, description: "Spot capacity." },
      ),
    ),
    karpenterNodeClass: withDefault(
      "default",
      Type.String({
        pattern: DNS_LABEL_PATTERN,
        "x-valid": "the name of an EC2NodeClass in the cluster",
        description:
          "EC2NodeClass the Karpenter NodePool of the pool's GPU nodes uses (provider karpenter only).",
      }),
    ),
    nodeSelector: withDefault({}, LabelMap("Extra node labels the pods require.")),
    tolerations: withDefault(
      [],
      Type.Array(tolerationSchema, {
        "x-kubernetes-list-type": "atomic",
        description: "Extra tolerations for the pods (Spot taints are added for you).",
      }),
    ),
  },
  { ...strict, description: "GPU capacity the replicas run on." },
);

// ---------------------------------------------------------------------------------------
// spec.cost

/** `spec.cost`: prices for cost reports and the Spot / on-demand trade-off. */
export const costSchema = Type.Object(
  {
    currency: withDefault(
      "USD",
      Type.String({
        pattern: "^[A-Z]{3}$",
        "x-valid": 'an ISO 4217 code such as "USD" or "EUR"',
        description: "ISO 4217 currency of the prices.",
      }),
    ),
    onDemandPerGpuHour: withDefault(
      0.526,
      Type.Number({
        minimum: 0,
        description:
          "On-demand price of one GPU node-hour (AWS g4dn.xlarge with one T4 by default).",
      }),
    ),
    spotPerGpuHour: withDefault(
      0.19,
      Type.Number({
        minimum: 0,
        description: "Spot price of one GPU node-hour (g4dn.xlarge Spot by default).",
      }),
    ),
  },
  { ...strict, description: "Prices used by cost reports and the Spot split." },
);

// ---------------------------------------------------------------------------------------
// spec.triton

/** `spec.triton.modelRepository`: where Triton loads models from. */
export const modelRepositorySchema = Type.Object(
  {
    source: withDefault(
      "local",
      StringEnum(REPOSITORY_SOURCES, {
        description:
          "local (a folder baked into or mounted at path), s3, gcs or azure (uri), or pvc (claimName mounted at path).",
      }),
    ),
    uri: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "Bucket URI for s3 (s3://bucket/prefix), gcs (gs://bucket/prefix) or azure (as://account/container/prefix). Required for those sources only.",
      }),
    ),
    claimName: Type.Optional(
      Type.String({
        pattern: "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$",
        maxLength: 253,
        "x-valid": "a PersistentVolumeClaim name",
        description: "PersistentVolumeClaim holding the repository. Required for source pvc only.",
      }),
    ),
    path: withDefault(
      "/models",
      Type.String({
        pattern: "^/",
        "x-valid": 'an absolute path such as "/models"',
        description: "Path of the repository inside the Triton container (local and pvc).",
      }),
    ),
    credentialsSecret: Type.Optional(
      Type.String({
        pattern: DNS_LABEL_PATTERN,
        "x-valid": "a Secret name",
        description:
          "Secret whose keys become the container's environment for bucket credentials (s3, gcs, azure).",
      }),
    ),
  },
  { ...strict, description: "Where Triton loads the model repository from." },
);

/** `spec.triton`: the Triton Inference Server each replica runs. */
export const tritonSchema = Type.Object(
  {
    image: withDefault(
      "nvcr.io/nvidia/tritonserver:24.08-py3",
      Type.String({ minLength: 1, description: "Triton container image." }),
    ),
    modelRepository: withDefaults(modelRepositorySchema),
    modelControlMode: withDefault(
      "none",
      StringEnum(MODEL_CONTROL_MODES, {
        description:
          "Triton --model-control-mode: none (load all at start), explicit (load on request) or poll.",
      }),
    ),
    strictModelConfig: withDefault(
      true,
      Type.Boolean({
        description:
          "Refuse models without a complete config.pbtxt: Triton's --disable-auto-complete-config (the deprecated --strict-model-config=true since Triton 2.24).",
      }),
    ),
    ports: withDefaults(
      Type.Object(
        {
          http: withDefault(
            8000,
            Type.Integer({ minimum: 1, maximum: 65_535, description: "HTTP/REST port." }),
          ),
          grpc: withDefault(
            8001,
            Type.Integer({ minimum: 1, maximum: 65_535, description: "gRPC port." }),
          ),
          metrics: withDefault(
            8002,
            Type.Integer({ minimum: 1, maximum: 65_535, description: "Prometheus metrics port." }),
          ),
        },
        { ...strict, description: "Container ports; must differ from each other." },
      ),
    ),
    resources: withDefaults(
      Type.Object(
        {
          cpu: withDefault(
            "2",
            Type.String({
              pattern: QUANTITY_PATTERN,
              "x-valid": 'a Kubernetes quantity such as "2" or "500m" (quoted)',
              description: "CPU request of the Triton container.",
            }),
          ),
          memory: withDefault(
            "8Gi",
            Type.String({
              pattern: QUANTITY_PATTERN,
              "x-valid": 'a Kubernetes quantity such as "8Gi"',
              description: "Memory request (and limit) of the Triton container.",
            }),
          ),
        },
        { ...strict, description: "CPU and memory of the Triton container (GPUs: capacity.gpu)." },
      ),
    ),
    args: withDefault(
      [],
      Type.Array(
        Type.String({
          pattern: "^--[a-z]",
          "x-valid": 'a Triton flag such as "--log-verbose=1"',
        }),
        {
          "x-kubernetes-list-type": "atomic",
          description:
            "Extra tritonserver flags; flags tritonscale sets from other fields are rejected.",
        },
      ),
    ),
  },
  { ...strict, description: "The Triton Inference Server each replica runs." },
);

// ---------------------------------------------------------------------------------------
// The resource

/** `metadata`: the Kubernetes object metadata a ModelPool file may set. */
export const metadataSchema = Type.Object(
  {
    name: Type.String({
      pattern: DNS_LABEL_PATTERN,
      maxLength: 63,
      "x-valid": 'a DNS label such as "yolo-detect" (lowercase letters, digits and "-")',
      description: "Name of the pool; names of generated objects derive from it. Required.",
    }),
    namespace: withDefault(
      "default",
      Type.String({
        pattern: DNS_LABEL_PATTERN,
        maxLength: 63,
        "x-valid": "a DNS label",
        description: "Namespace of the pool and its Deployments.",
      }),
    ),
    labels: withDefault({}, LabelMap("Labels copied to generated objects.")),
    annotations: withDefault({}, QualifiedNameMap(Type.String(), "Annotations of the pool.")),
  },
  { ...strict, description: "Kubernetes object metadata." },
);

/** `spec`: the desired state of the pool. */
// ---------------------------------------------------------------------------------------
// spec.monitoring

/** Where GPU utilization is read from. */
export const GPU_METRIC_SOURCES = ["triton", "dcgm"] as const;
export type GpuMetricSource = (typeof GPU_METRIC_SOURCES)[number];

/** Where the controller reads the pool's load: Triton's pods directly, or Prometheus's API. */
export const METRICS_SOURCES = ["scrape", "prometheus"] as const;
export type MetricsSourceKind = (typeof METRICS_SOURCES)[number];

/** prometheus-operator objects that make Prometheus scrape the pool. */
export const MONITOR_KINDS = ["ServiceMonitor", "PodMonitor"] as const;
export type MonitorKind = (typeof MONITOR_KINDS)[number];

/** `spec.monitoring`: how the pool's metrics reach Prometheus, KEDA and the adapter. */
export const monitoringSchema = Type.Object(
  {
    prometheusAddress: withDefault(
      "http://prometheus-operated.monitoring.svc:9090",
      Type.String({
        pattern: "^https?://[^\\s]+$",
        "x-valid": 'an http(s) URL such as "http://prometheus-operated.monitoring.svc:9090"',
        description:
          "Prometheus the KEDA prometheus trigger and prometheus-adapter query (in-cluster URL).",
      }),
    ),
    source: withDefault(
      "scrape",
      StringEnum(METRICS_SOURCES, {
        "x-valid": '"scrape" or "prometheus"',
        description:
          "Where the controller reads the pool's load each sync period: scrape (GET every ready Triton pod's :8002/metrics itself, plus gRPC readiness) or prometheus (instant queries of the same raw counters, per pod, from prometheusAddress; for clusters whose network policy forbids the controller to reach the pods).",
      }),
    ),
    gpuUtilization: withDefault(
      "triton",
      StringEnum(GPU_METRIC_SOURCES, {
        description:
          "GPU utilization series: triton (nv_gpu_utilization from Triton's metrics port) or dcgm (DCGM_FI_DEV_GPU_UTIL from dcgm-exporter).",
      }),
    ),
    monitor: withDefault(
      "ServiceMonitor",
      StringEnum(MONITOR_KINDS, {
        description: "prometheus-operator object that makes Prometheus scrape Triton.",
      }),
    ),
    scrapeInterval: withDefault(
      "15s",
      DurationString("How often Prometheus scrapes Triton's metrics.", {
        minimum: "1s",
        maximum: "5m",
      }),
    ),
    labels: withDefault(
      {},
      LabelMap(
        "Labels on the ServiceMonitor/PodMonitor and PrometheusRule, e.g. { release: prometheus } for a Prometheus that selects by label.",
      ),
    ),
    frontDoor: Type.Optional(
      Type.Object(
        {
          requests: Type.String({
            minLength: 1,
            maxLength: 4096,
            "x-valid":
              'a PromQL expression giving one counter, e.g. "sum(envoy_cluster_upstream_rq_total{envoy_cluster_name="vision_yolo-triton_8001"})"',
            description:
              "PromQL for a counter of the requests that reach the pool at its front door (an ingress, gateway or mesh proxy), summed to one value; queried on prometheusAddress every sync period. The pool's arrival rate is then counted there, also while no replica runs: the only signal that can bring a pool up from zero replicas on its own.",
          }),
          pending: Type.Optional(
            Type.String({
              minLength: 1,
              maxLength: 4096,
              "x-valid": "a PromQL expression giving one gauge",
              description:
                "PromQL for the requests the front door holds while no replica can take them (a gauge, e.g. an activator's queue), summed to one value. Without it the front door holds none.",
            }),
          ),
        },
        {
          ...strict,
          description:
            "Where requests arrive before Triton, for scaling from zero (Triton exports nothing while no replica runs). Optional.",
        },
      ),
    ),
  },
  {
    ...strict,
    description: "How the pool's metrics reach Prometheus, KEDA and prometheus-adapter.",
  },
);

export const modelPoolSpecSchema = Type.Object(
  {
    models: Type.Array(modelSchema, {
      minItems: 1,
      maxItems: 64,
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["name"],
      description: "The detectors every replica serves (at least one). Required.",
    }),
    slo: sloSchema,
    scaling: withDefaults(scalingSchema),
    capacity: withDefaults(capacitySchema),
    cost: withDefaults(costSchema),
    triton: withDefaults(tritonSchema),
    monitoring: withDefaults(monitoringSchema),
  },
  { ...strict, description: "Desired state of the pool." },
);

/**
 * The ModelPool document (and custom resource): the JSON Schema every ModelPool file is
 * validated against. Kubernetes-specific output comes from {@link buildCrdOpenApiSchema}.
 */
export const modelPoolSchema = Type.Object(
  {
    apiVersion: Type.Literal(API_VERSION, {
      description: `API version of the resource: ${API_VERSION}. Required.`,
    }),
    kind: Type.Literal(KIND, { description: `Kind of the resource: ${KIND}. Required.` }),
    metadata: metadataSchema,
    spec: modelPoolSpecSchema,
  },
  {
    ...strict,
    $id: "https://tritonscale.dev/schemas/v1alpha1/modelpool.json",
    description:
      "A pool of NVIDIA Triton Inference Server replicas serving YOLO detectors, scaled to meet a latency SLO at the least GPU cost.",
  },
);

// ---------------------------------------------------------------------------------------
// Types

/** A ModelPool document after defaults are filled (durations still strings). */
export type ModelPoolDocument = Static<typeof modelPoolSchema>;
/** `spec` of a defaulted ModelPool document. */
export type ModelPoolSpecDocument = Static<typeof modelPoolSpecSchema>;

/**
 * Deeply readonly view of a defaulted document in which every duration field `x` gets a
 * sibling `xSeconds` holding its value in seconds.
 */
export type Resolved<T> = T extends string | number | boolean | null | undefined
  ? T
  : T extends readonly (infer U)[]
    ? readonly Resolved<U>[]
    : T extends object
      ? { readonly [K in keyof T]: Resolved<T[K]> } & {
          readonly [K in keyof T as K extends string
            ? NonNullable<T[K]> extends Duration
              ? `${K}Seconds`
              : never
            : never]: number;
        }
      : T;

/** A path into a ModelPool: dotted with indices, e.g. `spec.models[0].template`, or its segments. */
export type PolicyPath = string | readonly (string | number)[];

/**
 * Where a policy came from, so later stages (e.g. the generator finding that a template
 * folder is missing) can report semantic errors at the right file:line:col.
 */
export interface PolicySource {
  /** The file the policy was read from, as the user named it. */
  readonly file: string;
  /** Position of the value at `path` as written, or undefined when it was not written (defaulted) or the input had no positions. */
  positionOf(path: PolicyPath): SourcePos | undefined;
  /** Position of the key of `path` as written (`name:` in a mapping), else like {@link positionOf}. */
  keyPositionOf(path: PolicyPath): SourcePos | undefined;
  /** Position of `path`, or of its nearest written ancestor (for defaulted fields), or undefined without positions. */
  nearestPositionOf(path: PolicyPath): SourcePos | undefined;
  /** A {@link Problem} at `path` (its nearest written position) with `message`. */
  problemAt(path: PolicyPath, message: string, rule?: string): Problem;
}

/**
 * The validated, defaulted, deeply frozen ModelPool every later stage takes. Mirrors the
 * document (`policy.spec.models[0].imageSize`), adds `<duration>Seconds` beside every
 * duration (`policy.spec.scaling.idleWindowSeconds`), and carries its {@link PolicySource}
 * (non-enumerable, so it stays out of JSON and deep-equality).
 */
export type Policy = Resolved<ModelPoolDocument> & { readonly source: PolicySource };

/** One model of a {@link Policy}. */
export type PolicyModel = Policy["spec"]["models"][number];
/** The scaling section of a {@link Policy}. */
export type PolicyScaling = Policy["spec"]["scaling"];
/** A schedule of a {@link Policy}. */
export type PolicySchedule = PolicyScaling["schedules"][number];

// ---------------------------------------------------------------------------------------
// Kubernetes CRD schema

/** A JSON value (what a structural schema is made of). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };

/** Keywords a Kubernetes structural schema (apiextensions.k8s.io/v1 JSONSchemaProps) keeps. */
const crdKeywords = new Set([
  "type",
  "description",
  "default",
  "enum",
  "minimum",
  "maximum",
  "multipleOf",
  "pattern",
  "minLength",
  "maxLength",
  "minItems",
  "maxItems",
  "uniqueItems",
  "nullable",
  "format",
]);

/**
 * Builds the CRD's `openAPIV3Schema` for ModelPool from {@link modelPoolSchema}: plain JSON,
 * no TypeBox symbols, `$id` or `x-valid`; `anyOf` of constants becomes `enum`; JSON Schema
 * `exclusiveMinimum: n` becomes OpenAPI 3.0 `minimum: n, exclusiveMinimum: true`; maps become
 * `additionalProperties: {schema}`; `additionalProperties: false` is dropped (Kubernetes
 * rejects it beside `properties`; the API server prunes unknown fields instead);
 * `metadata`, `apiVersion` and `kind` are left to the API server; `x-kubernetes-*`
 * extensions are kept.
 */
export function buildCrdOpenApiSchema(): { [k: string]: JsonValue } {
  return buildStructural(new Set());
}

/**
 * {@link buildCrdOpenApiSchema} keeping the `x-duration` ranges, which the CRD cannot hold:
 * what the reference docs are rendered from.
 */
export function buildReferenceSchema(): { [k: string]: JsonValue } {
  return buildStructural(new Set(["x-duration"]));
}

function buildStructural(extra: ReadonlySet<string>): { [k: string]: JsonValue } {
  const out = toStructural(modelPoolSchema, extra) as { [k: string]: JsonValue };
  const props = out.properties as { [k: string]: { [k: string]: JsonValue } };
  // The API server owns these three; it checks apiVersion and kind against the CRD itself.
  props.metadata = { type: "object" };
  for (const k of ["apiVersion", "kind"]) {
    props[k] = { type: "string", description: props[k]!.description! };
  }
  return out;
}

function toStructural(schema: unknown, extra: ReadonlySet<string>): JsonValue {
  const s = schema as Record<string, unknown>;
  const out: { [k: string]: JsonValue } = {};
  if (Array.isArray(s.anyOf)) {
    const consts = (s.anyOf as Record<string, unknown>[]).map((v) => v.const);
    out.type = typeof consts[0] === "number" ? "number" : "string";
    out.enum = consts as JsonValue[];
  }
  if ("const" in s) {
    out.type = typeof s.const === "number" ? "number" : "string";
    out.enum = [s.const as JsonValue];
  }
  for (const [k, v] of Object.entries(s)) {
    if (crdKeywords.has(k) || k.startsWith("x-kubernetes-") || extra.has(k)) {
      out[k] = structuredClone(v) as JsonValue;
    }
  }
  if (typeof s.exclusiveMinimum === "number") {
    out.minimum = s.exclusiveMinimum;
    out.exclusiveMinimum = true;
  }
  if (typeof s.exclusiveMaximum === "number") {
    out.maximum = s.exclusiveMaximum;
    out.exclusiveMaximum = true;
  }
  if (typeof s.properties === "object" && s.properties !== null) {
    const props: { [k: string]: JsonValue } = {};
    for (const [k, v] of Object.entries(s.properties)) props[k] = toStructural(v, extra);
    out.properties = props;
    if (Array.isArray(s.required) && s.required.length > 0) out.required = [...s.required];
  }
  if (typeof s.patternProperties === "object" && s.patternProperties !== null) {
    const [valueSchema] = Object.values(s.patternProperties);
    out.additionalProperties = toStructural(valueSchema, extra);
  }
  if (typeof s.items === "object" && s.items !== null) out.items = toStructural(s.items, extra);
  return out;
}
