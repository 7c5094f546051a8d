import { expect } from "chai";
import { KedaTargets, scaledObjectTargets } from "../../controller/keda/targets.js";
import { buildPool, type KubeObject } from "../../controller/kube/render/index.js";
import type { Policy } from "../../controller/policy/index.js";
import { poolDecision } from "../support/decisions.js";
import { minimalPool, pool } from "../support/pools.js";

type Json = { [k: string]: unknown };
const meta = (o: KubeObject) =>
  (o.toJSON() as Json).metadata as { name: string; namespace: string };

/** The ScaledObjects `render` writes for a pool, as `namespace/name`. */
function renderedScaledObjects(policy: Policy): string[] {
  return buildPool(policy)
    .filter((o) => o.kind === "ScaledObject")
    .map((o) => `${meta(o).namespace}/${meta(o).name}`);
}

function named(namespace: string, name: string, spot: boolean): Policy {
  const p = minimalPool({
    scaling: { engine: "keda", maxReplicas: 8 },
    capacity: { provider: "eks", spot: { enabled: spot, onDemandBase: spot ? 1 : 0 } },
  });
  return { ...p, metadata: { ...p.metadata, namespace, name } };
}

/** Records what a watcher is told. */
function recorder() {
  const told: string[] = [];
  return {
    told,
    watcher: {
      active: (a: boolean) => told.push(a ? "active" : "inactive"),
      gone: (m: string) => told.push(`gone: ${m}`),
    },
  };
}

describe("keda targets: ScaledObject names come from render", () => {
  const cases: { name: string; policy: Policy }[] = [
    { name: "Spot enabled: a Spot and an on-demand ScaledObject", policy: pool("eks", "keda") },
    { name: "Spot disabled: one ScaledObject", policy: named("vision", "yolo", false) },
    { name: "engine hpa: none", policy: pool("gke", "hpa") },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = scaledObjectTargets(c.policy).map((t) => `${t.namespace}/${t.name}`);
      expect(got).to.deep.equal(renderedScaledObjects(c.policy));
    });
  }

  it("maps each ScaledObject to its pool, capacity type and Deployment", () => {
    expect(scaledObjectTargets(pool("eks", "keda"))).to.deep.equal([
      {
        namespace: "vision",
        name: "yolo-triton-spot",
        pool: { namespace: "vision", name: "yolo" },
        capacityType: "spot",
        deployment: "yolo-triton-spot",
      },
      {
        namespace: "vision",
        name: "yolo-triton-ondemand",
        pool: { namespace: "vision", name: "yolo" },
        capacityType: "onDemand",
        deployment: "yolo-triton-ondemand",
      },
    ]);
  });
});

describe("keda targets: the registry", () => {
  it("knows a pool's ScaledObjects before its first decision, with no answer yet", () => {
    const t = new KedaTargets();
    t.setPool(pool("eks", "keda"));
    const l = t.lookup("vision", "yolo-triton-spot");
    expect(l.found).to.equal(true);
    expect(l.found && l.answer).to.equal(undefined);
  });

  it("answers from the last decision per pool (a DecisionSink)", () => {
    const t = new KedaTargets();
    t.setPool(pool("eks", "keda"));
    t.publish(poolDecision({ desired: { spot: 3, onDemand: 1 } }));
    t.publish(poolDecision({ desired: { spot: 4, onDemand: 1 }, at: 1015 }));
    const l = t.lookup("vision", "yolo-triton-spot");
    expect(l.found && l.answer).to.include({ active: true, replicas: 4 });
    expect(t.decisionOf({ namespace: "vision", name: "yolo" })?.at).to.equal(1015);
  });

  it("an unknown ScaledObject: a message naming it, a bounded list of known ones and the nearest", () => {
    const t = new KedaTargets();
    for (let i = 0; i < 20; i++) t.setPool(named("vision", `pool${i}`, true));
    t.setPool(named("other", "yolo", true));
    const before = t.targets().length;
    const l = t.lookup("vision", "pool3-triton-spott");
    expect(l.found).to.equal(false);
    const message = l.found ? "" : l.message;
    expect(message).to.match(/^unknown ScaledObject vision\/pool3-triton-spott; known: vision\//);
    expect(message).to.contain("… (42 in all)");
    expect(message).to.contain('did you mean "vision/pool3-triton-spot"?');
    expect(message.split(", ").length).to.be.lessThan(12);
    expect(t.targets().length).to.equal(before);
  });

  it("an unknown ScaledObject when no pool is loaded says so", () => {
    const l = new KedaTargets().lookup("vision", "yolo-triton-spot");
    expect(l.found ? "" : l.message).to.contain("serves no ScaledObject");
  });

  it("watchers hear the activity at once when known, then only changes", () => {
    const t = new KedaTargets();
    t.setPool(pool("eks", "keda"));
    const r = recorder();
    t.watch("vision", "yolo-triton-spot", r.watcher);
    expect(r.told).to.deep.equal([]);
    t.publish(poolDecision({ desired: { spot: 2, onDemand: 1 } }));
    t.publish(poolDecision({ desired: { spot: 3, onDemand: 1 } }));
    t.publish(poolDecision({ desired: { spot: 0, onDemand: 1 } }));
    t.publish(poolDecision({ desired: { spot: 0, onDemand: 0 }, active: false }));
    t.publish(poolDecision({ desired: { spot: 1, onDemand: 1 } }));
    expect(r.told).to.deep.equal(["active", "inactive", "active"]);
    const late = recorder();
    t.watch("vision", "yolo-triton-spot", late.watcher);
    expect(late.told).to.deep.equal(["active"]);
  });

  it("a changed pool that no longer renders a ScaledObject ends its watchers; a removed pool ends all", () => {
    const t = new KedaTargets();
    t.setPool(named("vision", "yolo", true));
    t.publish(poolDecision({ desired: { spot: 2, onDemand: 1 } }));
    const spot = recorder();
    const onDemand = recorder();
    t.watch("vision", "yolo-triton-spot", spot.watcher);
    t.watch("vision", "yolo-triton-ondemand", onDemand.watcher);
    t.setPool(named("vision", "yolo", false));
    expect(spot.told[1]).to.match(
      /^gone: ScaledObject vision\/yolo-triton-spot is no longer served/,
    );
    expect(t.lookup("vision", "yolo-triton-spot").found).to.equal(false);
    expect(t.lookup("vision", "yolo-triton").found).to.equal(true);
    // The kept decision is answered for the new layout at once: the solo ScaledObject carries 3.
    const solo = t.lookup("vision", "yolo-triton");
    expect(solo.found && solo.answer?.replicas).to.equal(3);
    expect(onDemand.told[1]).to.match(/^gone: .*yolo-triton-ondemand .*no longer renders it/);
    const soloWatch = recorder();
    t.watch("vision", "yolo-triton", soloWatch.watcher);
    t.removePool({ namespace: "vision", name: "yolo" });
    expect(t.targets()).to.deep.equal([]);
    expect(soloWatch.told).to.have.lengthOf(2);
    expect(soloWatch.told[1]).to.match(
      /^gone: .*yolo-triton is no longer served: its pool vision\/yolo was removed/,
    );
  });
});
