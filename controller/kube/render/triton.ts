import { Deployment } from "kubernetes-models/apps/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import {
  type IContainer,
  type IEnvFromSource,
  type IVolume,
  type IVolumeMount,
  Service,
} from "kubernetes-models/v1";
import { type Policy, SPOT_NOTICE_SECONDS } from "../../policy/index.js";
import type { CapacityType } from "../../scaling/types.js";
import { CAPACITY_LABEL, podSelector, poolLabels } from "./labels.js";
import { mergeArgs } from "./merge.js";
import { placementFor } from "./placement.js";

/**
 * The Triton Deployments of a pool (one on-demand, plus one Spot when Spot is enabled),
 * its Service and PodDisruptionBudget. Replica counts are left to the ScaledObject / HPA.
 */

/** The Deployments a pool has: name and capacity type. */
export function deploymentsOf(policy: Policy): { name: string; type: CapacityType }[] {
  const base = `${policy.metadata.name}-triton`;
  if (!policy.spec.capacity.spot.enabled) return [{ name: base, type: "onDemand" }];
  return [
    { name: `${base}-spot`, type: "spot" },
    { name: `${base}-ondemand`, type: "onDemand" },
  ];
}

/** Where the TensorRT execution provider caches built engines (repo-templates set it). */
const TRT_CACHE = "/tmp/tritonscale-trt-cache";

/** Seconds Triton gets to finish in-flight requests after the endpoint is gone. */
const DRAIN_SECONDS = 10;

/**
 * Termination budget: on Spot it must fit inside the provider's reclaim notice (with 5 s
 * to spare), elsewhere 60 s. The preStop sleep lets endpoints drop the pod before Triton
 * stops taking requests; Triton then has the rest to finish what it holds.
 */
export function terminationSeconds(
  policy: Policy,
  type: CapacityType,
): { grace: number; preStop: number } {
  const notice = SPOT_NOTICE_SECONDS[policy.spec.capacity.provider] ?? 120;
  const grace = type === "spot" ? Math.max(10, Math.min(60, notice - 5)) : 60;
  return { grace, preStop: Math.min(DRAIN_SECONDS, Math.floor(grace / 3)) };
}

function repository(policy: Policy): {
  path: string;
  volumes: IVolume[];
  mounts: IVolumeMount[];
  envFrom: IEnvFromSource[];
} {
  const repo = policy.spec.triton.modelRepository;
  const envFrom: IEnvFromSource[] = repo.credentialsSecret
    ? [{ secretRef: { name: repo.credentialsSecret } }]
    : [];
  switch (repo.source) {
    case "pvc":
      return {
        path: repo.path,
        volumes: [
          { name: "models", persistentVolumeClaim: { claimName: repo.claimName!, readOnly: true } },
        ],
        mounts: [{ name: "models", mountPath: repo.path, readOnly: true }],
        envFrom,
      };
    case "local":
      return { path: repo.path, volumes: [], mounts: [], envFrom };
    default:
      // Triton reads s3://, gs:// and as:// repositories itself, with credentials from the environment.
      return { path: repo.uri!, volumes: [], mounts: [], envFrom };
  }
}

function tritonContainer(policy: Policy, type: CapacityType): IContainer {
  const t = policy.spec.triton;
  const repo = repository(policy);
  const { grace, preStop } = terminationSeconds(policy, type);
  const cap = policy.spec.capacity;
  // Startup: allow twice the expected cold start before the kubelet gives up.
  const startupPeriod = 10;
  const startupFailures = Math.max(
    3,
    Math.ceil((2 * policy.spec.scaling.coldStartSeconds) / startupPeriod),
  );
  return {
    name: "tritonserver",
    image: t.image,
    // The user's args (triton.args) win over the generated flags they repeat.
    args: mergeArgs(
      [
        "tritonserver",
        `--model-repository=${repo.path}`,
        `--model-control-mode=${t.modelControlMode}`,
        // --strict-model-config is deprecated since Triton 2.24 (22.07); strict is now the absence of auto-complete.
        ...(t.strictModelConfig ? ["--disable-auto-complete-config"] : []),
        `--http-port=${t.ports.http}`,
        `--grpc-port=${t.ports.grpc}`,
        `--metrics-port=${t.ports.metrics}`,
        "--allow-metrics=true",
        "--allow-gpu-metrics=true",
        // p50/p99 for the dashboard's latency panel (nv_inference_request_summary_us).
        "--metrics-config=summary_latencies=true",
        `--exit-timeout-secs=${Math.max(1, grace - preStop - 2)}`,
      ],
      t.args,
    ),
    ports: [
      { name: "http", containerPort: t.ports.http, protocol: "TCP" },
      { name: "grpc", containerPort: t.ports.grpc, protocol: "TCP" },
      { name: "metrics", containerPort: t.ports.metrics, protocol: "TCP" },
    ],
    ...(repo.envFrom.length > 0 ? { envFrom: repo.envFrom } : {}),
    resources: {
      requests: {
        cpu: t.resources.cpu,
        memory: t.resources.memory,
        [cap.gpu.resourceName]: String(cap.gpu.count),
      },
      limits: { memory: t.resources.memory, [cap.gpu.resourceName]: String(cap.gpu.count) },
    },
    volumeMounts: [
      { name: "dshm", mountPath: "/dev/shm" },
      { name: "trt-cache", mountPath: TRT_CACHE },
      ...repo.mounts,
    ],
    startupProbe: {
      httpGet: { path: "/v2/health/ready", port: "http" },
      periodSeconds: startupPeriod,
      failureThreshold: startupFailures,
    },
    readinessProbe: {
      httpGet: { path: "/v2/health/ready", port: "http" },
      periodSeconds: 5,
      failureThreshold: 2,
    },
    livenessProbe: {
      httpGet: { path: "/v2/health/live", port: "http" },
      periodSeconds: 10,
      failureThreshold: 3,
    },
    lifecycle: { preStop: { exec: { command: ["sleep", String(preStop)] } } },
  };
}

/** One Triton Deployment of the pool. */
export function buildTritonDeployment(
  policy: Policy,
  name: string,
  type: CapacityType,
): Deployment {
  const labels = {
    ...poolLabels(policy, "inference"),
    [CAPACITY_LABEL]: type === "spot" ? "spot" : "on-demand",
  };
  const selector = { ...podSelector(policy), [CAPACITY_LABEL]: labels[CAPACITY_LABEL]! };
  const placement = placementFor(policy, type);
  const repo = repository(policy);
  const { grace } = terminationSeconds(policy, type);
  const d = new Deployment({
    metadata: { name, namespace: policy.metadata.namespace, labels },
    spec: {
      selector: { matchLabels: selector },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: { ...labels } },
        spec: {
          containers: [tritonContainer(policy, type)],
          terminationGracePeriodSeconds: grace,
          ...(Object.keys(placement.nodeSelector).length > 0
            ? { nodeSelector: placement.nodeSelector }
            : {}),
          tolerations: [...placement.tolerations],
          ...(placement.requiredNotIn.length > 0
            ? {
                affinity: {
                  nodeAffinity: {
                    requiredDuringSchedulingIgnoredDuringExecution: {
                      nodeSelectorTerms: [
                        { matchExpressions: placement.requiredNotIn.map((e) => ({ ...e })) },
                      ],
                    },
                  },
                },
              }
            : {}),
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: "topology.kubernetes.io/zone",
              whenUnsatisfiable: "ScheduleAnyway",
              labelSelector: { matchLabels: podSelector(policy) },
            },
          ],
          volumes: [
            // Triton and its Python backend move tensors through shared memory.
            { name: "dshm", emptyDir: { medium: "Memory", sizeLimit: "1Gi" } },
            { name: "trt-cache", emptyDir: {} },
            ...repo.volumes,
          ],
        },
      },
    },
  });
  d.validate();
  return d;
}

/** The Service in front of every Triton pod of the pool (both capacity types). */
export function buildTritonService(policy: Policy): Service {
  const p = policy.spec.triton.ports;
  const s = new Service({
    metadata: {
      name: `${policy.metadata.name}-triton`,
      namespace: policy.metadata.namespace,
      labels: poolLabels(policy, "inference"),
    },
    spec: {
      selector: podSelector(policy),
      ports: [
        { name: "http", port: 8000, targetPort: p.http, protocol: "TCP" },
        { name: "grpc", port: 8001, targetPort: p.grpc, protocol: "TCP", appProtocol: "grpc" },
        { name: "metrics", port: 8002, targetPort: p.metrics, protocol: "TCP" },
      ],
    },
  });
  s.validate();
  return s;
}

/**
 * At most one pool pod disrupted at a time by voluntary evictions (node drains,
 * consolidation); Spot reclaims are not voluntary and are not held back.
 */
export function buildTritonPdb(policy: Policy): PodDisruptionBudget {
  const pdb = new PodDisruptionBudget({
    metadata: {
      name: `${policy.metadata.name}-triton`,
      namespace: policy.metadata.namespace,
      labels: poolLabels(policy, "inference"),
    },
    spec: { maxUnavailable: 1, selector: { matchLabels: podSelector(policy) } },
  });
  pdb.validate();
  return pdb;
}
