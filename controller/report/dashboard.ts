import { createHash } from "node:crypto";
import * as common from "@grafana/grafana-foundation-sdk/common";
import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import * as prometheus from "@grafana/grafana-foundation-sdk/prometheus";
import * as stat from "@grafana/grafana-foundation-sdk/stat";
import * as timeseries from "@grafana/grafana-foundation-sdk/timeseries";
import type { Policy } from "../policy/index.js";
import { queueTimeBudgetMs } from "../scaling/fallback.js";
import * as q from "./dashboard-queries.js";

/**
 * Grafana dashboards of ModelPools, built with @grafana/grafana-foundation-sdk's typed
 * builders (pure: JSON out, no I/O): one per pool, and a fleet overview of several.
 *
 * A pool dashboard has a row per concern — traffic, capacity, latency, GPU, cost — and
 * the controller's scale events as annotations; variables for the data source, namespace,
 * pool and model (defaulting to the pool's own), so one dashboard also serves other pools.
 * Panels are described as data first ({@link PanelSpec}), so the tests and the README read
 * the same list the builders get. Queries: dashboard-queries.ts.
 */

/** Grafana's limit on a dashboard uid. */
export const MAX_UID_LENGTH = 40;

/** The fleet overview's uid. */
export const FLEET_UID = "tritonscale-fleet";

/** Tag on every tritonscale dashboard (the fleet overview links to them by it). */
export const DASHBOARD_TAG = "tritonscale";

/** The data source variable every query uses. */
const DATASOURCE = { type: "prometheus", uid: q.VARIABLES.datasource } as const;

/** One query of a panel. */
export interface TargetSpec {
  readonly expr: string;
  /** Grafana legend format, e.g. `{{model}} p99`. */
  readonly legend: string;
}

/** One panel, before it is built. */
export interface PanelSpec {
  readonly title: string;
  /** What the panel shows and where the numbers come from (the panel's info tooltip). */
  readonly description: string;
  readonly kind: "timeseries" | "stat" | "bars";
  /** Grafana unit id, e.g. `reqps`, `ms`, `percentunit`. */
  readonly unit: string;
  readonly targets: readonly TargetSpec[];
  /**
   * A line drawn at this value (an SLO or a budget), red past it; the axis reaches it even
   * when the data stays short of it (Grafana's soft max, or soft min when `below`).
   */
  readonly line?: { readonly value: number; readonly below?: boolean };
  /** Grid width, of 24. @default 12 */
  readonly width?: number;
}

/** A row of panels. */
export interface RowSpec {
  readonly title: string;
  readonly panels: readonly PanelSpec[];
}

/** An annotation query. */
export interface AnnotationSpec {
  readonly name: string;
  readonly expr: string;
  readonly title: string;
  readonly color: string;
}

/**
 * The uid of a pool's dashboard, stable across renders: `<namespace>_<name>` (`_` appears
 * in neither a namespace nor a pool name, so no two pools share one); past Grafana's 40
 * characters, its first 31 and `-` and 8 hex digits of a hash (SHA-256) of
 * `<namespace>/<name>`. Example: vision/yolo → `vision_yolo`.
 */
export function dashboardUid(namespace: string, name: string): string {
  const plain = `${namespace}_${name}`;
  if (plain.length <= MAX_UID_LENGTH) return plain;
  return `${plain.slice(0, MAX_UID_LENGTH - 9)}-${shortHash(`${namespace}/${name}`)}`;
}

/** The first 8 hex digits of the SHA-256 of `text`. */
function shortHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 8);
}

/** Grafana's unit id for a currency: its own for the common ones, else a suffix. */
export function currencyUnit(code: string): string {
  const known: Readonly<Record<string, string>> = {
    USD: "currencyUSD",
    EUR: "currencyEUR",
    GBP: "currencyGBP",
    JPY: "currencyJPY",
    CHF: "currencyCHF",
    CAD: "currencyCAD",
    AUD: "currencyAUD",
    INR: "currencyINR",
  };
  return known[code] ?? `suffix: ${code}`;
}

const n = (x: number) => String(Math.round(x * 1000) / 1000);

/** The rows of a pool's dashboard, as data. */
export function poolRows(policy: Policy): RowSpec[] {
  const s = q.VARIABLE_SCOPE;
  const ns = q.VARIABLES.namespace;
  const slo = policy.spec.slo.latencyP99Ms;
  const budget = queueTimeBudgetMs(policy);
  const sc = policy.spec.scaling;
  const money = currencyUnit(policy.spec.cost.currency);
  const gpuSource =
    policy.spec.monitoring.gpuUtilization === "dcgm"
      ? "dcgm-exporter's DCGM_FI_DEV_GPU_UTIL / 100, each GPU moved onto the Triton pod holding it (exported_pod/exported_namespace, pod_name/pod_namespace or pod/namespace, whichever the exporter and the scrape left)"
      : "Triton's nv_gpu_utilization, averaged over the pod's GPUs";
  const maxBatch = policy.spec.models.map((m) => `${m.name} ${m.maxBatchSize}`).join(", ");
  const prices = q
    .pricedCapacityTypes(policy)
    .map((t) => `${t.label} ${n(t.perGpuHour)}`)
    .join(", ");
  const gpus = policy.spec.capacity.gpu.count;
  return [
    {
      title: "Traffic",
      panels: [
        {
          title: "Request rate",
          description:
            "Requests per second Triton answered, by model (nv_inference_request_success) and failed (nv_inference_request_failure, every reason), and the arrival rate the controller measured for its decision.",
          kind: "timeseries",
          unit: "reqps",
          targets: [
            { expr: q.requestRate(s), legend: "{{model}} ok" },
            { expr: q.failureRate(s), legend: "{{model}} failed" },
            { expr: q.controllerArrivalRate(s), legend: "arrivals (controller)" },
          ],
        },
        {
          title: "Batch fill",
          description: `Mean executed batch size by model: Δnv_inference_count / Δnv_inference_exec_count, and the controller's measure. Largest batch: ${maxBatch}.`,
          kind: "timeseries",
          unit: "none",
          targets: [
            { expr: q.batchSize(s), legend: "{{model}}" },
            { expr: q.controllerBatchSize(s), legend: "pool (controller)" },
          ],
        },
        {
          title: "Queue time per request vs budget",
          description: `Mean time a request waited in the batcher queue, by model (Δnv_inference_queue_duration_us / Δnv_inference_request_success), and the controller's measure. The line is the pool's queue-time budget, ${n(budget)} ms (half the ${n(slo)} ms p99 SLO, or the longest max queue delay): past it the tritonscale scaler treats Ready replicas as past capacity.`,
          kind: "timeseries",
          unit: "ms",
          line: { value: budget },
          targets: [
            { expr: q.queueTimeMs(s), legend: "{{model}}" },
            { expr: q.controllerQueueTimeMs(s), legend: "pool (controller)" },
          ],
        },
        {
          title: "Pending requests",
          description:
            "Requests waiting in the batchers (nv_inference_pending_request_count, the leading signal: counters move only when responses complete), and the controller's measure.",
          kind: "timeseries",
          unit: "short",
          targets: [
            { expr: q.pendingRequests(s), legend: "{{model}}" },
            { expr: q.controllerPendingRequests(s), legend: "pool (controller)" },
          ],
        },
      ],
    },
    {
      title: "Capacity",
      panels: [
        {
          title: "Replicas by capacity type",
          description: `Replicas ready, starting (image pull, model load, warm-up), pending (waiting for a GPU node) and desired (what KEDA and the HPA are told), by capacity type, from the acting controller. The pool runs ${sc.minReplicas} to ${sc.maxReplicas} replicas.`,
          kind: "timeseries",
          unit: "short",
          targets: (["ready", "starting", "pending", "desired"] as const).map((state) => ({
            expr: q.replicas(s, state),
            legend: `${state} {{capacity_type}}`,
          })),
        },
        {
          title: "Headroom at the SLO",
          description:
            "Ready replicas × the smallest per-model capacity at the SLO, minus the arrival rate (below the line: past capacity), and each model's capacity per replica at the SLO as the scaler used it.",
          kind: "timeseries",
          unit: "reqps",
          line: { value: 0, below: true },
          targets: [
            { expr: q.headroom(s), legend: "headroom" },
            { expr: q.capacityAtSlo(s), legend: "{{model}} per replica" },
          ],
        },
        {
          title: "Decisions by reason",
          description:
            "The controller's decisions per interval, by class: held, scale-to-zero, schedule, scale-up, scale-down, rebalance, steady (the full reason is in its decision log and the pool's status).",
          kind: "bars",
          unit: "short",
          targets: [{ expr: q.decisionsByClass(s), legend: "{{reason_class}}" }],
        },
        {
          title: "Held decisions",
          description:
            "1 while missing or stale signals make the controller hold its last decision instead of deciding (it never scales down then), and held decisions per interval.",
          kind: "timeseries",
          unit: "short",
          targets: [
            { expr: q.held(s), legend: "holding" },
            { expr: q.heldDecisions(s), legend: "held decisions" },
          ],
        },
        {
          title: "Signal age",
          description: `Age of the newest sample behind each signal of the last decision (+Inf while missing). Past the line (scaling.staleAfter, ${n(sc.staleAfterSeconds)} s) a signal is stale and the decision holds.`,
          kind: "timeseries",
          unit: "s",
          line: { value: sc.staleAfterSeconds },
          targets: [{ expr: q.signalAge(s), legend: "{{signal}}" }],
        },
      ],
    },
    {
      title: "Latency",
      panels: [
        {
          title: "Latency p50 / p99 vs SLO",
          description: `Request time inside Triton by model: p50 and p99 of nv_inference_request_summary_us (Triton's summary, enabled by --metrics-config summary_latencies=true, which render sets; the worst pod's, as quantiles of several pods cannot be merged) and the mean from the cumulative counters. The line is the ${n(slo)} ms p99 SLO (network and client time not included).`,
          kind: "timeseries",
          unit: "ms",
          width: 24,
          line: { value: slo },
          targets: [
            { expr: q.latencyQuantileMs(s, "0.5"), legend: "{{model}} p50" },
            { expr: q.latencyQuantileMs(s, "0.99"), legend: "{{model}} p99" },
            { expr: q.meanLatencyMs(s), legend: "{{model}} mean" },
          ],
        },
      ],
    },
    {
      title: "GPU",
      panels: [
        {
          title: "GPU utilization",
          description: `GPU utilization per Triton pod, from ${gpuSource} (spec.monitoring.gpuUtilization: ${policy.spec.monitoring.gpuUtilization}).`,
          kind: "timeseries",
          unit: "percentunit",
          targets: [{ expr: q.gpuUtilization(policy, s, ns), legend: "{{pod}}" }],
        },
        {
          title: "GPU memory used",
          description:
            policy.spec.monitoring.gpuUtilization === "dcgm"
              ? "Framebuffer memory used per Triton pod: dcgm-exporter's DCGM_FI_DEV_FB_USED (MiB), summed over the pod's GPUs, mapped to the pod as for utilization."
              : "GPU memory used per Triton pod: Triton's nv_gpu_memory_used_bytes, summed over the pod's GPUs.",
          kind: "timeseries",
          unit: "bytes",
          targets: [{ expr: q.gpuMemoryBytes(policy, s, ns), legend: "{{pod}}" }],
        },
      ],
    },
    {
      title: "Cost",
      panels: [
        {
          title: "GPUs allocated",
          description: `GPUs held by replicas on a node (ready + starting; ${gpus} per replica), by capacity type: GPU-hours per hour.`,
          kind: "timeseries",
          unit: "short",
          width: 8,
          targets: [{ expr: q.gpusAllocated(policy, s), legend: "{{capacity_type}}" }],
        },
        {
          title: "Cost per hour",
          description: `GPUs allocated × the pool's spec.cost prices per GPU-hour (${prices} ${policy.spec.cost.currency}).`,
          kind: "timeseries",
          unit: money,
          width: 8,
          targets: [{ expr: q.costPerHour(policy, s), legend: "cost per hour" }],
        },
        {
          title: "Cost per 1,000 inferences",
          description:
            "Cost per second / requests served per second at the pool's models × 1000: what 1,000 detections cost at the current load.",
          kind: "timeseries",
          unit: money,
          width: 8,
          targets: [{ expr: q.costPer1k(policy, s), legend: "per 1k inferences" }],
        },
        {
          title: "GPU-hours over the range",
          description:
            "GPU-hours allocated over the dashboard's time range, by capacity type (the mean of GPUs allocated × the range's hours).",
          kind: "stat",
          unit: "short",
          targets: [{ expr: q.gpuHoursOverRange(policy, s), legend: "{{capacity_type}}" }],
        },
        {
          title: "Cost over the range",
          description: `What the range cost at the pool's prices (${policy.spec.cost.currency}).`,
          kind: "stat",
          unit: money,
          targets: [{ expr: q.costOverRange(policy, s), legend: "cost" }],
        },
      ],
    },
  ];
}

/** The annotations of a pool's dashboard. */
export function poolAnnotations(): AnnotationSpec[] {
  return [
    {
      name: "Scale events",
      expr: q.scaleEvents(q.VARIABLE_SCOPE),
      title: "scale {{direction}} {{capacity_type}}",
      color: "orange",
    },
  ];
}

/** The rows of the fleet overview of `policies`: one query per pool where prices or sources differ. */
export function fleetRows(policies: readonly Policy[]): RowSpec[] {
  const nsVar = q.VARIABLES.namespace;
  const per = (f: (p: Policy, s: q.PoolScope) => string) =>
    policies.map((p) => ({
      expr: f(p, q.literalScope(p, nsVar)),
      legend: `${p.metadata.namespace}/${p.metadata.name}`,
    }));
  const byPool = "{{namespace}}/{{pool}}";
  return [
    {
      title: "Traffic",
      panels: [
        {
          title: "Request rate by pool",
          description:
            "Requests per second served at each pool's models (nv_inference_request_success).",
          kind: "timeseries",
          unit: "reqps",
          targets: per((p, s) => `sum(${q.requestRate(s, q.entryModels(p))})`),
        },
        {
          title: "Queue time per request by pool",
          description: `Mean time a request waited in the batcher queue at each pool's models. Budgets: ${policies.map((p) => `${p.metadata.namespace}/${p.metadata.name} ${n(queueTimeBudgetMs(p))} ms`).join(", ")}.`,
          kind: "timeseries",
          unit: "ms",
          targets: per((p, s) => `max(${q.queueTimeMs(s, q.entryModels(p))})`),
        },
      ],
    },
    {
      title: "Capacity",
      panels: [
        {
          title: "Replicas desired and ready by pool",
          description:
            "Desired and ready replicas of each pool, both capacity types, from the acting controller.",
          kind: "timeseries",
          unit: "short",
          targets: [
            { expr: q.replicasByPool(nsVar, "desired"), legend: `${byPool} desired` },
            { expr: q.replicasByPool(nsVar, "ready"), legend: `${byPool} ready` },
          ],
        },
        {
          title: "Headroom and held decisions by pool",
          description:
            "Headroom at the SLO per pool (req/s; negative: past capacity) and pools holding for stale signals (1).",
          kind: "timeseries",
          unit: "short",
          targets: [
            {
              expr: `max by (namespace, pool) (${q.acting(`tritonscale_headroom_requests_per_second{namespace=~"${nsVar}"}`)})`,
              legend: `${byPool} headroom`,
            },
            {
              expr: `max by (namespace, pool) (${q.acting(`tritonscale_held{namespace=~"${nsVar}"}`)})`,
              legend: `${byPool} holding`,
            },
          ],
        },
      ],
    },
    {
      title: "Latency and GPU",
      panels: [
        {
          title: "Worst pod's p99 by pool",
          description: `p99 request time inside Triton at each pool's models (nv_inference_request_summary_us). SLOs: ${policies.map((p) => `${p.metadata.namespace}/${p.metadata.name} ${n(p.spec.slo.latencyP99Ms)} ms`).join(", ")}.`,
          kind: "timeseries",
          unit: "ms",
          targets: per(q.poolP99Ms),
        },
        {
          title: "GPU utilization by pool",
          description:
            "Mean GPU utilization of each pool's pods, from Triton or DCGM as each pool names.",
          kind: "timeseries",
          unit: "percentunit",
          targets: per(q.poolGpuUtilization),
        },
      ],
    },
    {
      title: "Cost",
      panels: [
        {
          title: "Cost per hour by pool",
          description:
            "GPUs allocated × each pool's own spec.cost prices (each in its pool's currency).",
          kind: "timeseries",
          unit: "short",
          targets: per((p, s) => q.costPerHour(p, s)),
        },
        {
          title: "Cost per 1,000 inferences by pool",
          description: "Cost per second / requests served per second × 1000, per pool.",
          kind: "timeseries",
          unit: "short",
          targets: per((p, s) => q.costPer1k(p, s)),
        },
      ],
    },
  ];
}

// ---------------------------------------------------------------------------------------
// Building with the SDK

const REF_IDS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

function targetsOf(spec: PanelSpec): prometheus.DataqueryBuilder[] {
  return spec.targets.map((t, i) =>
    new prometheus.DataqueryBuilder()
      .datasource(DATASOURCE)
      .expr(t.expr)
      .legendFormat(t.legend)
      .range()
      .refId(REF_IDS[i] ?? `Q${i}`),
  );
}

function thresholdsOf(spec: PanelSpec): dashboard.ThresholdsConfigBuilder {
  const line = spec.line;
  const steps: dashboard.Threshold[] =
    line === undefined
      ? [{ value: null, color: "green" }]
      : line.below
        ? [
            { value: null, color: "red" },
            { value: line.value, color: "green" },
          ]
        : [
            { value: null, color: "green" },
            { value: line.value, color: "red" },
          ];
  return new dashboard.ThresholdsConfigBuilder()
    .mode(dashboard.ThresholdsMode.Absolute)
    .steps(steps);
}

function buildPanel(spec: PanelSpec, id: number): timeseries.PanelBuilder | stat.PanelBuilder {
  if (spec.kind === "stat") {
    let p = new stat.PanelBuilder()
      .id(id)
      .title(spec.title)
      .description(spec.description)
      .datasource(DATASOURCE)
      .unit(spec.unit)
      .height(5)
      .span(spec.width ?? 12)
      .thresholds(thresholdsOf(spec))
      .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(["lastNotNull"]))
      .graphMode(common.BigValueGraphMode.None);
    for (const t of targetsOf(spec)) p = p.withTarget(t);
    return p;
  }
  let p = new timeseries.PanelBuilder()
    .id(id)
    .title(spec.title)
    .description(spec.description)
    .datasource(DATASOURCE)
    .unit(spec.unit)
    .height(8)
    .span(spec.width ?? 12)
    .thresholds(thresholdsOf(spec))
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.List)
        .placement(common.LegendPlacement.Bottom),
    )
    .tooltip(
      new common.VizTooltipOptionsBuilder()
        .mode(common.TooltipDisplayMode.Multi)
        .sort(common.SortOrder.Descending),
    )
    .thresholdsStyle(
      new common.GraphThresholdsStyleConfigBuilder().mode(
        spec.line === undefined
          ? common.GraphThresholdsStyleMode.Off
          : common.GraphThresholdsStyleMode.Dashed,
      ),
    );
  // Grafana scales the axis to the data alone: a line past it (a p99 well under its SLO)
  // would not be drawn. A soft limit keeps the line in view and lets the data go further.
  if (spec.line !== undefined) {
    p = spec.line.below ? p.axisSoftMin(spec.line.value) : p.axisSoftMax(spec.line.value);
  }
  if (spec.kind === "bars") {
    p = p
      .drawStyle(common.GraphDrawStyle.Bars)
      .fillOpacity(80)
      .stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal));
  }
  for (const t of targetsOf(spec)) p = p.withTarget(t);
  return p;
}

/** Adds `rows` to `b`, numbering panels from 1 in order. */
function withRows(
  b: dashboard.DashboardBuilder,
  rows: readonly RowSpec[],
): dashboard.DashboardBuilder {
  let id = 1;
  for (const row of rows) {
    b = b.withRow(new dashboard.RowBuilder(row.title).id(id++));
    for (const p of row.panels) b = b.withPanel(buildPanel(p, id++));
  }
  return b;
}

function datasourceVariable(): dashboard.DatasourceVariableBuilder {
  return new dashboard.DatasourceVariableBuilder("datasource")
    .label("Data source")
    .type("prometheus");
}

function queryVariable(
  name: string,
  label: string,
  query: string,
  current: string,
): dashboard.QueryVariableBuilder {
  return new dashboard.QueryVariableBuilder(name)
    .label(label)
    .datasource(DATASOURCE)
    .query(query)
    .definition(query)
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc)
    .current({ text: current, value: current });
}

/** A Grafana dashboard's JSON model, as the SDK builds it. */
export type DashboardJson = dashboard.Dashboard;

/**
 * The dashboard of one pool: uid {@link dashboardUid}, variables defaulting to the pool
 * (namespace, pool, all models), rows {@link poolRows}, annotations {@link poolAnnotations}.
 */
export function buildPoolDashboard(policy: Policy): DashboardJson {
  const { namespace, name } = policy.metadata;
  let b = new dashboard.DashboardBuilder(`tritonscale / ${namespace}/${name}`)
    .uid(dashboardUid(namespace, name))
    .description(
      `Traffic, capacity, latency, GPU and cost of the ModelPool ${namespace}/${name}, generated by tritonscale from the pool's spec.`,
    )
    .tags([DASHBOARD_TAG, `${DASHBOARD_TAG}-pool`])
    .editable()
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .refresh("30s")
    .time({ from: "now-6h", to: "now" })
    .timezone("browser")
    .withVariable(datasourceVariable())
    .withVariable(
      queryVariable(
        "namespace",
        "Namespace",
        "label_values(tritonscale_desired_replicas, namespace)",
        namespace,
      ),
    )
    .withVariable(
      queryVariable(
        "pool",
        "Pool",
        `label_values(tritonscale_desired_replicas{namespace="${q.VARIABLES.namespace}"}, pool)`,
        name,
      ),
    )
    .withVariable(
      queryVariable(
        "model",
        "Model",
        `label_values(nv_inference_request_success{namespace="${q.VARIABLES.namespace}", ${q.TRITON_POOL_LABEL}="${q.VARIABLES.pool}"}, model)`,
        "All",
      )
        .multi(true)
        .includeAll(true)
        .allValue(".+")
        .current({ text: "All", value: "$__all" }),
    )
    .link(
      new dashboard.DashboardLinkBuilder("tritonscale")
        .type(dashboard.DashboardLinkType.Dashboards)
        .tags([DASHBOARD_TAG])
        .asDropdown(true)
        .includeVars(false)
        .keepTime(true),
    );
  for (const a of poolAnnotations()) {
    b = b.annotation(
      new dashboard.AnnotationQueryBuilder()
        .name(a.name)
        .datasource(DATASOURCE)
        .enable(true)
        .iconColor(a.color)
        .expr(a.expr)
        .titleFormat(a.title)
        .step("15s"),
    );
  }
  return withRows(b, poolRows(policy)).build();
}

/** The fleet overview of `policies`: one query per pool, links to each pool's dashboard. */
export function buildFleetDashboard(policies: readonly Policy[]): DashboardJson {
  let b = new dashboard.DashboardBuilder("tritonscale / fleet")
    .uid(FLEET_UID)
    .description(
      `Every ModelPool tritonscale generated this overview for: ${policies.map((p) => `${p.metadata.namespace}/${p.metadata.name}`).join(", ")}.`,
    )
    .tags([DASHBOARD_TAG, `${DASHBOARD_TAG}-fleet`])
    .editable()
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .refresh("30s")
    .time({ from: "now-6h", to: "now" })
    .timezone("browser")
    .withVariable(datasourceVariable())
    .withVariable(
      queryVariable(
        "namespace",
        "Namespace",
        "label_values(tritonscale_desired_replicas, namespace)",
        "All",
      )
        .multi(true)
        .includeAll(true)
        .allValue(".+")
        .current({ text: "All", value: "$__all" }),
    );
  for (const p of policies) {
    const { namespace, name } = p.metadata;
    b = b.link(
      new dashboard.DashboardLinkBuilder(`${namespace}/${name}`)
        .type(dashboard.DashboardLinkType.Link)
        .url(`/d/${dashboardUid(namespace, name)}`)
        .keepTime(true),
    );
  }
  return withRows(b, fleetRows(policies)).build();
}

/** A dashboard as file text: 2-space JSON and a final newline (the SDK's key order is stable). */
export function formatDashboard(d: DashboardJson): string {
  return `${JSON.stringify(d, null, 2)}\n`;
}

/** Every PromQL query of a dashboard (panels, then annotations), with where it is. */
export function dashboardQueries(d: DashboardJson): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  for (const p of d.panels ?? []) {
    const panel = p as { title?: string; targets?: { expr?: string; refId?: string }[] };
    for (const t of panel.targets ?? []) {
      if (typeof t.expr === "string")
        out.push({ where: `panel "${panel.title}" ${t.refId}`, expr: t.expr });
    }
  }
  for (const a of d.annotations?.list ?? []) {
    const expr = (a as { expr?: string }).expr;
    if (typeof expr === "string") out.push({ where: `annotation "${a.name}"`, expr });
  }
  return out;
}
