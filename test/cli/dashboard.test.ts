import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { runDashboard } from "../../controller/cli/dashboard.js";
import { loadModelPool } from "../../controller/policy/index.js";
import { buildPoolDashboard, formatDashboard } from "../../controller/report/dashboard.js";
import { runCaptured } from "../support/io.js";
import { freePort } from "../support/real-prometheus.js";
import { projectRoot } from "../support/reference.js";

/** `tritonscale dashboard`: files written, stdout, bad input and bad command lines. */

const EXAMPLES = ["yolov8-pool.yaml", "yolo-fleet-spot.yaml"].map((f) =>
  join(projectRoot, "examples", f),
);
const MAIN = join(projectRoot, "dist", "controller", "cli", "main.js");

describe("tritonscale dashboard", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "tritonscale-dashboard-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("--out: one file per pool (named by uid) and the fleet overview; a second run changes nothing", async () => {
    const out = join(dir, "dashboards");
    const first = await runCaptured(runDashboard, [...EXAMPLES, "--out", out]);
    expect(first.code, first.err).to.equal(0);
    expect(readdirSync(out).sort()).to.deep.equal([
      "tritonscale-fleet.json",
      "vision_yolo-detect.json",
      "vision_yolo-fleet.json",
    ]);
    const pool = loadModelPool(readFileSync(EXAMPLES[0]!, "utf8"), "p.yaml");
    expect(readFileSync(join(out, "vision_yolo-detect.json"), "utf8")).to.equal(
      formatDashboard(buildPoolDashboard(pool)),
    );
    expect(first.out).to.match(
      /vision_yolo-detect\.json: wrote "tritonscale \/ vision\/yolo-detect" \(\d+ panels\)/,
    );
    const again = await runCaptured(runDashboard, [...EXAMPLES, "--out", out]);
    expect(again.code).to.equal(0);
    expect(again.out.match(/: unchanged/g)?.length).to.equal(3);
  });

  it("without --out: the one pool's dashboard JSON on stdout", async () => {
    const r = await runCaptured(runDashboard, [EXAMPLES[0]!]);
    expect(r.code, r.err).to.equal(0);
    expect((JSON.parse(r.out) as { uid: string }).uid).to.equal("vision_yolo-detect");
  });

  const bad = [
    {
      name: "an invalid pool: its problems, exit 1, nothing written",
      files: () => [EXAMPLES[0]!, writePool(dir, "bad.yaml", "kind: ModelPool\n")],
      code: 1,
      err: /bad\.yaml:\d+:\d+: .*\n.*nothing written/s,
    },
    {
      name: "the same pool twice: exit 1 naming both files, nothing written",
      files: () => [EXAMPLES[0]!, writePool(dir, "copy.yaml", readFileSync(EXAMPLES[0]!, "utf8"))],
      code: 1,
      err: /copy\.yaml:\d+:\d+: metadata\.name: pool vision\/yolo-detect is also defined in .*yolov8-pool\.yaml/,
    },
    {
      name: "an --out that is a file: exit 1, cannot write",
      files: () => [EXAMPLES[0]!],
      out: () => writePool(dir, "a-file", "x"),
      code: 1,
      err: /a-file: cannot write: is a file, not a directory/,
    },
    {
      name: "a dashboard's file is a folder: exit 1, cannot write, nothing written",
      files: () => [EXAMPLES[0]!],
      out: () => {
        mkdirSync(join(dir, "out", "vision_yolo-detect.json"), { recursive: true });
        return join(dir, "out");
      },
      code: 1,
      err: /vision_yolo-detect\.json: cannot write: is a directory, not a file/,
      written: () =>
        expect(readdirSync(join(dir, "out"))).to.deep.equal(["vision_yolo-detect.json"]),
    },
  ];
  for (const row of bad) {
    it(row.name, async () => {
      const out = row.out?.() ?? join(dir, "out");
      const r = await runCaptured(runDashboard, [...row.files(), "--out", out]);
      expect(r.code, r.err).to.equal(row.code);
      expect(r.err).to.match(row.err);
      if (row.out === undefined) expect(existsSync(out)).to.equal(false);
      row.written?.();
    });
  }

  const usage = [
    { name: "no pool", argv: [], err: /expected <pool\.yaml>\.\.\./ },
    { name: "two pools without --out", argv: EXAMPLES, err: /2 pools need --out <dir>/ },
    { name: "an unknown option", argv: ["--fleet", EXAMPLES[0]!], err: /Unknown option '--fleet'/ },
  ];
  for (const row of usage) {
    it(`bad command line: ${row.name} (exit 2)`, async () => {
      const r = await runCaptured(runDashboard, row.argv);
      expect(r.code).to.equal(2);
      expect(r.err).to.match(row.err);
    });
  }

  describe("--preview: the pool's dashboard drawn from Prometheus's answers", () => {
    let server: Server;
    let base = "";
    const asked: URLSearchParams[] = [];
    before(async () => {
      // An in-process Prometheus HTTP API: every range query answers one series per model
      // and capacity type over the period asked; a query naming "refuse" is refused.
      server = createServer((req, res) => {
        const url = new URL(req.url ?? "/", "http://x");
        asked.push(url.searchParams);
        const query = url.searchParams.get("query") ?? "";
        if (url.pathname !== "/api/v1/query_range" || query.includes("refuse")) {
          res.writeHead(400, { "Content-Type": "application/json" });
          res.end(JSON.stringify({ status: "error", errorType: "bad_data", error: "refused" }));
          return;
        }
        const start = Number(url.searchParams.get("start"));
        const end = Number(url.searchParams.get("end"));
        const step = Number(url.searchParams.get("step"));
        const values: [number, string][] = [];
        for (let t = start; t <= end; t += step) values.push([t, "2"]);
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(
          JSON.stringify({
            status: "success",
            data: {
              resultType: "matrix",
              result: [{ metric: { model: "yolov8s", capacity_type: "spot" }, values }],
            },
          }),
        );
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => server.close());

    it("writes the page: every panel drawn, variables filled with the pool's own, Grafana's step and rate interval", async () => {
      asked.length = 0;
      const file = join(dir, "preview.html");
      const to = "2026-01-15T14:00:00Z";
      const r = await runCaptured(runDashboard, [
        EXAMPLES[0]!,
        "--preview",
        file,
        "--prometheus",
        base,
        "--to-time",
        to,
      ]);
      expect(r.code, r.err).to.equal(0);
      expect(r.out).to.match(
        /preview\.html: wrote the preview of "tritonscale \/ vision\/yolo-detect" \(17 panels\)\n$/,
      );
      const html = readFileSync(file, "utf8");
      expect(html).to.include("not by Grafana");
      expect(html.match(/<div class="panel"/g)?.length).to.equal(17);
      expect(html).not.to.include("No data");
      // The default period: the 6 hours before --to-time; 6 h / 600 points = 36 s step,
      // $__rate_interval max(36 + 15, 4 × 15) = 60 s for the pool's 15 s scrape.
      const end = Date.parse(to) / 1000;
      expect(asked.map((q) => [q.get("start"), q.get("end"), q.get("step")])).to.deep.include([
        String(end - 6 * 3600),
        String(end),
        "36",
      ]);
      const queries = asked.map((q) => q.get("query") ?? "");
      expect(queries.some((q) => q.includes("[60s]"))).to.equal(true);
      expect(queries.filter((q) => /\$(?!1)/.test(q))).to.deep.equal([]);
      expect(queries.some((q) => q.includes('tritonscale_dev_pool="yolo-detect"'))).to.equal(true);
    });

    const failing = [
      {
        name: "Prometheus unreachable: one line, exit 1, nothing written",
        url: async () => `http://127.0.0.1:${await freePort()}`,
        err: /^tritonscale dashboard: querying Prometheus at http:\/\/127\.0\.0\.1:\d+: fetch failed.*\n$/,
      },
      {
        name: "Prometheus refuses a query: one line naming it, exit 1",
        url: async () => `${base}/refuse`,
        err: /^tritonscale dashboard: querying Prometheus at .*: HTTP 400, error: refused \(query .*\)\n$/,
      },
    ];
    for (const row of failing) {
      it(row.name, async () => {
        const file = join(dir, "preview.html");
        const r = await runCaptured(runDashboard, [
          EXAMPLES[0]!,
          "--preview",
          file,
          "--prometheus",
          await row.url(),
        ]);
        expect(r.code).to.equal(1);
        expect(r.err).to.match(row.err);
        expect(existsSync(file)).to.equal(false);
      });
    }

    const usagePreview = [
      {
        name: "not a URL",
        argv: ["--prometheus", "prom:9090"],
        err: /--prometheus must be an http\(s\) URL such as http:\/\/127\.0\.0\.1:9090 \(got "prom:9090"\)/,
      },
      {
        name: "a bad time",
        argv: ["--from-time", "yesterday"],
        err: /--from-time "yesterday": valid: now, now-<duration> such as now-24h, an RFC 3339 time/,
      },
      {
        name: "an empty period",
        argv: ["--from-time", "2026-01-15T14:00:00Z", "--to-time", "2026-01-15T13:00:00Z"],
        err: /--from-time must be before --to-time \(got 2026-01-15T14:00:00Z and 2026-01-15T13:00:00Z\)/,
      },
      {
        name: "with --out",
        argv: ["--out", "x"],
        err: /--preview draws one pool's dashboard, without --out/,
      },
    ];
    for (const row of usagePreview) {
      it(`bad command line: ${row.name} (exit 2)`, async () => {
        const r = await runCaptured(runDashboard, [
          EXAMPLES[0]!,
          "--preview",
          join(dir, "p.html"),
          ...row.argv,
        ]);
        expect(r.code).to.equal(2);
        expect(r.err).to.match(row.err);
      });
    }

    it("a --preview file in a missing folder: exit 1, cannot write, before Prometheus is asked", async () => {
      asked.length = 0;
      const file = join(dir, "missing", "p.html");
      const r = await runCaptured(runDashboard, [
        EXAMPLES[0]!,
        "--preview",
        file,
        "--prometheus",
        base,
      ]);
      expect(r.code).to.equal(1);
      expect(r.err).to.match(/p\.html: cannot write: folder .*missing does not exist/);
      expect(asked).to.deep.equal([]);
    });

    it("bad command line: --prometheus without --preview (exit 2)", async () => {
      const r = await runCaptured(runDashboard, [EXAMPLES[0]!, "--prometheus", base]);
      expect(r.code).to.equal(2);
      expect(r.err).to.match(/--prometheus needs --preview/);
    });
  });

  it("is a command of the tritonscale binary, listed in its help", () => {
    const help = spawnSync(process.execPath, [MAIN, "--help"], { encoding: "utf8" });
    expect(help.stdout).to.match(/\n {2}dashboard +write Grafana dashboards/);
    const r = spawnSync(process.execPath, [MAIN, "dashboard", "--help"], { encoding: "utf8" });
    expect(r.status).to.equal(0);
    expect(r.stdout).to.match(/^Usage: tritonscale dashboard <pool\.yaml>\.\.\. \[--out <dir>\]/);
  });
});

function writePool(dir: string, name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}
