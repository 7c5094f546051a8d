import { ScaledObject, TriggerAuthentication } from "@kubernetes-models/keda/keda.sh/v1alpha1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import type { Policy, PolicySchedule } from "../../policy/index.js";
import { type Behavior, behaviorFromPolicy, type ScalingRules } from "../../scaling/behavior.js";
import {
  decisionHpaBehavior,
  KEDA_FALLBACK_FAILURE_THRESHOLD,
  kedaCooldownSeconds,
  kedaPollingIntervalSeconds,
} from "../../scaling/fallback.js";
import type { CapacityType } from "../../scaling/types.js";
import { poolLabels } from "./labels.js";
import { hpaMetricSpecs, kedaPrometheusTrigger } from "./prometheus.js";
import { replicaBounds } from "./replica-split.js";

/**
 * The objects that actuate replica counts: a KEDA ScaledObject per Deployment (engine
 * keda) or an autoscaling/v2 HPA per Deployment (engine hpa).
 *
 * Known KEDA pitfalls designed around here (and in the controller):
 * - cooldownPeriod scales N → 0 straight, past the HPA's scale-down behavior (KEDA 7770):
 *   the external scaler (tritonscale) reports inactive only once its scaler decided zero
 *   (after the pool's idleWindow or learned keep-alive, nothing pending), so cooldownPeriod
 *   is one polling interval ({@link kedaCooldownSeconds}); a busy pool is never dropped to
 *   zero by the cooldown, and an erroring trigger holds the fallback replicas.
 * - the decision is stabilized once: the HPA that decides on the controller's answer
 *   passes it through ({@link decisionHpaBehavior}) instead of applying the pool's windows
 *   a second time.
 * - an empty Prometheus result reads as 0 (KEDA 5009): the fallback prometheus trigger
 *   sets ignoreNullValues "false", so no data is an error, never "scale to zero".
 * - fallback never fires when an external scaler is down (KEDA 8056): the prometheus
 *   trigger keeps scaling on queue time from Prometheus when tritonscale is unreachable.
 *   `fallback` uses behavior currentReplicasIfHigher (KEDA ≥ 2.16): on repeated trigger
 *   errors the Deployment keeps what it has (at least `replicas`), never scales down.
 */

/**
 * One direction of autoscaling/v2 behavior as the HPA and KEDA models take it (plain data):
 * the wire form of {@link ScalingRules} (scaling/behavior.ts), the one type of the concept.
 */
export interface HpaScalingRules {
  readonly stabilizationWindowSeconds: number;
  readonly selectPolicy: "Max";
  readonly policies: { type: "Pods" | "Percent"; value: number; periodSeconds: number }[];
}

/** One direction's rules in autoscaling/v2 form: a Pods and a Percent policy where set. */
function hpaRules(r: ScalingRules): HpaScalingRules {
  return {
    stabilizationWindowSeconds: r.stabilizationWindowSeconds,
    selectPolicy: "Max",
    policies: [
      ...(r.maxPodsPerPeriod > 0
        ? [{ type: "Pods" as const, value: r.maxPodsPerPeriod, periodSeconds: r.periodSeconds }]
        : []),
      ...(r.maxPercentPerPeriod > 0
        ? [
            {
              type: "Percent" as const,
              value: r.maxPercentPerPeriod,
              periodSeconds: r.periodSeconds,
            },
          ]
        : []),
    ],
  };
}

/**
 * The autoscaling/v2 behavior of a pool's HPA: when it decides on the controller's answer
 * (engine keda, or engine hpa with scaler tritonscale), {@link decisionHpaBehavior}, since
 * the decision already carries the pool's scaleUp / scaleDown; when the HPA itself is the
 * scaler (engine hpa with hpa-gpu, keda-queue or fallback), the pool's rules as written.
 */
export function renderedBehavior(policy: Policy): Behavior {
  const s = policy.spec.scaling;
  return s.engine === "keda" || s.scaler === "tritonscale"
    ? decisionHpaBehavior(policy)
    : behaviorFromPolicy(policy);
}

/** autoscaling/v2 behavior of the pool's HPA ({@link renderedBehavior}) in wire form. */
export function hpaBehavior(policy: Policy): {
  scaleUp: HpaScalingRules;
  scaleDown: HpaScalingRules;
} {
  const b = renderedBehavior(policy);
  return { scaleUp: hpaRules(b.scaleUp), scaleDown: hpaRules(b.scaleDown) };
}

/** A ScaledObject's or HPA's metadata: named and labelled like the Deployment it scales. */
function scalerMetadata(policy: Policy, deployment: string) {
  return {
    name: deployment,
    namespace: policy.metadata.namespace,
    labels: poolLabels(policy, "autoscaling"),
  };
}

function deploymentRef(deployment: string) {
  return { apiVersion: "apps/v1", kind: "Deployment", name: deployment };
}

/**
 * A KEDA cron trigger's `end` for a schedule: the start shifted by the duration. Only
 * schedules whose start names one minute and one hour, and that end the same day, fit a
 * cron pair; the others are left to the external scaler (which applies every schedule).
 */
export function cronEnd(cron: string, durationSeconds: number): string | undefined {
  const f = cron.trim().split(/\s+/);
  if (f.length !== 5 || !/^\d+$/.test(f[0]!) || !/^\d+$/.test(f[1]!)) return undefined;
  const endMinutes = Number(f[1]) * 60 + Number(f[0]) + Math.ceil(durationSeconds / 60);
  if (endMinutes >= 24 * 60) return undefined;
  return [String(endMinutes % 60), String(Math.floor(endMinutes / 60)), f[2], f[3], f[4]].join(" ");
}

function cronTriggers(schedules: readonly PolicySchedule[]) {
  return schedules.flatMap((s) => {
    const end = cronEnd(s.cron, s.durationSeconds);
    if (end === undefined) return [];
    return [
      {
        type: "cron",
        name: `schedule-${s.name}`,
        metadata: {
          timezone: s.timezone,
          start: s.cron,
          end,
          desiredReplicas: String(s.minReplicas),
        },
      },
    ];
  });
}

/**
 * The TriggerAuthentication of a pool whose external scaler speaks TLS
 * (`spec.scaling.keda.tls`), named `<pool>-tritonscale-tls`: KEDA reads the CA that signed
 * the controller's serving certificate (and, for mutual TLS, its own client certificate and
 * key) from the pool's Secret, as PEM contents under the keys cert-manager writes.
 */
export function buildTriggerAuthentication(policy: Policy): TriggerAuthentication | undefined {
  const tls = policy.spec.scaling.keda.tls;
  if (tls === undefined) return undefined;
  const ref = (parameter: string, key: string) => ({ parameter, name: tls.secretName, key });
  const ta = new TriggerAuthentication({
    metadata: {
      name: `${policy.metadata.name}-tritonscale-tls`,
      namespace: policy.metadata.namespace,
      labels: poolLabels(policy, "autoscaling"),
    },
    spec: {
      secretTargetRef: [
        ref("caCert", "ca.crt"),
        ...(tls.clientCertificate
          ? [ref("tlsClientCert", "tls.crt"), ref("tlsClientKey", "tls.key")]
          : []),
      ],
    },
  });
  ta.validate();
  return ta;
}

/**
 * The HPA behavior KEDA gives the HPA it creates ({@link renderedBehavior}), with
 * `spec.scaling.keda.hpaTolerance` in both directions when set (see controller/keda/hpa.ts
 * for why 0 makes the HPA land exactly on the controller's decision).
 */
function kedaHpaBehavior(policy: Policy) {
  const b = hpaBehavior(policy);
  const t = policy.spec.scaling.keda.hpaTolerance;
  if (t === undefined) return b;
  const tolerance = String(t);
  return { scaleUp: { ...b.scaleUp, tolerance }, scaleDown: { ...b.scaleDown, tolerance } };
}

/** The ScaledObject of one Deployment (engine keda). */
export function buildScaledObject(
  policy: Policy,
  deployment: string,
  type: CapacityType,
): ScaledObject {
  const s = policy.spec.scaling;
  const { min, max } = replicaBounds(policy, type);
  const capacityType = type === "spot" ? "spot" : "on-demand";
  const tlsAuth = buildTriggerAuthentication(policy)?.metadata?.name;
  // Schedules raise the pool's total: the on-demand Deployment carries them when there is one.
  const schedules = type === "onDemand" ? s.schedules : [];
  // `behavior` is newer than the typed model (KEDA's own CRD, checked in the tests, has it).
  const fallback = {
    failureThreshold: KEDA_FALLBACK_FAILURE_THRESHOLD,
    replicas: Math.max(1, min),
    behavior: "currentReplicasIfHigher" as const,
  };
  const so = new ScaledObject({
    metadata: scalerMetadata(policy, deployment),
    spec: {
      scaleTargetRef: deploymentRef(deployment),
      pollingInterval: kedaPollingIntervalSeconds(policy),
      cooldownPeriod: kedaCooldownSeconds(policy),
      minReplicaCount: min,
      maxReplicaCount: max,
      fallback,
      advanced: {
        restoreToOriginalReplicaCount: false,
        horizontalPodAutoscalerConfig: { behavior: kedaHpaBehavior(policy) },
      },
      triggers: [
        {
          type: "external",
          name: "tritonscale",
          metricType: "AverageValue",
          metadata: {
            scalerAddress: s.keda.scalerAddress,
            pool: policy.metadata.name,
            namespace: policy.metadata.namespace,
            capacityType,
            ...(tlsAuth === undefined ? {} : { enableTLS: "true" }),
          },
          ...(tlsAuth === undefined ? {} : { authenticationRef: { name: tlsAuth } }),
        },
        ...(s.keda.prometheusFallback
          ? [
              {
                type: "prometheus",
                name: "queue-fallback",
                metricType: "AverageValue",
                metadata: kedaPrometheusTrigger(policy, capacityType),
              },
            ]
          : []),
        ...cronTriggers(schedules),
      ],
    },
  });
  so.validate();
  return so;
}

/** The HPA of one Deployment (engine hpa): Pods/External metrics served by prometheus-adapter. */
export function buildHpa(
  policy: Policy,
  deployment: string,
  type: CapacityType,
): HorizontalPodAutoscaler {
  const { min, max } = replicaBounds(policy, type);
  const hpa = new HorizontalPodAutoscaler({
    metadata: scalerMetadata(policy, deployment),
    spec: {
      scaleTargetRef: deploymentRef(deployment),
      minReplicas: min,
      maxReplicas: max,
      metrics: hpaMetricSpecs(policy, type),
      behavior: hpaBehavior(policy),
    },
  });
  hpa.validate();
  return hpa;
}
