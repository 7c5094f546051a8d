/**
 * tritonscale's own install: the ModelPool CustomResourceDefinition, the controller's RBAC,
 * Deployment and Service. Pure builders; every object is schema-checked (kubernetes-models
 * `validate()`) before it is returned. `npm run gen` writes them to manifests/ with
 * {@link formatManifests} (kube/yaml.ts).
 */
import { type Static, Type } from "@sinclair/typebox";
import {
  CustomResourceDefinition,
  type IJSONSchemaProps,
} from "kubernetes-models/apiextensions.k8s.io/v1";
import { Deployment } from "kubernetes-models/apps/v1";
import {
  ClusterRole,
  ClusterRoleBinding,
  type IPolicyRule,
  Role,
  RoleBinding,
} from "kubernetes-models/rbac.authorization.k8s.io/v1";
import { Namespace, Service, ServiceAccount } from "kubernetes-models/v1";
import { API_GROUP, API_VERSION, buildCrdOpenApiSchema, KIND } from "../policy/schema.js";

// ---------------------------------------------------------------------------------------
// Names

/** Namespace the controller is installed in; `spec.scaling.keda.scalerAddress` defaults to its Service there. */
export const CONTROLLER_NAMESPACE = "tritonscale-system";
/** Name of the controller's ServiceAccount, ClusterRole(Binding), Role(Binding), Deployment and Service. */
export const CONTROLLER_NAME = "tritonscale";
/** Controller image of this release; its tag is the package version. */
export const DEFAULT_CONTROLLER_IMAGE = "ghcr.io/tritonscale/tritonscale:0.1.0";
/** Lease the controller replicas elect a leader with, in the controller's namespace. */
export const LEADER_ELECTION_LEASE = "tritonscale-controller";

/** Ports the controller listens on. */
export const CONTROLLER_PORTS = {
  /** KEDA external scaler (gRPC, `externalscaler.ExternalScaler`). */
  grpc: 9090,
  /** Prometheus metrics, `GET /metrics`. */
  metrics: 8080,
  /** Health: `GET /healthz` (liveness) and `GET /readyz` (readiness). */
  health: 8081,
} as const;

/** Plural resource name of ModelPool. */
export const MODELPOOL_PLURAL = "modelpools";
/** The ModelPool CRD's name, `<plural>.<group>`. */
export const MODELPOOL_CRD_NAME = `${MODELPOOL_PLURAL}.${API_GROUP}`;
/** The served and stored version of ModelPool (the part of API_VERSION after the group). */
export const MODELPOOL_VERSION = API_VERSION.slice(API_GROUP.length + 1);

/** `app.kubernetes.io/*` labels of the controller's objects. */
function controllerLabels(component: string): Record<string, string> {
  return {
    "app.kubernetes.io/name": "tritonscale",
    "app.kubernetes.io/instance": "tritonscale",
    "app.kubernetes.io/component": component,
    "app.kubernetes.io/part-of": "tritonscale",
  };
}

/** The controller pods' selector (a subset of their labels, stable across releases). */
export const CONTROLLER_SELECTOR: Readonly<Record<string, string>> = {
  "app.kubernetes.io/name": "tritonscale",
  "app.kubernetes.io/instance": "tritonscale",
  "app.kubernetes.io/component": "controller",
};

/** Runs kubernetes-models' schema check, naming the object when it fails. */
function validated<T extends { validate(): void }>(what: string, object: T): T {
  try {
    object.validate();
  } catch (e) {
    throw new Error(`building ${what}: ${(e as Error).message}`, { cause: e });
  }
  return object;
}

// ---------------------------------------------------------------------------------------
// ModelPool status and CRD

/** A standard Kubernetes condition (metav1.Condition) on a ModelPool. */
export const modelPoolConditionSchema = Type.Object(
  {
    type: Type.String({
      minLength: 1,
      maxLength: 316,
      description:
        "Condition type in CamelCase, e.g. Ready (replicas serve within the SLO), MetricsAvailable (Triton metrics are fresh), SpotFallback (on-demand replaces missing Spot).",
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
        description: "When desiredReplicas last changed (RFC 3339).",
      }),
    ),
    decisionReason: Type.Optional(
      Type.String({
        maxLength: 1024,
        description: "Why the scaler decided on desiredReplicas, for humans.",
      }),
    ),
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

// ---------------------------------------------------------------------------------------
// RBAC

/** One permission of the controller: verbs on resources of one API group, and why. */
export interface ControllerPermission {
  /** API group; `""` is the core group. */
  readonly apiGroup: string;
  /** Resources (plural names, `x/status` for subresources). */
  readonly resources: readonly string[];
  /** Verbs granted on them. */
  readonly verbs: readonly string[];
  /** Why the controller needs it. */
  readonly reason: string;
}

/**
 * Verbs for objects the controller owns and server-side applies. An apply is a PATCH,
 * authorized as `create` too when the object does not exist yet; get/list/watch find drift
 * and leftovers; delete prunes objects a pool no longer renders (e.g. the ScaledObject
 * after a switch to engine hpa) and cluster-scoped NodePools, which a namespaced
 * ModelPool cannot own.
 */
const APPLY_VERBS = ["get", "list", "watch", "create", "patch", "delete"] as const;
/** Verbs for objects the controller only reads. */
const READ_VERBS = ["get", "list", "watch"] as const;

/**
 * Everything the controller may do cluster-wide (the ClusterRole), and why. No wildcards:
 * a resource the controller starts to use needs a row here.
 */
export const CONTROLLER_PERMISSIONS: readonly ControllerPermission[] = [
  {
    apiGroup: API_GROUP,
    resources: [MODELPOOL_PLURAL],
    verbs: READ_VERBS,
    reason: "watch the pools it runs",
  },
  {
    apiGroup: API_GROUP,
    resources: [`${MODELPOOL_PLURAL}/status`],
    verbs: ["get", "patch", "update"],
    reason: "report replicas, decisions and conditions",
  },
  {
    apiGroup: API_GROUP,
    resources: [`${MODELPOOL_PLURAL}/finalizers`],
    verbs: ["update"],
    reason:
      "owner references with blockOwnerDeletion on applied objects (OwnerReferencesPermissionEnforcement)",
  },
  {
    apiGroup: "apps",
    resources: ["deployments"],
    verbs: APPLY_VERBS,
    reason: "Triton Deployments (Spot and on-demand)",
  },
  {
    apiGroup: "",
    resources: ["services", "configmaps"],
    verbs: APPLY_VERBS,
    reason: "Triton Services; prometheus-adapter rules ConfigMap",
  },
  {
    apiGroup: "policy",
    resources: ["poddisruptionbudgets"],
    verbs: APPLY_VERBS,
    reason: "PodDisruptionBudgets of the Triton Deployments",
  },
  {
    apiGroup: "monitoring.coreos.com",
    resources: ["servicemonitors", "podmonitors", "prometheusrules"],
    verbs: APPLY_VERBS,
    reason: "Prometheus scraping of Triton and recording rules",
  },
  {
    apiGroup: "keda.sh",
    resources: ["scaledobjects"],
    verbs: APPLY_VERBS,
    reason: "KEDA ScaledObjects (engine keda)",
  },
  {
    apiGroup: "autoscaling",
    resources: ["horizontalpodautoscalers"],
    verbs: APPLY_VERBS,
    reason: "HorizontalPodAutoscalers (engine hpa)",
  },
  {
    apiGroup: "karpenter.sh",
    resources: ["nodepools"],
    verbs: APPLY_VERBS,
    reason: "Karpenter NodePools (provider karpenter; cluster-scoped)",
  },
  {
    apiGroup: "",
    resources: ["pods", "nodes"],
    verbs: READ_VERBS,
    reason: "find Triton pods to scrape, count replicas by capacity type, see Spot interruptions",
  },
  {
    apiGroup: "discovery.k8s.io",
    resources: ["endpointslices"],
    verbs: READ_VERBS,
    reason: "ready Triton endpoints behind each Service",
  },
  {
    apiGroup: "",
    resources: ["events"],
    verbs: ["create", "patch"],
    reason: "Events on ModelPools (core/v1 recorders; patch aggregates repeats)",
  },
  {
    apiGroup: "events.k8s.io",
    resources: ["events"],
    verbs: ["create", "patch"],
    reason: "Events on ModelPools (events.k8s.io/v1 recorders)",
  },
];

/**
 * Namespaced permissions in the controller's namespace (the Role): leader election. A
 * Lease is created once (`create` cannot be limited by name), then read and renewed by name.
 */
export const LEADER_ELECTION_PERMISSIONS: readonly ControllerPermission[] = [
  {
    apiGroup: "coordination.k8s.io",
    resources: ["leases"],
    verbs: ["create"],
    reason: "create the leader-election Lease",
  },
  {
    apiGroup: "coordination.k8s.io",
    resources: ["leases"],
    verbs: ["get", "update"],
    reason: `hold and renew the Lease ${LEADER_ELECTION_LEASE}`,
  },
];

function toRule(p: ControllerPermission, resourceNames?: readonly string[]): IPolicyRule {
  return {
    apiGroups: [p.apiGroup],
    resources: [...p.resources],
    ...(resourceNames ? { resourceNames: [...resourceNames] } : {}),
    verbs: [...p.verbs],
  };
}

/** The controller's RBAC objects, in apply order. */
export type RbacObjects = readonly [
  ServiceAccount,
  ClusterRole,
  ClusterRoleBinding,
  Role,
  RoleBinding,
];

/**
 * The controller's ServiceAccount, its ClusterRole ({@link CONTROLLER_PERMISSIONS}) and
 * binding, and a Role ({@link LEADER_ELECTION_PERMISSIONS}) and binding in `namespace`.
 *
 * @param namespace where the controller runs. @default {@link CONTROLLER_NAMESPACE}
 */
export function buildRbac(namespace: string = CONTROLLER_NAMESPACE): RbacObjects {
  const labels = controllerLabels("controller");
  const subject = { kind: "ServiceAccount", name: CONTROLLER_NAME, namespace };
  const [createLease, renewLease] = LEADER_ELECTION_PERMISSIONS;
  return [
    validated(
      `ServiceAccount ${namespace}/${CONTROLLER_NAME}`,
      new ServiceAccount({ metadata: { name: CONTROLLER_NAME, namespace, labels } }),
    ),
    validated(
      `ClusterRole ${CONTROLLER_NAME}`,
      new ClusterRole({
        metadata: { name: CONTROLLER_NAME, labels },
        rules: CONTROLLER_PERMISSIONS.map((p) => toRule(p)),
      }),
    ),
    validated(
      `ClusterRoleBinding ${CONTROLLER_NAME}`,
      new ClusterRoleBinding({
        metadata: { name: CONTROLLER_NAME, labels },
        roleRef: {
          apiGroup: "rbac.authorization.k8s.io",
          kind: "ClusterRole",
          name: CONTROLLER_NAME,
        },
        subjects: [subject],
      }),
    ),
    validated(
      `Role ${namespace}/${CONTROLLER_NAME}`,
      new Role({
        metadata: { name: CONTROLLER_NAME, namespace, labels },
        rules: [toRule(createLease!), toRule(renewLease!, [LEADER_ELECTION_LEASE])],
      }),
    ),
    validated(
      `RoleBinding ${namespace}/${CONTROLLER_NAME}`,
      new RoleBinding({
        metadata: { name: CONTROLLER_NAME, namespace, labels },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: CONTROLLER_NAME },
        subjects: [subject],
      }),
    ),
  ];
}

// ---------------------------------------------------------------------------------------
// Controller workload

/** The namespace the controller is installed in. */
export function buildNamespace(namespace: string = CONTROLLER_NAMESPACE): Namespace {
  return validated(
    `Namespace ${namespace}`,
    new Namespace({ metadata: { name: namespace, labels: controllerLabels("controller") } }),
  );
}

/**
 * The controller Deployment: one replica (the KEDA external scaler answers from the
 * leader's state), `tritonscale controller` as a non-root user on a read-only root file
 * system with no capabilities, probes on the health port, POD_NAME / POD_NAMESPACE for
 * leader election.
 *
 * @param namespace where the controller runs. @default {@link CONTROLLER_NAMESPACE}
 * @param image controller image. @default {@link DEFAULT_CONTROLLER_IMAGE}
 */
export function buildControllerDeployment(
  namespace: string = CONTROLLER_NAMESPACE,
  image: string = DEFAULT_CONTROLLER_IMAGE,
): Deployment {
  const labels = controllerLabels("controller");
  const fieldEnv = (name: string, fieldPath: string) => ({
    name,
    valueFrom: { fieldRef: { fieldPath } },
  });
  return validated(
    `Deployment ${namespace}/${CONTROLLER_NAME}`,
    new Deployment({
      metadata: { name: CONTROLLER_NAME, namespace, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: { ...CONTROLLER_SELECTOR } },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: CONTROLLER_NAME,
            automountServiceAccountToken: true,
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 65532,
              runAsGroup: 65532,
              seccompProfile: { type: "RuntimeDefault" },
            },
            containers: [
              {
                name: "controller",
                image,
                imagePullPolicy: "IfNotPresent",
                args: ["controller"],
                env: [
                  fieldEnv("POD_NAME", "metadata.name"),
                  fieldEnv("POD_NAMESPACE", "metadata.namespace"),
                ],
                ports: [
                  { name: "grpc", containerPort: CONTROLLER_PORTS.grpc, protocol: "TCP" },
                  { name: "metrics", containerPort: CONTROLLER_PORTS.metrics, protocol: "TCP" },
                  { name: "health", containerPort: CONTROLLER_PORTS.health, protocol: "TCP" },
                ],
                livenessProbe: {
                  httpGet: { path: "/healthz", port: "health" },
                  initialDelaySeconds: 5,
                  periodSeconds: 10,
                  timeoutSeconds: 2,
                  failureThreshold: 3,
                },
                readinessProbe: {
                  httpGet: { path: "/readyz", port: "health" },
                  periodSeconds: 5,
                  timeoutSeconds: 2,
                  failureThreshold: 2,
                },
                // No CPU limit: throttling would delay the scaler's gRPC answers.
                resources: {
                  requests: { cpu: "100m", memory: "256Mi" },
                  limits: { memory: "512Mi" },
                },
                securityContext: {
                  allowPrivilegeEscalation: false,
                  privileged: false,
                  readOnlyRootFilesystem: true,
                  runAsNonRoot: true,
                  capabilities: { drop: ["ALL"] },
                },
                volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
              },
            ],
            volumes: [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }],
          },
        },
      },
    }),
  );
}

/**
 * The controller Service: the KEDA external scaler (gRPC) at
 * `tritonscale.<namespace>.svc:9090`, the default `spec.scaling.keda.scalerAddress`, and
 * metrics on 8080.
 *
 * @param namespace where the controller runs. @default {@link CONTROLLER_NAMESPACE}
 */
export function buildControllerService(namespace: string = CONTROLLER_NAMESPACE): Service {
  return validated(
    `Service ${namespace}/${CONTROLLER_NAME}`,
    new Service({
      metadata: { name: CONTROLLER_NAME, namespace, labels: controllerLabels("controller") },
      spec: {
        type: "ClusterIP",
        selector: { ...CONTROLLER_SELECTOR },
        ports: [
          {
            name: "grpc",
            port: CONTROLLER_PORTS.grpc,
            targetPort: "grpc",
            protocol: "TCP",
            appProtocol: "grpc",
          },
          {
            name: "metrics",
            port: CONTROLLER_PORTS.metrics,
            targetPort: "metrics",
            protocol: "TCP",
            appProtocol: "http",
          },
        ],
      },
    }),
  );
}

// ---------------------------------------------------------------------------------------
// The whole install

/** Options of {@link buildInstallManifests}. */
export interface InstallOptions {
  /** Namespace the controller runs in. @default {@link CONTROLLER_NAMESPACE} */
  readonly namespace?: string;
  /** Controller image. @default {@link DEFAULT_CONTROLLER_IMAGE} */
  readonly image?: string;
}

/** The comment at the top of each generated manifests/*.yaml file. */
export const MANIFESTS_HEADER =
  "generated by npm run gen from controller/kube/manifests.ts; do not edit";

/** One object of the install. */
export type InstallObject =
  | Namespace
  | CustomResourceDefinition
  | RbacObjects[number]
  | Deployment
  | Service;

/** The install split into manifests/ files, in `kubectl apply` order. */
export interface InstallFile {
  /** File name under manifests/. */
  readonly name: "crd.yaml" | "rbac.yaml" | "controller.yaml";
  /** Its objects, in apply order. */
  readonly objects: readonly InstallObject[];
}

/**
 * The install as the files in manifests/: the CRD alone (cluster-scoped, usable without
 * the controller), the Namespace with the RBAC (the ServiceAccount needs the Namespace
 * first), then the controller Deployment and Service.
 */
export function buildInstallFiles(options: InstallOptions = {}): readonly InstallFile[] {
  const namespace = options.namespace ?? CONTROLLER_NAMESPACE;
  return [
    { name: "crd.yaml", objects: [buildModelPoolCrd()] },
    { name: "rbac.yaml", objects: [buildNamespace(namespace), ...buildRbac(namespace)] },
    {
      name: "controller.yaml",
      objects: [
        buildControllerDeployment(namespace, options.image ?? DEFAULT_CONTROLLER_IMAGE),
        buildControllerService(namespace),
      ],
    },
  ];
}

/**
 * Every object of the install in apply order: Namespace, CRD, RBAC, Deployment, Service.
 */
export function buildInstallManifests(options: InstallOptions = {}): readonly InstallObject[] {
  const namespace = options.namespace ?? CONTROLLER_NAMESPACE;
  return [
    buildNamespace(namespace),
    buildModelPoolCrd(),
    ...buildRbac(namespace),
    buildControllerDeployment(namespace, options.image ?? DEFAULT_CONTROLLER_IMAGE),
    buildControllerService(namespace),
  ];
}
