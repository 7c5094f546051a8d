import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { expect } from "chai";
import { formatClock, parseDemoDuration, runDemo } from "../../controller/cli/demo.js";
import { ExitCode } from "../../controller/cli/io.js";
import { runCaptured } from "../support/io.js";
import { KedaStandin } from "../support/keda-standin.js";
import { projectRoot, referenceDir, requireReference } from "../support/reference.js";

/**
 * `tritonscale demo`: its command line in-process, and the real command as a process over
 * real loopback sockets: /metrics, /status and the KEDA external scaler (asked by the KEDA
 * stand-in) while it runs; `--duration` ending it with exit 0 and SIGINT stopping it cleanly.
 */

const MAIN = join(projectRoot, "dist", "controller", "cli", "main.js");

describe("demo: command line", () => {
  const bad: readonly { name: string; argv: string[]; message: RegExp }[] = [
    { name: "an unknown option", argv: ["--bogus"], message: /Unknown option '--bogus'/ },
    { name: "a positional argument", argv: ["pool.yaml"], message: /pool\.yaml/ },
    { name: "speed 0", argv: ["--speed", "0"], message: /--speed must be > 0/ },
    { name: "speed not a number", argv: ["--speed", "fast"], message: /--speed .*fast/ },
    { name: "speed above 3600", argv: ["--speed", "5000"], message: /--speed .*3600/ },
    { name: "a duration with no unit it knows", argv: ["--duration", "5x"], message: /--duration/ },
    { name: "a zero duration", argv: ["--duration", "0s"], message: /--duration .*> 0/ },
    { name: "a port above 65535", argv: ["--metrics-port", "70000"], message: /--metrics-port/ },
    { name: "a negative port", argv: ["--grpc-port", "-1"], message: /--grpc-port/ },
    { name: "a fractional seed", argv: ["--seed", "1.5"], message: /--seed/ },
    {
      name: "pool and trace both from standard input",
      argv: ["--pool", "-", "--trace", "-"],
      message: /cannot both read standard input/,
    },
  ];
  for (const row of bad) {
    it(`exits 2 with one line for ${row.name}`, async () => {
      const r = await runCaptured(runDemo, row.argv);
      expect(r.code).to.equal(ExitCode.Usage);
      expect(r.out).to.equal("");
      expect(r.err.trimEnd().split("\n")).to.have.length(1);
      expect(r.err).to.match(row.message);
      expect(r.err).to.match(/^tritonscale demo: /);
    });
  }

  const problems: readonly { name: string; argv: string[]; message: RegExp }[] = [
    {
      name: "a pool file that does not exist",
      argv: ["--pool", "no/such/pool.yaml"],
      message: /no\/such\/pool\.yaml/,
    },
    {
      name: "a synthetic trace it cannot read",
      argv: ["--trace", "synthetic:poisson:rate=-1"],
      message: /rate/,
    },
  ];
  for (const row of problems) {
    it(`exits 1 for ${row.name}, serving nothing`, async () => {
      const r = await runCaptured(runDemo, row.argv);
      expect(r.code).to.equal(ExitCode.Problems);
      expect(r.out).to.equal("");
      expect(r.err).to.match(row.message);
    });
  }

  it("exits 1 for a taken port, naming the options", async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, "127.0.0.1", () => r()));
    const port = String((taken.address() as { port: number }).port);
    try {
      const r = await runCaptured(runDemo, ["--metrics-port", port, "--duration", "1m"]);
      expect(r.code).to.equal(ExitCode.Problems);
      expect(r.err).to.match(
        /cannot serve: .*EADDRINUSE.*--metrics-port, --health-port or --grpc-port is taken/,
      );
    } finally {
      taken.close();
    }
  });

  it("--help says the duration is simulated time", async () => {
    const r = await runCaptured(runDemo, ["--help"]);
    expect(r.code).to.equal(0);
    expect(r.out).to.match(/--duration <d>\s+stop after this much SIMULATED time/);
  });

  const durations = [
    { name: "minutes", text: "10m", expected: 600 },
    { name: "hours and minutes", text: "1h30m", expected: 5400 },
    { name: "plain seconds", text: "90", expected: 90 },
  ];
  for (const d of durations) {
    it(`reads a duration in ${d.name}`, () => {
      expect(parseDemoDuration(d.text)).to.equal(d.expected);
    });
  }

  it("prints simulated time as [Nd]HH:MM:SS", () => {
    expect(formatClock(0)).to.equal("00:00:00");
    expect(formatClock(3725.9)).to.equal("01:02:05");
    expect(formatClock(90_061)).to.equal("1d01:01:01");
  });
});

/** A `tritonscale demo` process and what it printed so far. */
interface Demo {
  readonly child: ChildProcess;
  out(): string;
  err(): string;
  /** Resolves with the first match of `re` in stdout (rejects after 30 s or at exit). */
  waitFor(re: RegExp): Promise<RegExpMatchArray>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startDemo(args: string[]): Demo {
  const child = spawn(process.execPath, [MAIN, "demo", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  const waiters = new Set<() => void>();
  child.stdout!.on("data", (b: Buffer) => {
    out += b.toString();
    for (const w of [...waiters]) w();
  });
  child.stderr!.on("data", (b: Buffer) => {
    err += b.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    // "close", not "exit": the exit can come before the last of stdout is read.
    child.on("close", (code, signal) => resolve({ code, signal })),
  );
  let done = false;
  void exited.then(() => {
    done = true;
    for (const w of [...waiters]) w();
  });
  return {
    child,
    out: () => out,
    err: () => err,
    exited,
    waitFor: (re) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no ${re} in the demo's output after 30 s:\n${out}\n${err}`));
        }, 30_000);
        function check(): void {
          const m = out.match(re);
          if (m || done) {
            clearTimeout(timer);
            waiters.delete(check);
            if (m) resolve(m);
            else reject(new Error(`the demo exited without ${re}:\n${out}\n${err}`));
          }
        }
        waiters.add(check);
        check();
      }),
  };
}

async function get(url: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url);
  return { status: res.status, text: await res.text() };
}

/** Polls /readyz until the pool has decided once (bounded). */
async function untilReady(base: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if ((await get(`${base}/readyz`)).status === 200) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("the demo never became ready");
}

describe("demo: the controller over loopback on a simulated pool", function () {
  this.timeout(60_000);
  let demo: Demo | undefined;
  afterEach(async () => {
    if (demo && demo.child.exitCode === null && demo.child.signalCode === null) {
      demo.child.kill("SIGKILL");
      await demo.exited;
    }
    demo = undefined;
  });

  it("serves /metrics and answers KEDA with the current decision, then exits 0 at --duration", async function () {
    requireReference(this, "keda");
    demo = startDemo(["--duration", "1h", "--speed", "1200"]);
    const metricsUrl = (await demo.waitFor(/metrics:\s+(http:\/\/127\.0\.0\.1:\d+)\/metrics/))[1]!;
    const healthUrl = (await demo.waitFor(/health:\s+(http:\/\/127\.0\.0\.1:\d+)\/healthz/))[1]!;
    const grpc = await demo.waitFor(
      /KEDA external scaler \(gRPC\): (127\.0\.0\.1:\d+), ScaledObjects (\S+)/,
    );
    const [namespace, name] = grpc[2]!.replace(/,$/, "").split("/") as [string, string];
    await untilReady(healthUrl);

    const keda = new KedaStandin(referenceDir, grpc[1]!);
    try {
      // The decision may move between the two reads: retry until they agree (bounded).
      let agreed = false;
      for (let i = 0; i < 5 && !agreed; i++) {
        const poll = await keda.poll({ namespace, name });
        const status = JSON.parse((await get(`${healthUrl}/status`)).text) as {
          pools: { desired: { spot: number; onDemand: number } }[];
        };
        const desired = status.pools[0]!.desired;
        expect(poll.metricName).to.equal("tritonscale-desired-replicas");
        agreed = poll.value === desired.spot + desired.onDemand && poll.active === poll.value > 0;
      }
      expect(agreed, "KEDA's GetMetrics answers the decision /status shows").to.equal(true);
    } finally {
      keda.close();
    }

    const metrics = await get(`${metricsUrl}/metrics`);
    expect(metrics.status).to.equal(200);
    expect(metrics.text).to.match(
      /^tritonscale_desired_replicas\{namespace="vision",pool="yolo-detect",capacity_type="on-demand"\} [1-9]/im,
    );
    expect(metrics.text).to.match(
      /^tritonscale_keda_requests_total\{method="GetMetrics",code="OK"\} [1-9]/m,
    );
    expect(metrics.text).to.match(/^tritonscale_leader 1$/m);

    const exit = await demo.exited;
    expect(exit).to.deep.equal({ code: 0, signal: null });
    expect(demo.out()).to.match(
      /^\+\d\d:\d\d:\d\d {2}desired spot \d+ on-demand \d+ {2}cluster spot \d+ on-demand \d+ {2}ready\/starting \d+\/\d+ /m,
    );
    expect(demo.out()).to.match(
      /Summary: 01:00:00 of simulated time .* on pool vision\/yolo-detect: /,
    );
    expect(demo.err()).to.equal("");
  });

  it("stops cleanly on SIGINT: exit 0, a summary, ports closed", async () => {
    demo = startDemo(["--speed", "600"]);
    const metricsUrl = (await demo.waitFor(/metrics:\s+(http:\/\/127\.0\.0\.1:\d+)\/metrics/))[1]!;
    await demo.waitFor(/^\+\d\d:\d\d:\d\d {2}desired .*: arrivals/m);
    const metrics = await get(`${metricsUrl}/metrics`);
    expect(metrics.text).to.match(/^tritonscale_arrival_rate_requests_per_second\{/m);
    demo.child.kill("SIGINT");
    const exit = await demo.exited;
    expect(exit).to.deep.equal({ code: 0, signal: null });
    expect(demo.out()).to.match(
      /\nSummary: \d\d:\d\d:\d\d of simulated time in [\d.]+ s of wall time \(600×\)/,
    );
    expect(demo.err()).to.equal("");
    let refused = false;
    await fetch(`${metricsUrl}/metrics`).catch(() => {
      refused = true;
    });
    expect(refused, "the metrics port is closed").to.equal(true);
  });
});
