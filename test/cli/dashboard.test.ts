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
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { runDashboard } from "../../controller/cli/dashboard.js";
import { loadModelPool } from "../../controller/policy/index.js";
import { buildPoolDashboard, formatDashboard } from "../../controller/report/dashboard.js";
import { runCaptured } from "../support/io.js";
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
