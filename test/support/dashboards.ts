import { parser } from "@prometheus-io/lezer-promql";
import type { Policy } from "../../controller/policy/index.js";
import { fillVariables } from "../../controller/report/dashboard-queries.js";

/** Helpers of the dashboard tests (test/report/dashboard.test.ts, the real-Prometheus one). */

/** A pool's dashboard variables filled with its own values, as Grafana would. */
export function filledFor(
  policy: Policy,
  expr: string,
  rateInterval = "1m",
  rangeSeconds = 3600,
): string {
  return fillVariables(expr, {
    namespace: policy.metadata.namespace,
    pool: policy.metadata.name,
    models: policy.spec.models.map((m) => m.name),
    rateInterval,
    rangeSeconds,
  });
}

/** The metric names a PromQL expression selects (`name{...}` and `{__name__="name"}`). */
export function metricNames(expr: string): string[] {
  const names = new Set<string>();
  parser.parse(expr).iterate({
    enter(node) {
      if (node.name !== "VectorSelector") return;
      const id = node.node.getChild("Identifier");
      if (id !== null) names.add(expr.slice(id.from, id.to));
      const m = /__name__\s*=\s*"([^"]+)"/.exec(expr.slice(node.from, node.to));
      if (m) names.add(m[1]!);
    },
  });
  return [...names].sort();
}
