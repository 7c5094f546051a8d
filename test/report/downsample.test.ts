import { expect } from "chai";
import {
  bucketWidthFor,
  DEFAULT_MAX_POINTS,
  downsampleMinMax,
  MinMaxSeries,
  type Point,
} from "../../controller/report/downsample.js";

/** A week of one-minute points: a gentle daily wave with one spike and one dip. */
function week(spikeAt: number, dipAt: number): Point[] {
  const out: Point[] = [];
  for (let i = 1; i <= 7 * 24 * 60; i++) {
    const t = i * 60;
    let y = 100 + 50 * Math.sin((2 * Math.PI * t) / 86_400);
    if (i === spikeAt) y = 30_000;
    if (i === dipAt) y = 1;
    out.push([t, y]);
  }
  return out;
}

describe("report/downsample: min and max per bucket", () => {
  const cases: {
    name: string;
    points: Point[];
    max: number;
    expectLength?: number;
    keeps: Point[];
  }[] = [
    {
      name: "fewer points than the most allowed: every point, unchanged",
      points: [
        [0, 1],
        [60, 5],
        [120, null],
        [180, 2],
      ],
      max: 10,
      expectLength: 4,
      keeps: [[120, null]],
    },
    {
      name: "a week of minutes: at most 2,000 points, the one-minute spike and dip kept",
      points: week(5000, 9000),
      max: DEFAULT_MAX_POINTS,
      keeps: [
        [5000 * 60, 30_000],
        [9000 * 60, 1],
      ],
    },
    {
      name: "a spike in the last minute is kept (the last bucket takes x = to)",
      points: week(7 * 24 * 60, 1),
      max: 100,
      keeps: [[7 * 24 * 60 * 60, 30_000]],
    },
    {
      name: "a bucket of gaps keeps one gap; a bucket with values drops its gaps",
      points: [
        [0, 3],
        [1, null],
        [2, 5],
        [3, null],
        [4, null],
        [5, null],
        [6, 4],
        [7, 4],
      ],
      max: 6,
      expectLength: 4,
      keeps: [
        [0, 3],
        [2, 5],
        [3, null],
        [6, 4],
      ],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const out = downsampleMinMax(c.points, c.max);
      expect(out.length).to.be.at.most(c.max);
      if (c.expectLength !== undefined) expect(out).to.have.lengthOf(c.expectLength);
      for (const k of c.keeps) expect(out).to.deep.include(k);
      for (let i = 1; i < out.length; i++) expect(out[i]![0]).to.be.at.least(out[i - 1]![0]);
      const values = (ps: Point[]) => ps.flatMap(([, y]) => (y === null ? [] : [y]));
      expect(Math.max(...values(out))).to.equal(Math.max(...values(c.points)));
      expect(Math.min(...values(out))).to.equal(Math.min(...values(c.points)));
    });
  }

  it("keeps each bucket's min and max in the order they came", () => {
    // One bucket of 4 points: max first, then min.
    const s = new MinMaxSeries(0, 10);
    for (const [x, y] of [
      [1, 5],
      [2, 9],
      [3, 0],
      [4, 4],
    ] as const)
      s.push(x, y);
    expect(s.points()).to.deep.equal([
      [2, 9],
      [3, 0],
    ]);
    expect(s.pushed).to.equal(4);
  });

  it("refuses a bucket width or a point budget that cannot work", () => {
    expect(() => new MinMaxSeries(0, 0)).to.throw(/bucket width must be > 0. Received: 0/);
    expect(() => bucketWidthFor(0, 10, 100, 1)).to.throw(/maxPoints must be ≥ 2. Received: 1/);
    expect(bucketWidthFor(0, 10, 5, 10)).to.equal(Number.POSITIVE_INFINITY);
  });
});
