import { expect } from "chai";
import {
  type Behavior,
  type BehaviorState,
  behaviorFromPolicy,
  HPA_DEFAULT_BEHAVIOR,
  INITIAL_BEHAVIOR_STATE,
  normalize,
  recordScaleEvent,
  seedRecommendation,
} from "../../controller/scaling/index.js";
import { pool } from "./support.js";

/** Runs recommendations through normalize + recordScaleEvent, returning each result. */
function run(
  behavior: Behavior,
  start: number,
  steps: readonly { t: number; desired: number; min?: number; max?: number }[],
  state: BehaviorState = INITIAL_BEHAVIOR_STATE,
): number[] {
  let current = start;
  let s = state;
  const out: number[] = [];
  for (const step of steps) {
    const r = normalize(s, behavior, {
      now: step.t,
      current,
      desired: step.desired,
      min: step.min ?? 1,
      max: step.max ?? 1000,
    });
    s = recordScaleEvent(r.state, behavior, step.t, current, r.replicas);
    current = r.replicas;
    out.push(current);
  }
  return out;
}

const slowDown: Behavior = {
  scaleUp: HPA_DEFAULT_BEHAVIOR.scaleUp,
  scaleDown: {
    stabilizationWindowSeconds: 0,
    maxPodsPerPeriod: 0,
    maxPercentPerPeriod: 25,
    periodSeconds: 60,
  },
};

describe("scaling/behavior: HPA stabilization and rate limits", () => {
  const cases: {
    name: string;
    behavior: Behavior;
    start: number;
    steps: { t: number; desired: number; min?: number; max?: number }[];
    want: number[];
  }[] = [
    {
      name: "default scale-up from 1: max(2×1, 1+4) = 5 per 15 s period, then doubling",
      behavior: HPA_DEFAULT_BEHAVIOR,
      start: 1,
      steps: [0, 15, 30, 45].map((t) => ({ t, desired: 40 })),
      want: [5, 10, 20, 40],
    },
    {
      name: "a second sync inside the same period counts against the period-start count",
      behavior: HPA_DEFAULT_BEHAVIOR,
      start: 1,
      steps: [
        { t: 0, desired: 40 },
        { t: 10, desired: 40 },
        { t: 15, desired: 40 },
      ],
      want: [5, 5, 10],
    },
    {
      name: "pods policy wins at small counts: from 2, +4 pods beats +100%",
      behavior: HPA_DEFAULT_BEHAVIOR,
      start: 2,
      steps: [{ t: 0, desired: 9 }],
      want: [6],
    },
    {
      name: "default scale-down waits 300 s taking the highest recommendation, then drops at once",
      behavior: HPA_DEFAULT_BEHAVIOR,
      start: 10,
      steps: [
        { t: 0, desired: 10 },
        { t: 15, desired: 2 },
        { t: 285, desired: 2 },
        { t: 300, desired: 2 },
      ],
      want: [10, 10, 10, 2],
    },
    {
      name: "scale-down window: a later higher recommendation holds the count",
      behavior: HPA_DEFAULT_BEHAVIOR,
      start: 10,
      steps: [
        { t: 0, desired: 10 },
        { t: 100, desired: 6 },
        { t: 300, desired: 3 },
        { t: 399, desired: 3 },
        { t: 400, desired: 3 },
      ],
      want: [10, 10, 6, 6, 3],
    },
    {
      name: "percent scale-down limit: 25% per 60 s from the period-start count",
      behavior: slowDown,
      start: 20,
      steps: [
        { t: 0, desired: 1 },
        { t: 30, desired: 1 },
        { t: 60, desired: 1 },
        { t: 120, desired: 1 },
      ],
      want: [15, 15, 11, 8],
    },
    {
      name: "maxReplicas caps a scale-up; minReplicas floors a scale-down",
      behavior: { ...HPA_DEFAULT_BEHAVIOR, scaleDown: slowDown.scaleDown },
      start: 4,
      steps: [
        { t: 0, desired: 50, max: 6 },
        { t: 60, desired: 0, min: 5 },
      ],
      want: [6, 5],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(run(c.behavior, c.start, c.steps)).to.deep.equal(c.want);
    });
  }

  it("a scale-up stabilization window takes the lowest recommendation, unless bypassed", () => {
    const b: Behavior = {
      ...HPA_DEFAULT_BEHAVIOR,
      scaleUp: { ...HPA_DEFAULT_BEHAVIOR.scaleUp, stabilizationWindowSeconds: 60 },
    };
    let s = normalize(INITIAL_BEHAVIOR_STATE, b, {
      now: 0,
      current: 2,
      desired: 2,
      min: 1,
      max: 10,
    });
    const held = normalize(s.state, b, { now: 15, current: 2, desired: 6, min: 1, max: 10 });
    expect(held.replicas).to.equal(2);
    expect(held.notes.join()).to.match(
      /scale-up stabilized at 2: the lowest recommendation of the last 60 s/,
    );
    s = normalize(s.state, b, {
      now: 15,
      current: 2,
      desired: 6,
      min: 1,
      max: 10,
      bypassScaleUpWindow: true,
    });
    expect(s.replicas).to.equal(6);
  });

  it("explains a rate limit with the numbers", () => {
    const r = normalize(INITIAL_BEHAVIOR_STATE, HPA_DEFAULT_BEHAVIOR, {
      now: 0,
      current: 1,
      desired: 40,
      min: 1,
      max: 100,
    });
    expect(r.notes).to.deep.equal([
      "scale-up limited to 5: the larger of +100% and +4 pods per 15 s from 1 at the period start",
    ]);
  });

  it("seeds the current count once, so a restarted controller does not scale down at once", () => {
    const seeded = seedRecommendation(INITIAL_BEHAVIOR_STATE, 0, 8);
    expect(seedRecommendation(seeded, 15, 3)).to.equal(seeded);
    const r = normalize(seeded, HPA_DEFAULT_BEHAVIOR, {
      now: 15,
      current: 8,
      desired: 2,
      min: 1,
      max: 10,
    });
    expect(r.replicas).to.equal(8);
  });

  it("prunes what it remembers to the windows and periods", () => {
    let s: BehaviorState = INITIAL_BEHAVIOR_STATE;
    let current = 1;
    for (let t = 0; t < 3600; t += 15) {
      const r = normalize(s, HPA_DEFAULT_BEHAVIOR, {
        now: t,
        current,
        desired: 1 + (t % 2),
        min: 1,
        max: 10,
      });
      s = recordScaleEvent(r.state, HPA_DEFAULT_BEHAVIOR, t, current, r.replicas);
      current = r.replicas;
    }
    expect(s.recommendations.length).to.be.at.most(21);
    expect(s.scaleUpEvents.length + s.scaleDownEvents.length).to.be.at.most(2);
  });

  it("reads a policy's behavior, durations in seconds", () => {
    const p = pool({
      scaleUp: { stabilizationWindow: "30s", maxPodsPerPeriod: 6, period: "1m" },
      scaleDown: { stabilizationWindow: "10m", maxPercentPerPeriod: 25, period: "2m" },
    });
    expect(behaviorFromPolicy(p)).to.deep.equal({
      scaleUp: {
        stabilizationWindowSeconds: 30,
        maxPodsPerPeriod: 6,
        maxPercentPerPeriod: 100,
        periodSeconds: 60,
      },
      scaleDown: {
        stabilizationWindowSeconds: 600,
        maxPodsPerPeriod: 0,
        maxPercentPerPeriod: 25,
        periodSeconds: 120,
      },
    });
    expect(behaviorFromPolicy(pool())).to.deep.equal(HPA_DEFAULT_BEHAVIOR);
  });
});
