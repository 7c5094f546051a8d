import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { expect } from "chai";
import { formatProblem } from "../../controller/diagnostics/problem.js";
import { loadModelPool } from "../../controller/policy/index.js";
import { buildRepository } from "../../controller/repository/build.js";
import { listTemplates } from "../../controller/repository/templates.js";
import { createMemoryReader } from "../support/memory-reader.js";
import { projectRoot } from "../support/reference.js";

const TEMPLATE_YAML = "description: in memory\nfamily: yolov8\nkind: onnx\n";
const ONNX_PBTXT = readFileSync(join(projectRoot, "repo-templates", "_base", "onnx.pbtxt"), "utf8");

function pool(modelFile?: string): string {
  return [
    "apiVersion: tritonscale.dev/v1alpha1",
    "kind: ModelPool",
    "metadata: { name: mem, namespace: vision }",
    "spec:",
    "  models:",
    "    - name: det",
    "      template: mem-onnx",
    "      imageSize: 640",
    "      classes: 80",
    ...(modelFile ? [`      modelFile: ${modelFile}`] : []),
    "  slo: { latencyP99Ms: 85 }",
    "",
  ].join("\n");
}

describe("repository generator: reads through an injected FileReader", () => {
  const files = {
    "/t/mem-onnx/template.yaml": TEMPLATE_YAML,
    "/t/_base/onnx.pbtxt": ONNX_PBTXT,
    "/p/det.onnx": "model bytes, never read by the generator",
    "/p/folder.onnx/x": "a folder named like a model file",
  };

  it("builds a repository from templates that exist only in memory", () => {
    const reader = createMemoryReader(files);
    expect(listTemplates(reader, "/t")).to.deep.equal(["mem-onnx"]);
    const b = buildRepository(loadModelPool(pool(), "/p/pool.yaml"), "/t", reader);
    expect(b.problems.map(formatProblem)).to.deep.equal([]);
    expect([...b.tree.keys()]).to.deep.equal(["det/config.pbtxt"]);
  });

  it("leaves the model file to the writer to copy, streamed (it was read whole into memory)", () => {
    const reader = createMemoryReader(files);
    const b = buildRepository(loadModelPool(pool("det.onnx"), "/p/pool.yaml"), "/t", reader);
    expect(b.problems.map(formatProblem)).to.deep.equal([]);
    expect(b.tree.get("det/1/model.onnx")).to.deep.equal({ copyFrom: "/p/det.onnx" });
    expect(reader.reads.get("/p/det.onnx")).to.equal(undefined);
  });

  const modelFileCases = [
    {
      name: "a missing model file",
      file: "gone.onnx",
      message: "model file /p/gone.onnx does not exist",
    },
    {
      name: "a directory as model file (said: does not exist)",
      file: "folder.onnx",
      message: "model file /p/folder.onnx is a directory, not a file",
    },
  ];
  for (const c of modelFileCases) {
    it(c.name, () => {
      const b = buildRepository(
        loadModelPool(pool(c.file), "/p/pool.yaml"),
        "/t",
        createMemoryReader(files),
      );
      expect(b.problems.map((p) => p.message)).to.deep.equal([c.message]);
    });
  }

  // config lint's file side (lint-files.ts, or wherever the lint split puts it) still reads
  // files itself; everything else in controller/repository/ must go through a FileReader.
  it("controller/repository/ does no file I/O of its own (config lint's file side excepted)", () => {
    const root = join(projectRoot, "controller", "repository");
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, e.name);
        if (e.isDirectory()) walk(path);
        else if (e.name.endsWith(".ts") && !/lint/.test(relative(root, path))) {
          if (/from "node:fs(\/promises)?"/.test(readFileSync(path, "utf8")))
            offenders.push(relative(projectRoot, path));
        }
      }
    };
    walk(root);
    expect(offenders).to.deep.equal([]);
  });
});
