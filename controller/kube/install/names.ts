/**
 * Names, labels and ports of tritonscale's own install, shared by its builders.
 */
import { API_GROUP, API_VERSION } from "../../policy/schema.js";

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
export function controllerLabels(component: string): Record<string, string> {
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
export function validated<T extends { validate(): void }>(what: string, object: T): T {
  try {
    object.validate();
  } catch (e) {
    throw new Error(`building ${what}: ${(e as Error).message}`, { cause: e });
  }
  return object;
}
