import { parse } from "yaml";
import type { Problem } from "../../diagnostics/problem.js";
import type { Policy, PolicyPath } from "../../policy/index.js";
import { type DashboardJson, dashboardQueries } from "../../report/dashboard.js";
import { fillVariables } from "../../report/dashboard-queries.js";
import { promqlFindings } from "../../util/promql.js";

/**
 * The PromQL check every rendered expression passes before it is output: lezer-promql
 * (the grammar of Prometheus' own UI) finds no error node, and no range selector or
 * subquery spans zero time (`rate(x[0s])`, which Prometheus refuses: "range must be
 * greater than 0").
 */

export { checkPromQL } from "../../util/promql.js";

/** One PromQL expression in a rendered object. */
export interface RenderedExpression {
  /** The object and field, e.g. `PrometheusRule vision/yolo-triton spec.groups[0].rules[2].expr`. */
  readonly where: string;
  /** The expression as Prometheus receives it. */
  readonly expr: string;
  /** The policy field whose section produced it, for the problem's position. */
  readonly field: PolicyPath;
}

type Json = { [k: string]: unknown };
const isJson = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/**
 * A prometheus-adapter `metricsQuery` filled enough to parse: `<<.Series>>` by the rule's
 * series, `<<.LabelMatchers>>` by a namespace matcher, `<<.GroupBy>>` by `pod`. (The
 * tests fill it exactly as the adapter does, test/support/prometheus-adapter.ts.)
 */
function fillForCheck(template: string, series: string): string {
  return template
    .replaceAll("<<.Series>>", series)
    .replaceAll("<<.LabelMatchers>>", 'namespace="check"')
    .replaceAll("<<.GroupBy>>", "pod");
}

/**
 * Every PromQL expression in `objects` as rendered: PrometheusRule rule expressions, KEDA
 * `prometheus` trigger queries, and prometheus-adapter rules (series queries, and metrics
 * queries filled by {@link fillForCheck}) in a ConfigMap's `config.yaml`.
 */
export function renderedExpressions(
  objects: readonly { readonly kind: string; toJSON(): unknown }[],
): RenderedExpression[] {
  const out: RenderedExpression[] = [];
  for (const o of objects) {
    const data = JSON.parse(JSON.stringify(o.toJSON())) as Json;
    const meta = isJson(data.metadata) ? data.metadata : {};
    const name = `${o.kind} ${String(meta.namespace)}/${String(meta.name)}`;
    const spec = isJson(data.spec) ? data.spec : {};
    if (o.kind === "PrometheusRule") {
      list(spec.groups).forEach((g, gi) => {
        list(isJson(g) ? g.rules : []).forEach((r, ri) => {
          if (!isJson(r) || typeof r.expr !== "string") return;
          const what = typeof r.record === "string" ? ` (record ${r.record})` : "";
          out.push({
            where: `${name} spec.groups[${gi}].rules[${ri}].expr${what}`,
            expr: r.expr,
            field: "spec.monitoring",
          });
        });
      });
    } else if (o.kind === "ScaledObject") {
      list(spec.triggers).forEach((t, i) => {
        if (!isJson(t) || t.type !== "prometheus" || !isJson(t.metadata)) return;
        if (typeof t.metadata.query !== "string") return;
        out.push({
          where: `${name} spec.triggers[${i}].metadata.query`,
          expr: t.metadata.query,
          field: "spec.scaling.keda.prometheusFallback",
        });
      });
    } else if (o.kind === "ConfigMap" && isJson(data.data)) {
      const text = data.data["config.yaml"];
      if (typeof text !== "string") continue;
      const config = parse(text) as unknown;
      if (!isJson(config)) continue;
      for (const key of ["rules", "externalRules"]) {
        list(config[key]).forEach((r, i) => {
          if (!isJson(r) || typeof r.seriesQuery !== "string") return;
          const at = `${name} data["config.yaml"] ${key}[${i}]`;
          const series = r.seriesQuery.split("{")[0] ?? "";
          out.push({
            where: `${at}.seriesQuery`,
            expr: r.seriesQuery,
            field: "spec.scaling.engine",
          });
          if (typeof r.metricsQuery === "string") {
            out.push({
              where: `${at}.metricsQuery`,
              expr: fillForCheck(r.metricsQuery, series),
              field: "spec.scaling.engine",
            });
          }
        });
      }
    }
  }
  return out;
}

/**
 * The queries of the Grafana dashboards in `objects` (ConfigMaps labelled
 * `grafana_dashboard`), with Grafana's variables filled by the pool's own values (rate
 * interval `1m`, range 1 h: only the syntax is at stake, Grafana never sends an empty range).
 */
export function dashboardExpressions(
  policy: Policy,
  objects: readonly { readonly kind: string; toJSON(): unknown }[],
): RenderedExpression[] {
  const out: RenderedExpression[] = [];
  for (const o of objects) {
    if (o.kind !== "ConfigMap") continue;
    const data = JSON.parse(JSON.stringify(o.toJSON())) as Json;
    const meta = isJson(data.metadata) ? data.metadata : {};
    if (!isJson(meta.labels) || meta.labels.grafana_dashboard === undefined) continue;
    const name = `${o.kind} ${String(meta.namespace)}/${String(meta.name)}`;
    for (const [key, text] of Object.entries(isJson(data.data) ? data.data : {})) {
      if (typeof text !== "string") continue;
      for (const q of dashboardQueries(JSON.parse(text) as DashboardJson)) {
        out.push({
          where: `${name} data["${key}"] ${q.where}`,
          expr: fillVariables(q.expr, {
            namespace: policy.metadata.namespace,
            pool: policy.metadata.name,
            models: policy.spec.models.map((m) => m.name),
            rateInterval: "1m",
            rangeSeconds: 3600,
          }),
          field: "spec.monitoring",
        });
      }
    }
  }
  return out;
}

/** The expression for a message: whole when short, else its start. */
function shown(expr: string): string {
  return expr.length <= 200 ? expr : `${expr.slice(0, 200)}…`;
}

/**
 * The problems of every PromQL expression in a pool's rendered objects (see
 * {@link checkPromQL}), its Grafana dashboard's queries included
 * ({@link dashboardExpressions}), each naming the object, the field and the expression. An empty
 * range comes from `spec.monitoring.scrapeInterval` (every range is four scrape
 * intervals) and is reported there; a syntax error is tritonscale's bug, reported at the
 * section that produced the object.
 */
export function promqlProblems(
  policy: Policy,
  objects: readonly { readonly kind: string; toJSON(): unknown }[],
): Problem[] {
  const problems: Problem[] = [];
  for (const e of [...renderedExpressions(objects), ...dashboardExpressions(policy, objects)]) {
    for (const f of promqlFindings(e.expr)) {
      const p = f.message;
      const empty = f.kind === "empty-range";
      const field = empty ? "spec.monitoring.scrapeInterval" : e.field;
      const why = empty
        ? `set spec.monitoring.scrapeInterval above 0 (rate windows are four scrape intervals)`
        : "this is a tritonscale bug: please report it with the pool";
      problems.push(
        policy.source.problemAt(
          field,
          `${e.where} would be refused by Prometheus: ${p}; ${why}. Expression: ${shown(e.expr)}`,
        ),
      );
    }
  }
  return problems;
}
