import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor";
import { expect } from "chai";
import { parse } from "yaml";
import {
  buildControllerService,
  CONTROLLER_NAMESPACE,
} from "../../controller/kube/install/index.js";
import {
  createControllerMetrics,
  METRICS,
  type MetricDef,
} from "../../controller/metrics/index.js";
import { projectRoot } from "../support/reference.js";

/** One row of the README's metrics table. */
interface Row {
  readonly name: string;
  readonly type: string;
  readonly labels: readonly string[];
  readonly meaning: string;
}

/** The rows of the table under `### Controller metrics` in README.md. */
function readmeRows(readme: string): Row[] {
  const start = readme.indexOf("### Controller metrics");
  if (start < 0) throw new Error("README.md has no '### Controller metrics' section");
  const rest = readme.slice(start);
  const rows: Row[] = [];
  for (const line of rest.split("\n")) {
    const m = /^\| `(tritonscale_[a-z_]+)` \| (\w+) \| ([^|]*) \| (.*) \|$/.exec(line);
    if (m === null) continue;
    const labels =
      m[3]!.trim() === "—" ? [] : [...m[3]!.matchAll(/`([a-z_]+)`/g)].map((x) => x[1]!);
    rows.push({ name: m[1]!, type: m[2]!, labels, meaning: m[4]!.trim() });
  }
  return rows;
}

describe("metrics: README's table and the registry agree", () => {
  const rows = readmeRows(readFileSync(join(projectRoot, "README.md"), "utf8"));

  it("the same names and types as the registry, each with its labels and a meaning", async () => {
    const m = createControllerMetrics({ processMetrics: false });
    const registered = (await m.registry.getMetricsAsJSON())
      .filter((j) => j.name.startsWith("tritonscale_"))
      .map((j) => `${j.name} ${j.type}`)
      .sort();
    expect(rows.map((r) => `${r.name} ${r.type}`).sort()).to.deep.equal(registered);
    const defs = new Map<string, MetricDef>(Object.values(METRICS).map((d) => [d.name, d]));
    for (const r of rows) {
      expect(r.labels, r.name).to.deep.equal([...(defs.get(r.name)?.labels ?? [])]);
      expect(r.meaning.length, r.name).to.be.greaterThan(10);
    }
  });

  it("the parser sees a disagreement (a renamed metric, a dropped label)", () => {
    const table = [
      "### Controller metrics",
      "| `tritonscale_held` | gauge | `namespace` | x meaning here |",
      "| `tritonscale_leader` | gauge | — | another meaning |",
    ].join("\n");
    expect(readmeRows(table)).to.deep.equal([
      { name: "tritonscale_held", type: "gauge", labels: ["namespace"], meaning: "x meaning here" },
      { name: "tritonscale_leader", type: "gauge", labels: [], meaning: "another meaning" },
    ]);
  });

  it("the ServiceMonitor shown validates, selects the controller's Service and keeps its labels", () => {
    const readme = readFileSync(join(projectRoot, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("### Controller metrics"));
    const block = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
    expect(block, "a yaml block in the section").to.be.a("string");
    const sm = new ServiceMonitor(parse(block!));
    expect(() => sm.validate()).not.to.throw();
    const service = buildControllerService();
    expect(sm.metadata?.namespace).to.equal(CONTROLLER_NAMESPACE);
    for (const [k, v] of Object.entries(sm.spec.selector.matchLabels ?? {})) {
      expect(service.metadata?.labels?.[k], k).to.equal(v);
    }
    const endpoint = sm.spec.endpoints?.[0];
    expect(service.spec?.ports?.map((p) => p.name)).to.include(endpoint?.port);
    expect(endpoint?.honorLabels).to.equal(true);
  });
});
