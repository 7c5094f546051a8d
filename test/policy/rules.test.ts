import { expect } from "chai";
import type { Problem } from "../../controller/diagnostics/problem.js";
import { RuleContext } from "../../controller/policy/rules.js";
import { SourceIndex } from "../../controller/policy/source.js";

describe("cross-field rules: RuleContext", () => {
  const context = (doc: Record<string, unknown>, invalid: string[] = []) => {
    const problems: Problem[] = [];
    const c = new RuleContext(doc, new SourceIndex("pool", new Map()), new Set(invalid), problems);
    return { c, problems };
  };

  it("reads only fields that passed the schema, and nothing under a failed one", () => {
    const { c } = context(
      { spec: { scaling: { minReplicas: 2, maxReplicas: "x" }, models: [{ name: "a" }, 7] } },
      ["spec.scaling.maxReplicas", "spec.models[1]"],
    );
    expect(c.doc.spec?.scaling?.minReplicas).to.equal(2);
    expect(c.doc.spec?.scaling?.maxReplicas).to.equal(undefined);
    expect(c.doc.spec?.models).to.deep.equal([{ name: "a" }, undefined]);
  });

  it("keeps __proto__ an ordinary key", () => {
    const labels = JSON.parse('{"__proto__": "x"}') as Record<string, unknown>;
    const { c } = context({ metadata: { labels } });
    expect(Object.keys(c.doc.metadata?.labels ?? {})).to.deep.equal(["__proto__"]);
  });

  it("refuses to report at a path the schema does not have (a misspelt rule fails loudly)", () => {
    const { c, problems } = context({});
    c.report("spec.scaling.minReplicas", "ok");
    expect(problems.map((p) => p.path)).to.deep.equal(["spec.scaling.minReplicas"]);
    expect(() => c.report("spec.scaling.minReplica", "typo")).to.throw(
      /names "spec\.scaling\.minReplica", which the ModelPool schema does not have/,
    );
    expect(() => c.report('spec.capacity.nodeSelector["a/b"]', "map keys are fine")).not.to.throw();
  });
});
