/**
 * The resource types the fake API server serves, and the discovery documents built from
 * them (/api, /api/v1, /apis, /apis/<group>, /apis/<group>/<version>).
 */

/** One resource type, as discovery describes it. */
export interface ResourceType {
  /** API group; "" for the core group (/api/v1). */
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  /** Lower-case plural, the URL segment. */
  readonly plural: string;
  readonly singular: string;
  readonly namespaced: boolean;
  /** Has a `status` subresource: the main resource ignores status, /status ignores the rest. */
  readonly status: boolean;
  readonly shortNames?: readonly string[];
}

/** `group/version`, or `version` for the core group. */
export function apiVersionOf(t: Pick<ResourceType, "group" | "version">): string {
  return t.group === "" ? t.version : `${t.group}/${t.version}`;
}

function rt(
  apiVersion: string,
  kind: string,
  plural: string,
  namespaced: boolean,
  status: boolean,
  shortNames?: readonly string[],
): ResourceType {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  return {
    group: group!,
    version: version!,
    kind,
    plural,
    singular: kind.toLowerCase(),
    namespaced,
    status,
    ...(shortNames ? { shortNames } : {}),
  };
}

/**
 * The built-in and third-party types tritonscale reads or applies (every kind
 * kube/render emits, plus what the controller watches and writes). Custom resources
 * defined by a CRD (the ModelPool) are added from the CRD itself.
 */
export const BUILTIN_RESOURCES: readonly ResourceType[] = [
  rt("v1", "Namespace", "namespaces", false, true, ["ns"]),
  rt("v1", "Node", "nodes", false, true, ["no"]),
  rt("v1", "Pod", "pods", true, true, ["po"]),
  rt("v1", "Service", "services", true, true, ["svc"]),
  rt("v1", "ConfigMap", "configmaps", true, false, ["cm"]),
  rt("v1", "Secret", "secrets", true, false),
  rt("v1", "Event", "events", true, false, ["ev"]),
  rt("events.k8s.io/v1", "Event", "events", true, false, ["ev"]),
  rt("apps/v1", "Deployment", "deployments", true, true, ["deploy"]),
  rt("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", true, true, ["pdb"]),
  rt("autoscaling/v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true, true, ["hpa"]),
  rt("coordination.k8s.io/v1", "Lease", "leases", true, false),
  rt("discovery.k8s.io/v1", "EndpointSlice", "endpointslices", true, false),
  rt("keda.sh/v1alpha1", "ScaledObject", "scaledobjects", true, true, ["so"]),
  rt("keda.sh/v1alpha1", "TriggerAuthentication", "triggerauthentications", true, false, ["ta"]),
  rt("monitoring.coreos.com/v1", "ServiceMonitor", "servicemonitors", true, false, ["smon"]),
  rt("monitoring.coreos.com/v1", "PodMonitor", "podmonitors", true, false, ["pmon"]),
  rt("monitoring.coreos.com/v1", "PrometheusRule", "prometheusrules", true, false, ["promrule"]),
  rt("karpenter.sh/v1", "NodePool", "nodepools", false, true),
  rt(
    "apiextensions.k8s.io/v1",
    "CustomResourceDefinition",
    "customresourcedefinitions",
    false,
    true,
    ["crd", "crds"],
  ),
];

const VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

function apiResources(types: readonly ResourceType[]): unknown[] {
  const out: unknown[] = [];
  for (const t of types) {
    out.push({
      name: t.plural,
      singularName: t.singular,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: VERBS,
      ...(t.shortNames ? { shortNames: t.shortNames } : {}),
    });
    if (t.status) {
      out.push({
        name: `${t.plural}/status`,
        singularName: "",
        namespaced: t.namespaced,
        kind: t.kind,
        verbs: ["get", "patch", "update"],
      });
    }
  }
  return out;
}

/** The discovery documents for `types`, by URL path. */
export function discoveryDocuments(types: readonly ResourceType[]): Map<string, unknown> {
  const docs = new Map<string, unknown>();
  const byGv = new Map<string, ResourceType[]>();
  for (const t of types) {
    const gv = apiVersionOf(t);
    byGv.set(gv, [...(byGv.get(gv) ?? []), t]);
  }
  const groups = new Map<string, string[]>();
  for (const [gv, ts] of byGv) {
    const group = ts[0]!.group;
    docs.set(group === "" ? `/api/${gv}` : `/apis/${gv}`, {
      kind: "APIResourceList",
      apiVersion: "v1",
      groupVersion: gv,
      resources: apiResources(ts),
    });
    if (group !== "") groups.set(group, [...(groups.get(group) ?? []), ts[0]!.version]);
  }
  docs.set("/api", {
    kind: "APIVersions",
    versions: ["v1"],
    serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: "127.0.0.1:0" }],
  });
  const groupDoc = (name: string, versions: string[]) => {
    const vs = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
    return { name, versions: vs, preferredVersion: vs[0] };
  };
  const list = [...groups].map(([name, versions]) => groupDoc(name, versions));
  docs.set("/apis", { kind: "APIGroupList", apiVersion: "v1", groups: list });
  for (const [name, versions] of groups) {
    docs.set(`/apis/${name}`, { kind: "APIGroup", apiVersion: "v1", ...groupDoc(name, versions) });
  }
  docs.set("/version", {
    major: "1",
    minor: "30",
    gitVersion: "v1.30.0-tritonscale-fake",
    platform: "linux/amd64",
  });
  return docs;
}
