import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { runValidate } from "../../controller/cli/validate.js";
import { runCaptured } from "../support/io.js";
import { projectRoot } from "../support/reference.js";

/** Runs `tritonscale validate` with captured output. */
function validate(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  return runCaptured(runValidate, argv);
}

describe("tritonscale validate", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "tritonscale-validate-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("prints one ok line per valid file and exits 0", async () => {
    const a = join(projectRoot, "examples", "yolov8-pool.yaml");
    const b = join(projectRoot, "examples", "yolo-fleet-spot.yaml");
    const r = await validate(a, b);
    expect(r.code).to.equal(0);
    expect(r.out).to.equal(
      `ok: ${a}: ModelPool vision/yolo-detect, 1 model\nok: ${b}: ModelPool vision/yolo-fleet, 2 models\n`,
    );
    // The examples ship no model files and no profiles: per model, one warning says where
    // to put the file, one that its capacity is estimated from the default profile.
    const lines = r.err.split("\n").filter(Boolean);
    expect(lines).to.have.length(6);
    expect(lines.filter((l) => / names no modelFile/.test(l))).to.have.length(3);
    const noProfile = lines.filter((l) => / has no profile: /.test(l));
    expect(noProfile).to.have.length(3);
    for (const line of noProfile) {
      expect(line).to.match(
        /^warning: .*examples\/.*\.yaml:\d+:\d+: spec\.models\[\d\]: model "[^"]+" has no profile: its capacity per replica at the SLO is estimated from the default profile linear:a=4,b=2\.2/,
      );
    }
  });

  it("prints every problem of every file and exits 1", async () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(
      bad,
      [
        "apiVersion: tritonscale.dev/v1alpha1",
        "kind: ModelPool",
        "metadata: { name: p }",
        "spec:",
        "  models: [{ name: a, template: t, imageSize: 650, classes: 80 }]",
        "  slo: { latencyP99Ms: 85 }",
        "  scalling: {}",
      ].join("\n"),
    );
    const missing = join(dir, "missing.yaml");
    const good = join(projectRoot, "examples", "yolov8-pool.yaml");
    const r = await validate(bad, good, missing);
    expect(r.code).to.equal(1);
    expect(r.out).to.equal(`ok: ${good}: ModelPool vision/yolo-detect, 1 model\n`);
    expect(r.err.replace(/^warning: .*\n/gm, "")).to.equal(
      [
        `${bad}:5:33: spec.models[0].template: template "t" does not exist; templates: yolo11-end2end, yolo11-ensemble, yolo11-onnx, yolo11-trt, yolov5-end2end, yolov5-ensemble, yolov5-onnx, yolov5-trt, yolov8-end2end, yolov8-ensemble, yolov8-onnx, yolov8-trt`,
        `${bad}:5:47: spec.models[0].imageSize: must be a multiple of 32 (got 650; nearest valid: 640 or 672)`,
        `${bad}:7:3: spec.scalling: unknown field; did you mean "scaling"?`,
        `${missing}: cannot read: no such file or directory`,
        "4 problems",
        "",
      ].join("\n"),
    );
  });

  it("shows help with --help", async () => {
    const r = await validate("--help");
    expect(r.code).to.equal(0);
    expect(r.out).to.match(/^Usage: tritonscale validate <pool\.yaml\|->\.\.\./);
  });

  it("exits 2 without files or with an unknown option", async () => {
    expect((await validate()).code).to.equal(2);
    const r = await validate("--strict", "x.yaml");
    expect(r.code).to.equal(2);
    expect(r.err).to.match(/^tritonscale validate: Unknown option '--strict'/);
  });
});
