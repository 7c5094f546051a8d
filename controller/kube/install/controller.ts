/**
 * The controller's workload: its Namespace, Deployment and Service.
 */
import { Deployment } from "kubernetes-models/apps/v1";
import { Namespace, Service } from "kubernetes-models/v1";
import {
  CONTROLLER_NAME,
  CONTROLLER_NAMESPACE,
  CONTROLLER_PORTS,
  CONTROLLER_SELECTOR,
  controllerLabels,
  DEFAULT_CONTROLLER_IMAGE,
  validated,
} from "./names.js";

/** The namespace the controller is installed in. */
export function buildNamespace(namespace: string = CONTROLLER_NAMESPACE): Namespace {
  return validated(
    `Namespace ${namespace}`,
    new Namespace({ metadata: { name: namespace, labels: controllerLabels("controller") } }),
  );
}

/**
 * The `tritonscale controller` flags the Deployment passes (the image's entry point is
 * `tritonscale controller`, see the Dockerfile): leader election, and the ports the
 * container declares.
 */
export const CONTROLLER_ARGS: readonly string[] = [
  "--leader-elect",
  "--metrics-port",
  String(CONTROLLER_PORTS.metrics),
  "--grpc-port",
  String(CONTROLLER_PORTS.grpc),
  "--health-port",
  String(CONTROLLER_PORTS.health),
];

/** Replicas of the controller Deployment: a leader and a standby, elected on the Lease. */
export const CONTROLLER_REPLICAS = 2;

/**
 * The controller Deployment: {@link CONTROLLER_REPLICAS} replicas with `--leader-elect`
 * (the leader decides, applies and answers KEDA; the standby takes over within the lease
 * duration), `tritonscale controller` as a non-root user on a read-only root file system
 * with no capabilities and the RuntimeDefault seccomp profile, resources requested,
 * liveness on `/healthz` and readiness on `/readyz` (Ready only as the leader, so the
 * Service sends KEDA to the instance that decides), POD_NAME / POD_NAMESPACE for the Lease.
 *
 * Strategy Recreate: a rolling update would wait forever for a new replica to become Ready
 * while the old leader holds the Lease (only a leader is Ready). The old replicas stop
 * first — the leader finishes its reconcile and releases the Lease on SIGTERM — and a new
 * one takes over; KEDA's fallback trigger covers the seconds in between.
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
        replicas: CONTROLLER_REPLICAS,
        strategy: { type: "Recreate" },
        selector: { matchLabels: { ...CONTROLLER_SELECTOR } },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: CONTROLLER_NAME,
            automountServiceAccountToken: true,
            // Time to finish the reconcile in flight and release the Lease.
            terminationGracePeriodSeconds: 30,
            // The standby on another node, so one node's loss leaves a controller.
            affinity: {
              podAntiAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [
                  {
                    weight: 100,
                    podAffinityTerm: {
                      topologyKey: "kubernetes.io/hostname",
                      labelSelector: { matchLabels: { ...CONTROLLER_SELECTOR } },
                    },
                  },
                ],
              },
            },
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
                args: [...CONTROLLER_ARGS],
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
