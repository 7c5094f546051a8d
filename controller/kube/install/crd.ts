/**
 * The ModelPool CustomResourceDefinition and the `status` the controller writes.
 */
import { type Static, Type } from "@sinclair/typebox";
import {
  CustomResourceDefinition,
  type IJSONSchemaProps,
} from "kubernetes-models/apiextensions.k8s.io/v1";
import { API_GROUP, buildCrdOpenApiSchema, KIND } from "../../policy/schema.js";
import {
  controllerLabels,
  MODELPOOL_CRD_NAME,
  MODELPOOL_PLURAL,
  MODELPOOL_VERSION,
  validated,
} from "./names.js";

/** A standard Kubernetes condition (metav1.Condition) on a ModelPool. */
export const modelPoolConditionSchema = Type.Object(
  {
    type: Type.String({
      minLength: 1,
      maxLength: 316,
      description:
        "Condition type in CamelCase: Valid (the spec loads), Applied (every rendered object is applied), MetricsFresh (the scaler's signals are fresh), ScalerReady (decisions are made and served to KEDA).",
    }),
    status: Type.Unsafe<"True" | "False" | "Unknown">({
      type: "string",
      enum: ["True", "False", "Unknown"],
      description: "Whether the condition holds: True, False or Unknown.",
    }),
    observedGeneration: Type.Optional(
      Type.Integer({
        minimum: 0,
        format: "int64",
        description: "metadata.generation the condition was set for.",
      }),
    ),
    lastTransitionTime: Type.String({
      format: "date-time",
      description: "When status last changed (RFC 3339).",
    }),
    reason: Type.String({
      minLength: 1,
      maxLength: 1024,
      description: "Why, in one CamelCase word, e.g. MetricsStale.",
    }),
    message: Type.String({
      maxLength: 32_768,
      description: "Why, for humans; may be empty.",
    }),
  },
  { description: "A condition of the pool (metav1.Condition)." },
);

const replicaCount = (description: string) => Type.Integer({ minimum: 0, description });

/** The scaler's last decision in a ModelPool's status. */
export const modelPoolDecisionSchema = Type.Object(
  {
    desired: Type.Object(
      {
        spot: replicaCount("Desired replicas on Spot capacity."),
        onDemand: replicaCount("Desired replicas on on-demand capacity."),
      },
      { description: "Desired replicas by capacity type; their sum is desiredReplicas." },
    ),
    active: Type.Boolean({
      description: "Whether the pool should have any replica (what KEDA's IsActive answers).",
    }),
    held: Type.Boolean({
      description:
        "True when missing or stale metrics made the scaler hold its last decision instead of deciding.",
    }),
    reason: Type.String({
      maxLength: 1024,
      description: "Why, for humans, e.g. `demand 184 req/s / (96 req/s × 0.7) → 3`.",
    }),
    scaler: Type.String({
      maxLength: 63,
      description: "The scaling algorithm that decided (spec.scaling.scaler).",
    }),
    decidedAt: Type.String({
      format: "date-time",
      description: "When the decision was made (RFC 3339).",
    }),
  },
  { description: "The scaler's last decision." },
);

/** A model's capacity per replica in a ModelPool's status. */
export const modelCapacitySchema = Type.Object(
  {
    model: Type.String({ minLength: 1, maxLength: 63, description: "The model's name." }),
    requestsPerSecondPerReplica: Type.Number({
      minimum: 0,
      description: "Requests per second one replica sustains with p99 latency inside the SLO.",
    }),
    profile: Type.Optional(
      Type.String({
        maxLength: 256,
        description:
          "The latency profile the capacity was computed from, with the live correction, e.g. `linear:a=4,b=2.2 ×1.044`, or the default's `yolov8s-t4-fp16 (assumed: linear:a=4,b=2.2)`.",
      }),
    ),
    trafficShare: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 1,
        description:
          "The model's share of the pool's requests the mixed capacity was computed for (capacityMix).",
      }),
    ),
    profileSource: Type.Optional(
      Type.Unsafe<"pool" | "default">({
        type: "string",
        enum: ["pool", "default"],
        description:
          "Where the profile came from: pool (the model's spec.models[].profile) or default (the model has none: the documented default profile, an assumed YOLOv8s fp16 on a T4, not a measurement; measure the model and run tritonscale tune --write).",
      }),
    ),
  },
  { description: "Capacity of one replica for one model at the SLO." },
);

/** A replica's capacity for the pool's mix of models in a ModelPool's status. */
export const modelPoolCapacityMixSchema = Type.Object(
  {
    requestsPerSecondPerReplica: Type.Number({
      minimum: 0,
      description:
        "Requests per second one replica sustains within the SLO for the pool's mix of models, 1 / Σ (share / capacity) over the models: what the scaler divides demand by. For one model, its capacity.",
    }),
    sharesFrom: Type.Unsafe<"traffic" | "equal">({
      type: "string",
      enum: ["traffic", "equal"],
      description:
        "Where the models' shares (capacity[].trafficShare) came from: traffic (each model's observed arrival rate over the rate window) or equal (no traffic seen: every model alike).",
    }),
    requestsPerSecondByReplicas: Type.Optional(
      Type.Array(Type.Number({ minimum: 0 }), {
        maxItems: 64,
        description:
          "With spec.scaling.loadBalancing roundRobin: element i is what each of i + 1 replicas sustains within the SLO for the mix when they share the requests in turn (each sees a steadier stream than one replica alone, so it sustains more); the scaler plans with the fewest n whose n × element n − 1 covers demand. Absent with random routing: every n counts as one replica's capacity.",
      }),
    ),
  },
  {
    description: "One replica's capacity for the pool's mix of models, as the scaler last used it.",
  },
);

/**
 * `status` of a ModelPool, written by the controller through the status subresource. The
 * API server prunes fields not named here.
 */
export const modelPoolStatusSchema = Type.Object(
  {
    observedGeneration: Type.Optional(
      Type.Integer({
        minimum: 0,
        format: "int64",
        description: "metadata.generation of the spec the controller last acted on.",
      }),
    ),
    replicas: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: "Triton pods of the pool that exist now, all capacity types together.",
      }),
    ),
    readyReplicas: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: "Triton pods of the pool that are ready (models loaded and warmed up).",
      }),
    ),
    desiredReplicas: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: "Replicas the scaler decided on last.",
      }),
    ),
    lastScaleTime: Type.Optional(
      Type.String({
        format: "date-time",
        description: "When a decision last changed the desired replicas (RFC 3339).",
      }),
    ),
    decision: Type.Optional(modelPoolDecisionSchema),
    capacity: Type.Optional(
      Type.Array(modelCapacitySchema, {
        maxItems: 64,
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["model"],
        description:
          "Requests per second one replica sustains within the SLO, per model, as the scaler last used it.",
      }),
    ),
    capacityMix: Type.Optional(modelPoolCapacityMixSchema),
    conditions: Type.Optional(
      Type.Array(modelPoolConditionSchema, {
        maxItems: 16,
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["type"],
        description: "Current conditions of the pool, one per type.",
      }),
    ),
  },
  { description: "Observed state of the pool, written by the controller." },
);

/** `status` of a ModelPool as the controller writes it. */
export type ModelPoolStatus = Static<typeof modelPoolStatusSchema>;
/** A decision in {@link ModelPoolStatus}. */
export type ModelPoolDecisionStatus = Static<typeof modelPoolDecisionSchema>;
/** A condition in {@link ModelPoolStatus}. */
export type ModelPoolCondition = Static<typeof modelPoolConditionSchema>;

/** The CRD schema of `status`: {@link modelPoolStatusSchema} as plain JSON (no TypeBox symbols). */
export function buildModelPoolStatusOpenApiSchema(): IJSONSchemaProps {
  return JSON.parse(JSON.stringify(modelPoolStatusSchema)) as IJSONSchemaProps;
}

/**
 * The ModelPool CustomResourceDefinition: namespaced, `kubectl get modelpools` / `mp`,
 * version {@link MODELPOOL_VERSION} served and stored, its schema
 * {@link buildCrdOpenApiSchema} (the same one the policy loader validates with) plus
 * `status`, the status subresource, and printer columns.
 */
export function buildModelPoolCrd(): CustomResourceDefinition {
  const schema = buildCrdOpenApiSchema() as IJSONSchemaProps;
  const openAPIV3Schema: IJSONSchemaProps = {
    ...schema,
    properties: { ...schema.properties, status: buildModelPoolStatusOpenApiSchema() },
  };
  return validated(
    `CustomResourceDefinition ${MODELPOOL_CRD_NAME}`,
    new CustomResourceDefinition({
      metadata: { name: MODELPOOL_CRD_NAME, labels: controllerLabels("crd") },
      spec: {
        group: API_GROUP,
        names: {
          kind: KIND,
          listKind: `${KIND}List`,
          plural: MODELPOOL_PLURAL,
          singular: KIND.toLowerCase(),
          shortNames: ["mp"],
          categories: ["tritonscale"],
        },
        scope: "Namespaced",
        versions: [
          {
            name: MODELPOOL_VERSION,
            served: true,
            storage: true,
            schema: { openAPIV3Schema },
            subresources: { status: {} },
            // Printer columns show the first JSONPath match only, so a model count is
            // not expressible: the first model stands for the pool.
            additionalPrinterColumns: [
              {
                name: "Model",
                type: "string",
                jsonPath: ".spec.models[0].name",
                description: "The pool's first model.",
              },
              {
                name: "Desired",
                type: "integer",
                jsonPath: ".status.desiredReplicas",
                description: "Replicas the scaler decided on last.",
              },
              {
                name: "Ready",
                type: "integer",
                jsonPath: ".status.readyReplicas",
                description: "Ready Triton pods.",
              },
              {
                name: "Valid",
                type: "string",
                jsonPath: '.status.conditions[?(@.type=="Valid")].status',
                description: "Whether the spec loads (False: see the Valid condition's message).",
              },
              {
                name: "Active",
                type: "boolean",
                jsonPath: ".status.decision.active",
                description: "Whether the scaler wants any replica.",
                priority: 1,
              },
              {
                name: "SLO p99",
                type: "number",
                jsonPath: ".spec.slo.latencyP99Ms",
                description: "p99 latency objective in milliseconds.",
              },
              {
                name: "Scaler",
                type: "string",
                jsonPath: ".spec.scaling.scaler",
                description: "Scaling algorithm.",
                priority: 1,
              },
              {
                name: "Age",
                type: "date",
                jsonPath: ".metadata.creationTimestamp",
              },
            ],
          },
        ],
      },
    }),
  );
}
