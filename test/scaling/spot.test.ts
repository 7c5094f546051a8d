import { expect } from "chai";
import {
  type ByCapacity,
  INITIAL_SPOT_STATE,
  type ReplicaCounts,
  splitCapacity,
} from "../../controller/scaling/index.js";
import { pool } from "./support.js";

const od = (n: number): ByCapacity => ({ spot: 0, onDemand: n });
const sp = (spot: number, onDemand = 0): ByCapacity => ({ spot, onDemand });
const none: ByCapacity = { spot: 0, onDemand: 0 };

function counts(c: Partial<ReplicaCounts>): ReplicaCounts {
  return { ready: none, starting: none, pending: none, oldestPendingSpotSeconds: 0, ...c };
}

describe("scaling/spot: Spot / on-demand split", () => {
  const spotPool = (maxReplicas = 14) =>
    pool({ maxReplicas }, { spot: { enabled: true, onDemandBase: 2, fallbackAfter: "2m" } });
  const cases: {
    name: string;
    maxReplicas?: number;
    spot?: boolean;
    total: number;
    replicas: Partial<ReplicaCounts>;
    standIns?: number;
    want: ByCapacity;
    wantStandIns: number;
    note?: RegExp;
  }[] = [
    {
      name: "Spot disabled: everything on-demand",
      spot: false,
      total: 5,
      replicas: {},
      want: od(5),
      wantStandIns: 0,
    },
    {
      name: "the on-demand base first, the rest on Spot",
      total: 10,
      replicas: {},
      want: sp(8, 2),
      wantStandIns: 0,
    },
    {
      name: "fewer than the base: all on-demand",
      total: 1,
      replicas: {},
      want: sp(0, 1),
      wantStandIns: 0,
    },
    { name: "zero stays zero", total: 0, replicas: {}, want: sp(0, 0), wantStandIns: 0 },
    {
      name: "Spot pending, not yet past fallbackAfter: wait",
      total: 10,
      replicas: { ready: sp(5, 2), pending: sp(3), oldestPendingSpotSeconds: 100 },
      want: sp(8, 2),
      wantStandIns: 0,
    },
    {
      name: "Spot pending 150 s > 120 s: on-demand stand-ins, Spot kept requested",
      total: 10,
      replicas: { ready: sp(5, 2), pending: sp(3), oldestPendingSpotSeconds: 150 },
      want: sp(8, 5),
      wantStandIns: 3,
      note: /3 Spot replicas pending for 150 s > fallbackAfter 120 s: 3 on-demand stand-ins for Spot; Spot requests kept/,
    },
    {
      name: "two Spot replicas Ready: two stand-ins released",
      total: 10,
      standIns: 3,
      replicas: { ready: sp(7, 5), pending: sp(1), oldestPendingSpotSeconds: 170 },
      want: sp(8, 3),
      wantStandIns: 1,
    },
    {
      name: "a Spot replica merely starting does not release its stand-in yet",
      total: 10,
      standIns: 3,
      replicas: { ready: sp(5, 5), starting: sp(3) },
      want: sp(8, 5),
      wantStandIns: 3,
    },
    {
      name: "at maxReplicas the pending Spot requests that do not fit are dropped",
      maxReplicas: 10,
      total: 10,
      replicas: { ready: sp(5, 2), pending: sp(3), oldestPendingSpotSeconds: 150 },
      want: sp(5, 5),
      wantStandIns: 3,
      note: /3 pending Spot requests dropped to stay within maxReplicas 10/,
    },
    {
      name: "…and the stand-ins stay while no Spot replica is Ready in their place",
      maxReplicas: 10,
      total: 10,
      standIns: 3,
      replicas: { ready: sp(5, 5) },
      want: sp(5, 5),
      wantStandIns: 3,
    },
    {
      name: "scaling down removes stand-ins first",
      total: 6,
      standIns: 3,
      replicas: { ready: sp(4, 5) },
      want: sp(4, 2),
      wantStandIns: 0,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const p =
        c.spot === false ? pool({ maxReplicas: c.maxReplicas ?? 14 }) : spotPool(c.maxReplicas);
      const r = splitCapacity(c.total, p, counts(c.replicas), { standIns: c.standIns ?? 0 });
      expect(r.desired).to.deep.equal(c.want);
      expect(r.state.standIns).to.equal(c.wantStandIns);
      expect(r.desired.spot + r.desired.onDemand).to.be.at.most(p.spec.scaling.maxReplicas);
      if (c.note) expect(r.note).to.match(c.note);
    });
  }

  it("starts with no stand-ins", () => {
    expect(INITIAL_SPOT_STATE).to.deep.equal({ standIns: 0 });
  });
});
