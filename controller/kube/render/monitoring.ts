import {
  PodMonitor,
  PrometheusRule,
  ServiceMonitor,
} from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";
import { ConfigMap } from "kubernetes-models/v1";
import type { Policy } from "../../policy/index.js";
import { buildPoolDashboard, dashboardUid, formatDashboard } from "../../report/dashboard.js";
import { CAPACITY_LABEL, POOL_LABEL, podSelector, poolLabels } from "./labels.js";
import { buildAdapterRules, buildRecordingRules, formatAdapterConfig } from "./prometheus.js";

/**
 * How Prometheus sees the pool: a ServiceMonitor (or PodMonitor) on Triton's metrics port
 * that copies the pool label onto every series, the recording rules of the derived series
 * (PrometheusRule), the pool's Grafana dashboard (ConfigMap for Grafana's dashboard
 * sidecar), and, for engine hpa, prometheus-adapter's rules (ConfigMap).
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

/** The label Grafana's dashboard sidecar (k8s-sidecar, the Grafana Helm chart's) selects by. */
export const GRAFANA_DASHBOARD_LABEL = "grafana_dashboard";

/**
 * The pool's Grafana dashboard (report/dashboard.ts) as a ConfigMap labelled
 * `grafana_dashboard: "1"`, which Grafana's dashboard sidecar loads: one key,
 * `tritonscale_<namespace>_<pool>.json` (the sidecar writes every ConfigMap's keys into one
 * folder, so the key names the pool unambiguously, as the dashboard's uid does).
 */
export function buildDashboardConfigMap(policy: Policy): ConfigMap {
  const { namespace, name } = policy.metadata;
  const cm = new ConfigMap({
    metadata: {
      name: `${name}-dashboard`,
      namespace,
      labels: {
        ...poolLabels(policy, "monitoring"),
        ...policy.spec.monitoring.labels,
        [GRAFANA_DASHBOARD_LABEL]: "1",
      },
    },
    data: {
      [`tritonscale_${dashboardUid(namespace, name)}.json`]: formatDashboard(
        buildPoolDashboard(policy),
      ),
    },
  });
  cm.validate();
  return cm;
}
