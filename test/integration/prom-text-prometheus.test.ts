import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import type { Server } from "node:http";
import { join } from "node:path";
import { expect } from "chai";
import { type PromSample, parsePromSamples } from "../../controller/triton/prom-text.js";
import { mutate, rng, validText } from "../support/prom-text-fuzz.js";
import { type RunningPrometheus, serveTexts, startPrometheus } from "../support/real-prometheus.js";
import { referenceDir } from "../support/reference.js";
import { requireTool } from "../support/tools.js";
import { TritonStandin } from "../support/triton-standin.js";

/**
 * Our Prometheus text parser against the real one: Debian's `prometheus` scrapes every text
 * (one target each) and its HTTP API tells, per text, whether the scrape succeeded and what
 * it stored; our parser must accept exactly the texts Prometheus accepts and give the same
 * value for every series. Texts: Triton's reference sample (when ../shared is present), the
 * Triton stand-in's `/metrics`, seeded random valid texts and one-character mutations of
 * them. `promtool check metrics` (client_golang's stricter parser) is asked too, for the
 * Triton texts.
 */

/** Prometheus's value string as a number. */
function promValue(s: string): number {
  if (s === "NaN") return Number.NaN;
  if (s === "+Inf") return Infinity;
  if (s === "-Inf") return -Infinity;
  return Number(s);
}

/** A series key as Prometheus stores it: empty label values dropped, labels sorted. */
function seriesKey(name: string, labels: Readonly<Record<string, string>>): string {
  const pairs = Object.entries(labels)
    .filter(([, v]) => v !== "")
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${name}${JSON.stringify(pairs)}`;
}

const TARGET_LABELS = new Set(["__name__", "job", "instance", "case"]);

interface Case {
  readonly name: string;
  readonly text: string;
}

function cases(): Case[] {
  const out: Case[] = [];
  const sample = join(referenceDir, "triton", "metrics-sample.txt");
  if (existsSync(sample))
    out.push({ name: "triton-reference-sample", text: readFileSync(sample, "utf8") });
  else console.warn(`    note: ${sample} is absent: the Triton reference sample is not compared`);
  const standin = new TritonStandin({
    models: [{ name: "yolov8s" }, { name: "yolov8n", version: "3" }],
    gpus: 2,
  });
  standin.setArrivalRate("yolov8s", 420);
  standin.setArrivalRate("yolov8n", 90);
  standin.advance(37);
  standin.fail("yolov8s", "REJECTED", 7);
  out.push({ name: "triton-standin", text: standin.metricsText() });
  const r = rng(8);
  // Explicit timestamps within Prometheus's lookback, so that queries find them.
  const ts = Date.now() - 2000;
  for (let i = 0; i < 40; i++)
    out.push({ name: `valid-${i}`, text: validText(r, 12, i % 4 === 0 ? ts : undefined) });
  for (let i = 0; i < 40; i++) out.push({ name: `mutated-${i}`, text: mutate(r, validText(r, 8)) });
  return out;
}

describe("integration: our Prometheus text parser agrees with a real Prometheus", function () {
  this.timeout(120_000);
  let prom: RunningPrometheus | undefined;
  let server: Server | undefined;
  // Built when the suite starts, not when the file loads: the timestamped texts must be
  // within Prometheus's window when scraped, however long the tests before this one ran.
  let all: Case[] = [];

  before(async function () {
    requireTool(this, "Prometheus", "prometheus", "prometheus", ["--version"]);
    all = cases();
    const texts = new Map(all.map((c) => [`/case/${c.name}`, c.text]));
    const served = await serveTexts(texts);
    server = served.server;
    prom = await startPrometheus(
      all.map((c) => ({
        address: served.address,
        path: `/case/${c.name}`,
        labels: { case: c.name },
      })),
      "prom-text",
    );
  });

  after(async () => {
    await prom?.stop();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  it("every fuzz case is meaningful: most valid texts have samples, some mutations are refused", () => {
    const ours = all.map((c) => parsePromSamples(c.text));
    const refused = ours.filter((o, i) => all[i]!.name.startsWith("mutated") && o.problem).length;
    const accepted = ours.filter(
      (o, i) => all[i]!.name.startsWith("valid") && !o.problem && o.samples.length > 0,
    ).length;
    expect(refused, "mutations our parser refuses").to.be.within(10, 39);
    expect(accepted, "valid texts with samples").to.equal(40);
  });

  it("accepts exactly the texts Prometheus accepts, with the same value for every series", async () => {
    const p = prom!;
    await p.eventually("every text scraped and compared", 60, async () => {
      const targets = await p.targets();
      const byCase = new Map(targets.map((t) => [t.labels.case ?? "", t]));
      const problems: string[] = [];
      for (const c of all) {
        const t = byCase.get(c.name);
        if (!t || t.health === "unknown") {
          problems.push(`${c.name}: not scraped yet`);
          continue;
        }
        // As the scrape source sees it: the served bytes decoded (a mutation may have cut a
        // surrogate pair, which goes out as U+FFFD).
        const ours = parsePromSamples(Buffer.from(c.text, "utf8").toString("utf8"), c.name);
        const text = JSON.stringify(c.text.length > 300 ? `${c.text.slice(0, 300)}…` : c.text);
        if (ours.problem) {
          if (t.health === "up")
            problems.push(
              `${c.name}: we refuse (${ours.problem.line}:${ours.problem.col} ${ours.problem.message}), Prometheus accepts: ${text}`,
            );
          continue;
        }
        if (t.health !== "up") {
          problems.push(`${c.name}: we accept, Prometheus refuses (${t.lastError}): ${text}`);
          continue;
        }
        const theirs = new Map<string, number>();
        for (const s of await p.query(`{case=${JSON.stringify(c.name)}}`)) {
          const name = s.metric.__name__ ?? "";
          if (name === "up" || name.startsWith("scrape_")) continue;
          const labels = Object.fromEntries(
            Object.entries(s.metric).filter(([k]) => !TARGET_LABELS.has(k)),
          );
          theirs.set(seriesKey(name, labels), promValue(s.value));
        }
        // A sample whose timestamp is far from now (a mutation can make a number of a
        // value and a timestamp) is dropped by the TSDB as out of bounds, not by the parser.
        const inBounds = (s: PromSample) =>
          s.timestampMs === undefined || Math.abs(s.timestampMs - Date.now()) < 10 * 60_000;
        for (const s of ours.samples.filter((x) => !inBounds(x))) {
          if (theirs.has(seriesKey(s.name, s.labels)))
            problems.push(
              `${c.name}: Prometheus stored ${s.name} at ${s.timestampMs}, out of its bounds`,
            );
        }
        const mine = new Map(
          ours.samples
            .filter(inBounds)
            .map((s: PromSample) => [seriesKey(s.name, s.labels), s.value]),
        );
        for (const [k, v] of mine) {
          if (!theirs.has(k))
            problems.push(`${c.name}: ${k} = ${v}: Prometheus has no such series`);
          else if (!Object.is(theirs.get(k), v) && theirs.get(k) !== v)
            problems.push(`${c.name}: ${k}: ours ${v}, Prometheus ${theirs.get(k)}`);
        }
        for (const k of theirs.keys())
          if (!mine.has(k)) problems.push(`${c.name}: Prometheus has ${k}, we do not`);
      }
      return problems;
    });
  });

  it("promtool check metrics parses the Triton texts (its lint findings about Triton's names aside)", function () {
    requireTool(this, "promtool", "prometheus", "promtool", ["--version"]);
    for (const c of all.filter((x) => x.name.startsWith("triton-"))) {
      const r = spawnSync("promtool", ["check", "metrics"], { input: c.text, encoding: "utf8" });
      // Exit 1 is a parse error; 3 means parsed with lint findings (no _total suffix, ...).
      expect(r.status, `${c.name}: ${r.stderr}`).to.not.equal(1);
      expect(r.stderr).to.not.contain("parsing error");
      expect(parsePromSamples(c.text).problem).to.equal(undefined);
    }
  });
});
