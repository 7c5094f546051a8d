import { expect } from "chai";
import type { PoolDecision } from "../../controller/loop/ports.js";
import { createControllerMetrics } from "../../controller/metrics/index.js";
import { MAX_SCALER_TERMS } from "../../controller/metrics/names.js";
import { decision, samples } from "./support.js";

/**
 * The decision's terms as `tritonscale_scaler_term{namespace,pool,term}` (stale terms
 * dropped), and the history outcomes as `tritonscale_history_operations_total`.
 */

function withTerms(terms: Record<string, number>, name = "yolo"): PoolDecision {
  const d = decision({ name });
  return { ...d, decision: { ...d.decision, terms } };
}

const term = (pool: string, t: string) =>
  `tritonscale_scaler_term{namespace="vision",pool="${pool}",term="${t}"}`;

describe("metrics: a decision's terms and the history outcomes", () => {
  it("exports each term of the last decision; a term the next decision lacks is removed", async () => {
    const m = createControllerMetrics({ processMetrics: false });
    m.publish(withTerms({ leadHeadroom: 1.42, keepAliveSeconds: 420 }));
    let s = samples(await m.metrics());
    expect(s.get(term("yolo", "leadHeadroom"))).to.equal("1.42");
    expect(s.get(term("yolo", "keepAliveSeconds"))).to.equal("420");
    m.publish(withTerms({ leadHeadroom: 1.1 }));
    s = samples(await m.metrics());
    expect(s.get(term("yolo", "leadHeadroom"))).to.equal("1.1");
    expect(s.has(term("yolo", "keepAliveSeconds")), "stale term").to.equal(false);
    m.publish(decision());
    s = samples(await m.metrics());
    expect([...s.keys()].filter((k) => k.startsWith("tritonscale_scaler_term{"))).to.deep.equal([]);
  });

  it("keeps pools apart, and a removed pool loses its terms", async () => {
    const m = createControllerMetrics({ processMetrics: false });
    m.publish(withTerms({ a: 1 }, "yolo"));
    m.publish(withTerms({ a: 2 }, "edge"));
    m.removePool({ namespace: "vision", name: "yolo" });
    const s = samples(await m.metrics());
    expect(s.has(term("yolo", "a"))).to.equal(false);
    expect(s.get(term("edge", "a"))).to.equal("2");
  });

  it(`exports at most ${MAX_SCALER_TERMS} distinct term names`, async () => {
    const m = createControllerMetrics({ processMetrics: false });
    const many = Object.fromEntries(
      Array.from({ length: MAX_SCALER_TERMS + 5 }, (_, i) => [`t${i}`, i]),
    );
    m.publish(withTerms(many));
    const s = samples(await m.metrics());
    const names = [...s.keys()].filter((k) => k.startsWith("tritonscale_scaler_term{"));
    expect(names).to.have.length(MAX_SCALER_TERMS);
  });

  it("counts history outcomes by operation, source and result; unknown values as other", async () => {
    const m = createControllerMetrics({ processMetrics: false });
    m.recordHistory("load", "configmap", "ok");
    m.recordHistory("load", "configmap", "ok");
    m.recordHistory("rebuild", "prometheus", "error");
    m.recordHistory("delete", "configmap", "weird");
    const s = samples(await m.metrics());
    const key = (o: string, src: string, r: string) =>
      `tritonscale_history_operations_total{operation="${o}",result="${r}",source="${src}"}`;
    expect(s.get(key("load", "configmap", "ok"))).to.equal("2");
    expect(s.get(key("rebuild", "prometheus", "error"))).to.equal("1");
    expect(s.get(key("other", "configmap", "other"))).to.equal("1");
  });
});
