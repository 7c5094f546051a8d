import {
  PodMonitor,
  PrometheusRule,
  ServiceMonitor,
} from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";
import { ConfigMap } from "kubernetes-models/v1";
import type { Policy } from "../../policy/index.js";
import { CAPACITY_LABEL, POOL_LABEL, podSelector, poolLabels } from "./labels.js";
import { buildAdapterRules, buildRecordingRules, formatAdapterConfig } from "./prometheus.js";

/**
 * How Prometheus sees the pool: a ServiceMonitor (or PodMonitor) on Triton's metrics port
 * that copies the pool label onto every series, the recording rules of the derived series
 * (PrometheusRule), and, for engine hpa, prometheus-adapter's rules (ConfigMap).
 */

/** The ServiceMonitor or PodMonitor that scrapes Triton's metrics port. */
export function buildMonitor(policy: Policy): ServiceMonitor | PodMonitor {
  const m = policy.spec.monitoring;
  const meta = {
    name: `${policy.metadata.name}-triton`,
    namespace: policy.metadata.namespace,
    labels: { ...poolLabels(policy, "monitoring"), ...m.labels },
  };
  const interval = `${Math.round(m.scrapeIntervalSeconds)}s`;
  const obj =
    m.monitor === "PodMonitor"
      ? new PodMonitor({
          metadata: meta,
          spec: {
            selector: { matchLabels: podSelector(policy) },
            podTargetLabels: [POOL_LABEL, CAPACITY_LABEL],
            podMetricsEndpoints: [{ port: "metrics", path: "/metrics", interval }],
          },
        })
      : new ServiceMonitor({
          metadata: meta,
          spec: {
            selector: { matchLabels: podSelector(policy) },
            podTargetLabels: [POOL_LABEL, CAPACITY_LABEL],
            endpoints: [{ port: "metrics", path: "/metrics", interval }],
          },
        });
  obj.validate();
  return obj;
}

/** The recording rules of the pool, as a PrometheusRule. */
export function buildPrometheusRule(policy: Policy): PrometheusRule {
  const rule = new PrometheusRule({
    metadata: {
      name: `${policy.metadata.name}-triton`,
      namespace: policy.metadata.namespace,
      labels: { ...poolLabels(policy, "monitoring"), ...policy.spec.monitoring.labels },
    },
    spec: {
      groups: buildRecordingRules(policy).map((g) => ({
        name: g.name,
        ...(g.interval ? { interval: g.interval } : {}),
        rules: g.rules.map((r) => ({
          record: r.record,
          expr: r.expr,
          ...(r.labels ? { labels: { ...r.labels } } : {}),
        })),
      })),
    },
  });
  rule.validate();
  return rule;
}

/**
 * prometheus-adapter's rules for the pool (engine hpa), as a ConfigMap holding the
 * adapter's `config.yaml`; merge it into the adapter's configuration (or point a
 * dedicated adapter at it).
 */
export function buildAdapterConfigMap(policy: Policy): ConfigMap {
  const cm = new ConfigMap({
    metadata: {
      name: `${policy.metadata.name}-adapter-rules`,
      namespace: policy.metadata.namespace,
      labels: poolLabels(policy, "autoscaling"),
    },
    data: { "config.yaml": formatAdapterConfig(buildAdapterRules(policy)) },
  });
  cm.validate();
  return cm;
}
