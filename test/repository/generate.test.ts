import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { stringify } from "yaml";
import { runConfig } from "../../controller/cli/config.js";
import { runGenerate } from "../../controller/cli/generate.js";
import { formatProblem } from "../../controller/diagnostics/problem.js";
import { nodeFileReader } from "../../controller/io/node-file-reader.js";
import { readTree } from "../../controller/io/write-tree.js";
import { loadModelPool } from "../../controller/policy/index.js";
import { buildRepository } from "../../controller/repository/build.js";
import { parseModelConfig } from "../../controller/repository/model-config.js";
import { rawOutputShape } from "../../controller/repository/render.js";
import { listTemplates, loadTemplate } from "../../controller/repository/templates.js";
import type { TreeFile } from "../../controller/repository/tree.js";
import { checkWithGoogle } from "../support/google-text-format.js";
import { capture } from "../support/io.js";
import { projectRoot } from "../support/reference.js";
import { requireProtocPython } from "../support/tools.js";

const templatesDir = join(projectRoot, "repo-templates");
const fixtures = join(projectRoot, "test", "fixtures", "generate");
const update = process.env.UPDATE_GOLDEN === "1";

/** A pool with one model, as YAML text. */
function poolYaml(model: Record<string, unknown>): string {
  return stringify({
    apiVersion: "tritonscale.dev/v1alpha1",
    kind: "ModelPool",
    metadata: { name: "golden", namespace: "vision" },
    spec: {
      models: [model],
      slo: { latencyP99Ms: 85 },
      scaling: { minReplicas: 0, maxReplicas: 4 },
    },
  });
}

function build(model: Record<string, unknown>) {
  const policy = loadModelPool(poolYaml(model), "pool.yaml");
  return buildRepository(policy, templatesDir, nodeFileReader);
}

function text(file: TreeFile | undefined): string {
  if (file !== undefined && "copyFrom" in file) throw new Error(`a copy of ${file.copyFrom}`);
  return new TextDecoder().decode(file);
}

const templates = listTemplates(nodeFileReader, templatesDir);

describe("repo-templates", () => {
  it("ships YOLOv5, YOLOv8 and YOLO11 in onnx, trt, end2end and ensemble forms", () => {
    for (const family of ["yolov5", "yolov8", "yolo11"]) {
      for (const kind of ["onnx", "trt", "end2end", "ensemble"]) {
        expect(templates).to.include(`${family}-${kind}`);
      }
    }
  });

  it("every template loads without problems", () => {
    for (const t of templates) {
      expect(
        loadTemplate(nodeFileReader, templatesDir, t).problems.map(formatProblem),
        t,
      ).to.deep.equal([]);
    }
  });

  it("computes the raw head shapes of each family", () => {
    expect(rawOutputShape("yolov8", 640, 80)).to.deep.equal([84, 8400]);
    expect(rawOutputShape("yolo11", 640, 80)).to.deep.equal([84, 8400]);
    expect(rawOutputShape("yolov5", 640, 80)).to.deep.equal([25200, 85]);
    expect(rawOutputShape("yolov8", 320, 1)).to.deep.equal([5, 2100]);
    expect(rawOutputShape("yolov5", 1280, 1)).to.deep.equal([100800, 6]);
  });
});

describe("generate: golden fixtures per template", () => {
  for (const t of templates) {
    it(`${t} at 640 px, 80 classes matches test/fixtures/generate/${t}/`, () => {
      const b = build({
        name: "det",
        template: t,
        imageSize: 640,
        classes: 80,
        maxBatchSize: 8,
        batching: { preferredBatchSizes: [4, 8], maxQueueDelayMicroseconds: 2000 },
        ...(t.endsWith("-onnx") ? { tensorrt: true } : {}),
      });
      expect(b.problems.map(formatProblem)).to.deep.equal([]);
      const dir = join(fixtures, t);
      const configs = [...b.tree].filter(([p]) => p.endsWith("config.pbtxt"));
      if (update) {
        rmSync(dir, { recursive: true, force: true });
        for (const [p, bytes] of configs) {
          mkdirSync(join(dir, p, ".."), { recursive: true });
          writeFileSync(join(dir, p), text(bytes));
        }
      }
      const golden = readTree(dir);
      expect(
        [...golden.keys()].sort(),
        "golden files (UPDATE_GOLDEN=1 npm test rewrites them)",
      ).to.deep.equal(configs.map(([p]) => p).sort());
      for (const [p, bytes] of configs) expect(text(bytes), p).to.equal(text(golden.get(p)));
    });
  }
});

describe("generate: every template at 320/640/1280 px and 1/80 classes", () => {
  const generated: { name: string; text: string }[] = [];

  before(() => {
    for (const t of templates) {
      for (const imageSize of [320, 640, 1280]) {
        for (const classes of [1, 80]) {
          const b = build({ name: "det", template: t, imageSize, classes });
          if (b.problems.length > 0) throw new Error(b.problems.map(formatProblem).join("\n"));
          for (const [p, bytes] of b.tree) {
            if (p.endsWith("config.pbtxt"))
              generated.push({ name: `${t}@${imageSize}/${classes}:${p}`, text: text(bytes) });
          }
        }
      }
    }
  });

  it("gives every detector the input and output shapes of its family", () => {
    let checked = 0;
    for (const g of generated) {
      const [, imageSize, classes] = /@(\d+)\/(\d+):/.exec(g.name)!.map(Number) as [
        number,
        number,
        number,
      ];
      const family = g.name.split("-")[0] as "yolov5" | "yolov8" | "yolo11";
      const { config, problems } = parseModelConfig(g.text, g.name);
      expect(problems).to.deep.equal([]);
      const isDetector = config.input?.[0]?.name === "images";
      if (!isDetector) continue;
      checked++;
      expect(config.input?.[0]?.dims, g.name).to.deep.equal([
        3n,
        BigInt(imageSize),
        BigInt(imageSize),
      ]);
      const out0 = config.output?.find((o) => o.name === "output0");
      if (g.name.includes("-end2end")) {
        expect(config.output?.map((o) => o.name)).to.deep.equal([
          "num_dets",
          "det_boxes",
          "det_scores",
          "det_classes",
        ]);
        expect(config.output?.[1]?.dims).to.deep.equal([100n, 4n]);
      } else {
        const [rows, cols] = rawOutputShape(family, imageSize, classes);
        expect(out0?.dims, g.name).to.deep.equal([BigInt(rows), BigInt(cols)]);
      }
    }
    expect(checked).to.equal(templates.length * 6);
  });

  it("parses every generated config with Google's text_format", function () {
    // protos/model_config.proto is checked equal to upstream's by the protos test.
    requireProtocPython(this);
    const verdicts = checkWithGoogle(
      join(projectRoot, "protos", "model_config.proto"),
      "ModelConfig",
      generated.map((g) => ({ name: g.name, original: g.text })),
    );
    const failed = verdicts.filter((v) => !v.ok).map((v) => `${v.name}: ${v.error}`);
    expect(failed, failed.join("\n")).to.deep.equal([]);
    expect(verdicts).to.have.lengthOf(generated.length);
  });
});

describe("tritonscale generate", () => {
  let work = "";
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), "tritonscale-generate-"));
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  const example = join(projectRoot, "examples", "yolov8-pool.yaml");

  it("writes the README example, then reports unchanged, and --check agrees", async () => {
    const out = join(work, "out");
    const first = capture();
    expect(await runGenerate([example, "--out", out], first.io)).to.equal(0);
    expect(first.out()).to.match(/wrote 1 model \(/);
    const config = readFileSync(join(out, "model-repository", "yolov8s", "config.pbtxt"), "utf8");
    expect(config).to.contain("dims: [84, 8400]").and.contain("preferred_batch_size: [4, 8]");

    const manifests = readFileSync(join(out, "manifests", "vision-yolo-detect.yaml"), "utf8");
    expect(manifests).to.contain("kind: Deployment").and.contain("kind: ScaledObject");

    const second = capture();
    expect(await runGenerate([example, "--out", out], second.io)).to.equal(0);
    expect(second.out()).to.match(/unchanged/);

    const check = capture();
    expect(await runGenerate([example, "--out", out, "--check"], check.io)).to.equal(0);

    writeFileSync(join(out, "model-repository", "yolov8s", "config.pbtxt"), "edited");
    const stale = capture();
    expect(await runGenerate([example, "--out", out, "--check"], stale.io)).to.equal(1);
    expect(stale.out()).to.match(/would change .*yolov8s\/config\.pbtxt/);
    expect(readFileSync(join(out, "model-repository", "yolov8s", "config.pbtxt"), "utf8")).to.equal(
      "edited",
    );
  });

  it("copies a local modelFile into the version folder", async () => {
    writeFileSync(join(work, "yolov8s.onnx"), "onnx-bytes");
    const pool = join(work, "pool.yaml");
    writeFileSync(
      pool,
      poolYaml({
        name: "yolov8s",
        template: "yolov8-onnx",
        imageSize: 640,
        classes: 80,
        modelFile: "yolov8s.onnx",
        version: 3,
      }),
    );
    const io = capture();
    expect(await runGenerate([pool, "--out", join(work, "out")], io.io)).to.equal(0);
    expect(
      readFileSync(join(work, "out", "model-repository", "yolov8s", "3", "model.onnx"), "utf8"),
    ).to.equal("onnx-bytes");
  });

  it("writes nothing for a broken pool and reports every problem with its position", async () => {
    const pool = join(work, "pool.yaml");
    writeFileSync(
      pool,
      [
        "apiVersion: tritonscale.dev/v1alpha1",
        "kind: ModelPool",
        "metadata: { name: p, namespace: vision }",
        "spec:",
        "  models:",
        "    - name: a",
        "      template: yolov8-onx",
        "      imageSize: 640",
        "      classes: 80",
        "    - name: b",
        "      template: yolov8-trt",
        "      imageSize: 640",
        "      classes: 80",
        "      tensorrt: true",
        "      modelFile: missing.plan",
        "  slo: { latencyP99Ms: 85 }",
        "",
      ].join("\n"),
    );
    const io = capture();
    expect(await runGenerate([pool, "--out", join(work, "out")], io.io)).to.equal(1);
    const err = io.err();
    expect(err).to.contain(
      `${pool}:7:17: spec.models[0].template: template "yolov8-onx" does not exist; did you mean "yolov8-onnx"?`,
    );
    expect(err).to.contain(
      `${pool}:14:17: spec.models[1].tensorrt: tensorrt applies to ONNX templates only`,
    );
    expect(err).to.match(/nothing written/);
    expect(existsSync(join(work, "out"))).to.equal(false);
  });

  it("writes nothing when the pool itself is invalid", async () => {
    const pool = join(work, "pool.yaml");
    writeFileSync(
      pool,
      poolYaml({ name: "a", template: "yolov8-onnx", imageSize: 650, classes: 80 }),
    );
    const io = capture();
    expect(await runGenerate([pool, "--out", join(work, "out")], io.io)).to.equal(1);
    expect(io.err()).to.match(/spec\.models\[0\]\.imageSize/);
    expect(existsSync(join(work, "out"))).to.equal(false);
  });

  it("lints what it generates: the written repository passes `config lint`, a bad template is refused", async () => {
    const out = join(work, "out");
    const pool = join(work, "pool.yaml");
    writeFileSync(
      pool,
      poolYaml({
        name: "cam",
        template: "yolo11-ensemble",
        imageSize: 1280,
        classes: 1,
        tensorrt: true,
      }),
    );
    expect(await runGenerate([pool, "--out", out], capture().io)).to.equal(0);
    const lint = capture();
    expect(await runConfig(["lint", join(out, "model-repository")], lint.io)).to.equal(0);
    expect(lint.err()).to.match(/ok: 4 files/);

    const custom = join(work, "templates");
    mkdirSync(join(custom, "broken"), { recursive: true });
    writeFileSync(
      join(custom, "broken", "template.yaml"),
      "description: d\nfamily: yolov8\nkind: onnx\n",
    );
    writeFileSync(
      join(custom, "broken", "config.pbtxt"),
      'name: "{{name}}"\nbackend: "onnxruntime"\ninput [{ name: "images" data_type: TYPE_FP32 dims: [0, {{imageSize}}] }]\n',
    );
    writeFileSync(pool, poolYaml({ name: "cam", template: "broken", imageSize: 640, classes: 80 }));
    const io = capture();
    expect(
      await runGenerate([pool, "--out", join(work, "out2"), "--templates", custom], io.io),
    ).to.equal(1);
    expect(io.err()).to.match(
      /model-repository\/cam\/config\.pbtxt:\d+:\d+: io-dims: .*generated config would not load/,
    );
    expect(existsSync(join(work, "out2"))).to.equal(false);
  });

  it("rejects a bad command line with exit code 2", async () => {
    expect(await runGenerate([], capture().io)).to.equal(2);
    expect(await runGenerate([example], capture().io)).to.equal(2);
    expect(await runGenerate([example, "--out", work, "--bogus"], capture().io)).to.equal(2);
  });
});
