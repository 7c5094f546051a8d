/**
 * The controller's RBAC: what it may read and apply, and why.
 */
import {
  ClusterRole,
  ClusterRoleBinding,
  type IPolicyRule,
  Role,
  RoleBinding,
} from "kubernetes-models/rbac.authorization.k8s.io/v1";
import { ServiceAccount } from "kubernetes-models/v1";
import { API_GROUP } from "../../policy/schema.js";
import {
  CONTROLLER_NAME,
  CONTROLLER_NAMESPACE,
  controllerLabels,
  LEADER_ELECTION_LEASE,
  MODELPOOL_PLURAL,
  validated,
} from "./names.js";

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
    reason: "watch the pools it runs (an informer lists and watches; kube/pool-informer.ts)",
  },
  {
    apiGroup: API_GROUP,
    resources: [`${MODELPOOL_PLURAL}/status`],
    verbs: ["patch"],
    reason:
      "report replicas, decisions and conditions (a JSON merge patch of status; kube/pool-status.ts)",
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
    reason:
      "Triton Services; prometheus-adapter rules and Grafana dashboard ConfigMaps; the scalers' learned histories, a ConfigMap per pool (get to restore, create/patch to save by server-side apply; kube/history-configmap.ts)",
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
    resources: ["scaledobjects", "triggerauthentications"],
    verbs: APPLY_VERBS,
    reason: "KEDA ScaledObjects (engine keda); TriggerAuthentications (spec.scaling.keda.tls)",
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
    reason: "Events on ModelPools (core/v1; patch counts a repeat; kube/events.ts)",
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
    reason: `hold, renew and release the Lease ${LEADER_ELECTION_LEASE} (kube/leader-election.ts)`,
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
