/**
 * What prometheus-adapter does with the rules tritonscale writes, emulated for tests: how
 * it fills a `metricsQuery` template for a Pods or External metric request
 * (pkg/naming/metrics_query.go), and every PromQL expression of a pool as Prometheus
 * would receive it.
 */

import { PROM_POOL_LABEL } from "../../controller/kube/render/labels.js";
import {
  ADAPTER_METRICS,
  type AdapterRule,
  buildAdapterRules,
  buildRecordingRules,
  kedaPrometheusTrigger,
} from "../../controller/kube/render/prometheus.js";
import type { Policy } from "../../controller/policy/index.js";

/** A label matcher as the adapter renders it: `name op "value"` (value Go-quoted). */
export interface LabelMatcher {
  readonly name: string;
  readonly op: "=" | "!=" | "=~" | "!~";
  readonly value: string;
}

/** What prometheus-adapter fills a `metricsQuery` template with. */
export interface AdapterQueryArgs {
  /** `.Series`: the Prometheus series name. */
  readonly series: string;
  /** `.LabelMatchers`, joined with "," (no spaces). */
  readonly labelMatchers: readonly LabelMatcher[];
  /** `.GroupBy`, joined with ",". */
  readonly groupBy: readonly string[];
}

/** Go's `%q` for the strings the adapter quotes (strconv.Quote). */
function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === '"' || ch === "\\") out += `\\${ch}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\r") out += "\\r";
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return `${out}"`;
}

const TEMPLATE_ACTION = /<<(-?)\s*(.*?)\s*(-?)>>/g;

/**
 * Fills a `metricsQuery` template as prometheus-adapter does (pkg/naming/metrics_query.go):
 * `<<.Series>>`, `<<.LabelMatchers>>` (matchers `label="value"` with Go quoting, joined by
 * ","), `<<.GroupBy>>` (joined by ","). Any other template action throws, naming it.
 */
export function expandAdapterQuery(template: string, args: AdapterQueryArgs): string {
  const values: Record<string, string> = {
    ".Series": args.series,
    ".LabelMatchers": args.labelMatchers
      .map((m) => `${m.name}${m.op}${goQuote(m.value)}`)
      .join(","),
    ".GroupBy": args.groupBy.join(","),
  };
  return template.replace(
    TEMPLATE_ACTION,
    (whole, trimLeft: string, action: string, trimRight: string) => {
      const v = values[action];
      if (v === undefined || trimLeft !== "" || trimRight !== "") {
        throw new Error(
          `metricsQuery template action ${JSON.stringify(whole)} is not supported: use <<.Series>>, <<.LabelMatchers>> or <<.GroupBy>>`,
        );
      }
      return v;
    },
  );
}

/** A metric selector's matchers, sorted by label as Kubernetes' labels.Selector lists them. */
function selectorMatchers(selector: Readonly<Record<string, string>>): LabelMatcher[] {
  return Object.keys(selector)
    .sort()
    .map((name) => ({ name, op: "=" as const, value: selector[name] ?? "" }));
}

/**
 * The template arguments for a Pods metric request (custom.metrics.k8s.io, all pods of a
 * namespace matching the HPA's selector) about `pods`, as the adapter builds them: metric selector matchers, then
 * `namespace="<ns>"`, then `pod="<name>"` (one pod) or `pod=~"a|b"` (several); GroupBy `pod`.
 */
export function adapterPodsQueryArgs(
  series: string,
  namespace: string,
  pods: readonly string[],
  metricSelector: Readonly<Record<string, string>> = {},
): AdapterQueryArgs {
  if (pods.length === 0) throw new Error(`a Pods metric request names at least one pod (got none)`);
  return {
    series,
    labelMatchers: [
      ...selectorMatchers(metricSelector),
      { name: "namespace", op: "=", value: namespace },
      { name: "pod", op: pods.length > 1 ? "=~" : "=", value: pods.join("|") },
    ],
    groupBy: ["pod"],
  };
}

/**
 * The template arguments for an External metric request
 * (`/namespaces/<ns>/<metric>?labelSelector=...`) of a namespaced rule, as the adapter
 * builds them: metric selector matchers, then `namespace="<ns>"`; no GroupBy.
 */
export function adapterExternalQueryArgs(
  series: string,
  namespace: string,
  metricSelector: Readonly<Record<string, string>>,
): AdapterQueryArgs {
  return {
    series,
    labelMatchers: [
      ...selectorMatchers(metricSelector),
      { name: "namespace", op: "=", value: namespace },
    ],
    groupBy: [],
  };
}

/** One PromQL expression tritonscale generates, and where it goes. */
export interface GeneratedExpression {
  /** Where the expression is used, e.g. `rule pool:tritonscale_requests:rate`. */
  readonly where: string;
  readonly expr: string;
}

/**
 * Every PromQL expression generated for a pool: recording rules, the KEDA query, the
 * adapter's series queries, and its metrics queries filled as for a request about two
 * pods (Pods) or the pool (External).
 */
export function allExpressions(policy: Policy): GeneratedExpression[] {
  const out: GeneratedExpression[] = [];
  for (const g of buildRecordingRules(policy)) {
    for (const r of g.rules) out.push({ where: `rule ${r.record}`, expr: r.expr });
  }
  out.push({ where: "keda query", expr: kedaPrometheusTrigger(policy).query });
  const adapter = buildAdapterRules(policy);
  const ns = policy.metadata.namespace;
  const seriesOf = (r: AdapterRule) => r.seriesQuery.slice(0, r.seriesQuery.indexOf("{"));
  for (const r of adapter.rules) {
    out.push({ where: `adapter ${r.name.as} seriesQuery`, expr: r.seriesQuery });
    const args = adapterPodsQueryArgs(seriesOf(r), ns, [
      `${policy.metadata.name}-a`,
      `${policy.metadata.name}-b`,
    ]);
    out.push({
      where: `adapter ${r.name.as} metricsQuery`,
      expr: expandAdapterQuery(r.metricsQuery, args),
    });
  }
  for (const r of adapter.externalRules) {
    out.push({ where: `adapter ${r.name.as} seriesQuery`, expr: r.seriesQuery });
    // The HPA's selector: the controller's desired series by pool and capacity type, the
    // recorded series by the pool label.
    const selector: Record<string, string> =
      r.name.as === ADAPTER_METRICS.desiredReplicas
        ? { pool: policy.metadata.name, capacity_type: "spot" }
        : { [PROM_POOL_LABEL]: policy.metadata.name };
    const args = adapterExternalQueryArgs(seriesOf(r), ns, selector);
    out.push({
      where: `adapter ${r.name.as} metricsQuery`,
      expr: expandAdapterQuery(r.metricsQuery, args),
    });
  }
  return out;
}
