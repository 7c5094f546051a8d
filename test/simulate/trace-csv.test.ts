import { expect } from "chai";
import { InputError } from "../../controller/diagnostics/problem.js";
import { splitCsvLine } from "../../controller/simulate/csv.js";
import { parseTraceCsv } from "../../controller/simulate/trace-csv.js";
import { drain } from "./drain.js";

function times(text: string, seed = 0): number[] {
  return [...drain(parseTraceCsv(text, "trace.csv", seed))];
}

function closeAll(actual: readonly number[], expected: readonly number[]): void {
  expect(actual).to.have.length(expected.length);
  actual.forEach((t, i) => {
    expect(t, `arrival ${i}`).to.be.closeTo(expected[i]!, 1e-9);
  });
}

describe("parseTraceCsv: one request per row", () => {
  const cases: { name: string; text: string; expected: number[] }[] = [
    {
      name: "numeric seconds, no header",
      text: "10.5\n11\n12.25\n",
      expected: [0, 0.5, 1.75],
    },
    {
      name: "numeric seconds with a header",
      text: "timestamp\n100\n100.125\n101\n",
      expected: [0, 0.125, 1],
    },
    {
      name: "ISO-8601 with Z and fractional seconds",
      text: "2024-05-01T12:00:00.250Z\n2024-05-01T12:00:01Z\n2024-05-01T12:00:01.500000Z\n",
      expected: [0, 0.75, 1.25],
    },
    {
      name: "ISO-8601 with UTC offsets",
      text: "2024-05-01T12:00:00Z\n2024-05-01T14:00:02+02:00\n2024-05-01T06:30:03-0530\n",
      expected: [0, 2, 3],
    },
    {
      name: "ISO-8601 without a zone (read as UTC), space separator, quoted comma decimal",
      text: '2024-05-01 23:59:59.5\n"2024-05-02T00:00:00,75"\n',
      expected: [0, 1.25],
    },
    {
      name: "ISO-8601 across a leap day",
      text: "2024-02-28T23:59:59Z\n2024-02-29T23:59:59Z\n2024-03-01T00:00:00.5Z\n",
      expected: [0, 86_400, 86_401.5],
    },
    {
      name: "microseconds on epoch seconds keep their precision",
      text: "1714564800.000001\n1714564800.000003\n",
      expected: [0, 0.000002],
    },
    {
      name: "extra columns; the time column picked by its header",
      text: "id,method,ts,latency_ms\n1,GET,5,3.2\n2,POST,6.5,1\n",
      expected: [0, 1.5],
    },
    {
      name: "header names are case-insensitive and may carry a unit",
      text: "Request,Time (s)\na,3\nb,4\n",
      expected: [0, 1],
    },
    {
      name: "a header without a known name uses the first column",
      text: "when,who\n7,x\n9,y\n",
      expected: [0, 2],
    },
    {
      name: "extra columns without a header; quoted fields with commas",
      text: '2.5,"GET /infer, v2",200\n3.5,"POST ""x""",500\n',
      expected: [0, 1],
    },
    {
      name: "unsorted rows are sorted",
      text: "3\n1.5\n2\n1\n",
      expected: [0, 0.5, 1, 2],
    },
    {
      name: "CRLF, a byte-order mark, blank and comment lines",
      text: "\uFEFF# exported from the gateway\r\ntime\r\n\r\n1.25\r\n# gap\r\n2.5\r\n",
      expected: [0, 1.25],
    },
  ];
  for (const c of cases) {
    it(`reads ${c.name}`, () => {
      closeAll(times(c.text), c.expected);
    });
  }

  it("sets the duration to the last time plus the mean gap", () => {
    const src = parseTraceCsv("0\n1\n2\n4\n", "t.csv");
    expect(src.durationSeconds).to.be.closeTo(4 + 4 / 3, 1e-12);
    expect(parseTraceCsv("5\n", "t.csv").durationSeconds).to.equal(1);
  });

  it("spreads repeated whole-second timestamps over their second, reproducibly", () => {
    const text =
      "2024-05-01T12:00:00Z\n2024-05-01T12:00:00Z\n2024-05-01T12:00:00Z\n2024-05-01T12:00:01Z\n2024-05-01T12:00:03Z\n";
    const a = times(text, 4);
    expect(a).to.have.length(5);
    expect(a.slice(0, 3).every((t) => t >= 0 && t < 1)).to.equal(true);
    expect(a[3]).to.be.within(1, 2);
    expect(a[4]).to.be.within(3, 4);
    expect(new Set(a).size).to.equal(5);
    expect(times(text, 4)).to.deep.equal(a);
    expect(times(text, 5)).not.to.deep.equal(a);
    expect(parseTraceCsv(text, "t.csv").durationSeconds).to.equal(4);
  });

  it("keeps whole seconds as they are when none repeats", () => {
    closeAll(times("0\n1\n2\n"), [0, 1, 2]);
  });

  it("counts exactly in rateBetween and peakRate", () => {
    const src = parseTraceCsv("0\n0.1\n0.2\n0.3\n5\n9\n", "t.csv");
    expect(src.rateBetween(0, 1)).to.equal(4);
    expect(src.rateBetween(0.25, 9.5)).to.be.closeTo(3 / 9.25, 1e-12);
    expect(src.peakRate(1)).to.equal(4);
    expect(src.peakRate(0.15)).to.be.closeTo(2 / 0.15, 1e-9);
  });

  it("fills in chunks and resets", () => {
    const text = Array.from({ length: 1000 }, (_, i) => String(i * 0.01)).join("\n");
    const src = parseTraceCsv(text, "t.csv");
    const whole = drain(src);
    src.reset();
    expect(drain(src, { size: 3, step: 0.7 })).to.deep.equal(whole);
    expect(whole).to.have.length(1000);
  });
});

describe("parseTraceCsv: per-interval counts", () => {
  it("expands counts into exactly that many arrivals inside each interval", () => {
    const src = parseTraceCsv("time,count\n0,5\n60,0\n120,7\n", "c.csv", 3);
    const t = [...drain(src)];
    expect(t).to.have.length(12);
    expect(t.slice(0, 5).every((x) => x >= 0 && x < 60)).to.equal(true);
    expect(t.slice(5).every((x) => x >= 120 && x < 180)).to.equal(true);
    expect(src.durationSeconds).to.equal(180);
    expect(src.rateBetween(0, 60)).to.be.closeTo(5 / 60, 1e-12);
    expect(src.rateBetween(60, 120)).to.equal(0);
    expect(src.peakRate(60)).to.be.closeTo(7 / 60, 1e-12);
  });

  it("spreads a large count like a Poisson process (uniform within the interval)", () => {
    const t = [...drain(parseTraceCsv("time,requests\n0,100000\n10,0\n", "c.csv", 1))];
    expect(t).to.have.length(100_000);
    const bins = new Array<number>(10).fill(0);
    for (const x of t) bins[Math.floor(x)]!++;
    for (const b of bins) expect(b).to.be.closeTo(10_000, 500);
  });

  it("infers the interval from the most common gap; missing rows mean no requests", () => {
    const src = parseTraceCsv("time,count\n0,10\n60,10\n180,10\n240,10\n", "c.csv");
    expect(src.durationSeconds).to.equal(300);
    expect(src.rateBetween(120, 180)).to.equal(0);
    const t = [...drain(src)];
    expect(t).to.have.length(40);
    expect(t.filter((x) => x >= 120 && x < 180)).to.have.length(0);
  });

  it("reads ISO times, adds rows with the same time, sorts rows", () => {
    const text = [
      "timestamp,model,count",
      "2024-05-01T00:02:00Z,yolo,3",
      "2024-05-01T00:00:00Z,yolo,1",
      "2024-05-01T00:01:00Z,yolo,2",
      "2024-05-01T00:00:00Z,rtdetr,4",
    ].join("\n");
    const src = parseTraceCsv(text, "c.csv");
    expect(src.durationSeconds).to.equal(180);
    expect(src.rateBetween(0, 60) * 60).to.be.closeTo(5, 1e-9);
    expect(drain(src)).to.have.length(10);
  });

  it("reads a rate column as a Poisson process at that rate", () => {
    const src = parseTraceCsv("time,rps\n0,100\n10,0\n20,300\n", "r.csv", 2);
    expect(src.rateBetween(20, 30)).to.equal(300);
    const t = [...drain(src)];
    const first = t.filter((x) => x < 10).length;
    expect(first).to.be.closeTo(1000, 5 * Math.sqrt(1000));
    expect(t.filter((x) => x >= 10 && x < 20)).to.have.length(0);
    expect(t.length - first).to.be.closeTo(3000, 5 * Math.sqrt(3000));
  });

  it("is reproducible for a seed", () => {
    const text = "time,count\n0,50\n1,50\n";
    expect(times(text, 9)).to.deep.equal(times(text, 9));
    expect(times(text, 9)).not.to.deep.equal(times(text, 10));
  });
});

describe("parseTraceCsv errors", () => {
  const cases: { name: string; text: string; messages: string[] }[] = [
    {
      name: "a bad timestamp, with line and column",
      text: "id,timestamp\n1,2024-05-01T00:00:00Z\n2,yesterday\n",
      messages: [
        'trace.csv:3:3: timestamp "yesterday" is neither ISO-8601 (e.g. 2024-05-01T12:00:00.250Z) nor a number of seconds',
      ],
    },
    {
      name: "an impossible date",
      text: "2024-02-30T00:00:00Z\n",
      messages: ['trace.csv:1:1: timestamp "2024-02-30T00:00:00Z" is not a valid date and time'],
    },
    {
      name: "an impossible time",
      text: "time\n2024-02-01T24:00:00Z\n",
      messages: ["trace.csv:2:1: timestamp", "is not a valid date and time"],
    },
    {
      name: "mixed kinds of timestamp",
      text: "1.5\n2024-05-01T00:00:00Z\n",
      messages: ["trace.csv:2:1:", "is ISO-8601 but line 1 is a number of seconds"],
    },
    {
      name: "a missing timestamp",
      text: "id,time\n1,\n",
      messages: ["trace.csv:2:3: missing timestamp in column 2"],
    },
    {
      name: "a bad count",
      text: "time,count\n0,5\n60,-1\n120,2.5\n",
      messages: [
        "trace.csv:3:4: count must be a whole number from 0 to 1000000000 (got -1)",
        "trace.csv:4:5: count must be a whole number from 0 to 1000000000 (got 2.5)",
      ],
    },
    {
      name: "a single interval",
      text: "time,count\n0,5\n",
      messages: ["per-interval counts need at least two different times"],
    },
    {
      name: "no requests at all",
      text: "time,count\n0,0\n60,0\n",
      messages: ["the trace has no requests"],
    },
    // Regressions (issue 7): non-finite, negative and unbounded values are problems.
    {
      name: "an infinite time after a count row (simulate hung for ever)",
      text: "time,count\n0,100\n1e309,1\n",
      messages: ["trace.csv:3:1: timestamp in seconds must be a finite number >= 0 (got 1e309)"],
    },
    {
      name: "a single infinite time without a header (NaN GPU-hours)",
      text: "1e309,1\n",
      messages: ["trace.csv:1:1: timestamp in seconds must be a finite number >= 0 (got 1e309)"],
    },
    {
      name: "a negative timestamp",
      text: "time\n5\n-3\n",
      messages: ["trace.csv:3:1: timestamp in seconds must be >= 0 (got -3)"],
    },
    {
      name: "a negative time in a count trace",
      text: "time,count\n0,1\n-60,1\n",
      messages: ["trace.csv:3:1: timestamp in seconds must be >= 0 (got -60)"],
    },
    {
      name: "an infinite count",
      text: "time,count\n0,1e309\n60,1\n",
      messages: ["trace.csv:2:3: count must be a whole number from 0 to 1000000000 (got 1e309)"],
    },
    {
      name: "a hexadecimal count",
      text: "time,count\n0,0x10\n60,1\n",
      messages: ['trace.csv:2:3: count must be a whole number from 0 to 1000000000 (got "0x10")'],
    },
    {
      name: "a count over 10^9 in one row",
      text: "time,count\n0,2000000000\n60,1\n",
      messages: ["trace.csv:2:3: count must be a whole number from 0 to 1000000000"],
    },
    {
      name: "counts adding up to more than 10^9",
      text: "time,count\n0,600000000\n60,600000000\n",
      messages: ["the counts add up to 1200000000 requests; at most 1000000000"],
    },
    {
      name: "rates giving more than 10^9 requests",
      text: "time,rps\n0,100000000\n60,100000000\n",
      messages: ["the rates give about 1.20e+10 requests"],
    },
    {
      name: "an infinite rate",
      text: "time,rate\n0,1e400\n60,1\n",
      messages: ["trace.csv:2:3: rate (per second) must be a finite number from 0 to 1000000000"],
    },
    {
      name: "a count trace spanning more than 31 days (simulate hung for ever)",
      text: "time,count\n0,100\n1e15,1\n",
      messages: [
        "trace.csv:3:1: this time is 1000000000000000 s from line 2's; a trace may span at most 2678400 s (31 days)",
      ],
    },
    {
      name: "timestamps spanning more than 31 days, out of order",
      text: "time\n2678401\n5\n0\n",
      messages: ["trace.csv:4:1: this time is 2678401 s from line 2's"],
    },
    {
      name: "ISO timestamps spanning more than 31 days",
      text: "time\n2024-01-01T00:00:00Z\n2024-03-01T00:00:00Z\n",
      messages: ["trace.csv:3:1: this time is 5184000 s from line 2's"],
    },
    { name: "an empty file", text: "", messages: ["the trace has no rows"] },
    {
      name: "only a header",
      text: "timestamp\n",
      messages: ["trace.csv:1:1: the trace has no rows"],
    },
  ];
  for (const c of cases) {
    it(`rejects ${c.name}`, () => {
      expect(() => parseTraceCsv(c.text, "trace.csv"))
        .to.throw(InputError)
        .with.property("message")
        .that.satisfies((m: string) => c.messages.every((x) => m.includes(x)));
    });
  }

  it("reports every bad row, up to 50, and how many more", () => {
    const text = Array.from({ length: 60 }, () => "nope").join("\n");
    try {
      parseTraceCsv(`time\n${text}`, "trace.csv");
      expect.fail("no error");
    } catch (e) {
      expect(e).to.be.instanceOf(InputError);
      const problems = (e as InputError).problems;
      expect(problems).to.have.length(51);
      expect(problems.map((p) => p.message)).to.include("and 10 more problems");
    }
  });
});

describe("splitCsvLine", () => {
  const cases: { name: string; line: string; fields: string[]; cols: number[] }[] = [
    { name: "plain", line: "a,bb,,c", fields: ["a", "bb", "", "c"], cols: [1, 3, 6, 7] },
    { name: "quoted comma", line: '1,"x,y",2', fields: ["1", "x,y", "2"], cols: [1, 3, 9] },
    { name: "doubled quote", line: '"say ""hi""",z', fields: ['say "hi"', "z"], cols: [1, 14] },
    { name: "unterminated quote", line: '"abc', fields: ["abc"], cols: [1] },
  ];
  for (const c of cases) {
    it(`splits ${c.name}`, () => {
      expect(splitCsvLine(c.line)).to.deep.equal({ fields: c.fields, cols: c.cols });
    });
  }
});
