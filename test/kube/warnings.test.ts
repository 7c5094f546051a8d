import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { expect } from "chai";
import { createInputReader } from "../../controller/cli/read-input.js";
import { runRender } from "../../controller/cli/render.js";
import {
  hpaSplitWarnings,
  isStockTritonImage,
  karpenterWarnings,
  poolWarnings,
  repositoryWarnings,
  versionFolderWarnings,
} from "../../controller/kube/render/warnings.js";
import type { Policy } from "../../controller/policy/index.js";
import { capture } from "../support/io.js";
import { minimalPool } from "../support/pools.js";
import { projectRoot } from "../support/reference.js";

/** A valid pool with `spec` merged over one model (with a modelFile) and an SLO. */
function pool(spec: Record<string, unknown> = {}, model: Record<string, unknown> = {}): Policy {
  return minimalPool(spec, { modelFile: "yolov8s.onnx", ...model });
}

const pvc = { modelRepository: { source: "pvc", claimName: "models" } };

describe("isStockTritonImage", () => {
  const cases: { image: string; stock: boolean }[] = [
    { image: "nvcr.io/nvidia/tritonserver:24.08-py3", stock: true },
    { image: "nvcr.io/nvidia/tritonserver@sha256:abc", stock: true },
    { image: "nvidia/tritonserver", stock: true },
    { image: "registry.example.com/vision/tritonserver-yolo:1.0", stock: false },
    { image: "nvcr.io/nvidia/tritonserver-custom:1", stock: false },
  ];
  for (const c of cases) {
    it(`${c.image} → ${c.stock}`, () => expect(isStockTritonImage(c.image)).to.equal(c.stock));
  }
});

describe("repositoryWarnings: the pod must find its model repository", () => {
  const cases: { name: string; triton: Record<string, unknown>; warns: boolean }[] = [
    { name: "the default (local on the stock image) crash-loops", triton: {}, warns: true },
    {
      name: "local on an image with the repository baked in",
      triton: { image: "registry.example.com/vision/triton-yolo:1" },
      warns: false,
    },
    { name: "pvc", triton: pvc, warns: false },
    {
      name: "s3",
      triton: { modelRepository: { source: "s3", uri: "s3://bucket/models" } },
      warns: false,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const w = repositoryWarnings(pool({ triton: c.triton }));
      expect(w).to.have.lengthOf(c.warns ? 1 : 0);
      if (c.warns) {
        expect(w[0]!.path).to.equal("spec.triton.modelRepository.source");
        expect(w[0]!.message).to.contain('source "pvc"').and.contain("s3://").and.contain("image");
      }
    });
  }
});

describe("versionFolderWarnings: version_policy specific [n] needs an n/ folder", () => {
  it("a model without modelFile: at spec.models[i], saying what to put where", () => {
    const w = versionFolderWarnings(pool({}, { modelFile: undefined, version: 3 }));
    expect(w).to.have.lengthOf(1);
    expect(w[0]!.path).to.equal("spec.models[0]");
    expect(w[0]!.line).to.be.greaterThan(0);
    expect(w[0]!.message).to.contain("specific [3]").and.contain("3/").and.contain("modelFile");
  });
  it("a model with modelFile: none", () => {
    expect(versionFolderWarnings(pool())).to.deep.equal([]);
  });
});

describe("hpaSplitWarnings: two HPAs that cannot add up to the pool's floor", () => {
  const cases: {
    name: string;
    scaling: Record<string, unknown>;
    spot: Record<string, unknown>;
    path: string | undefined;
  }[] = [
    {
      name: "min 1 with Spot: one Spot replica more",
      scaling: { engine: "hpa", minReplicas: 1, maxReplicas: 8 },
      spot: { enabled: true, onDemandBase: 1 },
      path: "spec.scaling.minReplicas",
    },
    {
      name: "base ≥ min ≥ 2: one floor replica on Spot",
      scaling: { engine: "hpa", minReplicas: 3, maxReplicas: 8 },
      spot: { enabled: true, onDemandBase: 3 },
      path: "spec.capacity.spot.onDemandBase",
    },
    {
      name: "min 3 base 1: adds up, no warning",
      scaling: { engine: "hpa", minReplicas: 3, maxReplicas: 8 },
      spot: { enabled: true, onDemandBase: 1 },
      path: undefined,
    },
    {
      name: "without Spot: one HPA, no warning",
      scaling: { engine: "hpa", minReplicas: 1, maxReplicas: 8 },
      spot: { enabled: false },
      path: undefined,
    },
    {
      name: "engine keda: Spot scales to zero, no warning",
      scaling: { engine: "keda", minReplicas: 1, maxReplicas: 8 },
      spot: { enabled: true, onDemandBase: 1 },
      path: undefined,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const w = hpaSplitWarnings(
        pool({ scaling: c.scaling, capacity: { provider: "eks", spot: c.spot } }),
      );
      expect(w.map((p) => p.path)).to.deep.equal(c.path === undefined ? [] : [c.path]);
    });
  }
});

describe("karpenterWarnings: the NodePool must be able to launch the pool's GPU", () => {
  const cases: { name: string; gpu: Record<string, unknown>; path: string | undefined }[] = [
    { name: "T4 × 1", gpu: { type: "nvidia-tesla-t4", count: 1 }, path: undefined },
    { name: "an unknown GPU", gpu: { type: "nvidia-tesla-k80" }, path: "spec.capacity.gpu.type" },
    {
      name: "one A100: p4d has 8",
      gpu: { type: "nvidia-tesla-a100", count: 1 },
      path: "spec.capacity.gpu.count",
    },
    {
      name: "two T4s: g4dn has 1, 4 or 8",
      gpu: { type: "T4", count: 2 },
      path: "spec.capacity.gpu.count",
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const w = karpenterWarnings(pool({ capacity: { provider: "karpenter", gpu: c.gpu } }));
      expect(w.map((p) => p.path)).to.deep.equal(c.path === undefined ? [] : [c.path]);
    });
  }
  it("another provider: none", () => {
    expect(karpenterWarnings(pool({ capacity: { gpu: { type: "x" } } }))).to.deep.equal([]);
  });
});

describe("poolWarnings and tritonscale render", () => {
  it("a pool that starts: no warnings", () => {
    expect(poolWarnings(pool({ triton: pvc }))).to.deep.equal([]);
  });

  it("render prints the objects, then each warning on stderr, and exits 0", async () => {
    // The example pool without its pvc source: source local on the stock image.
    const text = readFileSync(join(projectRoot, "examples", "yolov8-pool.yaml"), "utf8").replace(
      /^ {2}triton:\n(?: {4}.*\n)+/m,
      "",
    );
    expect(text).not.to.include("triton:");
    const c = capture();
    const code = await runRender(["-"], {
      ...c.io,
      inputs: createInputReader({ stdin: Readable.from([Buffer.from(text)]) }),
    });
    const r = { code, out: c.out(), err: c.err() };
    expect(r.code).to.equal(0);
    expect(r.out).to.match(/^apiVersion: apps\/v1\n/);
    expect(r.err).to.match(
      /^warning: <stdin>:\d+:\d+: spec\.triton\.modelRepository\.source: source "local"/m,
    );
    expect(r.err).to.match(/^warning: .*: spec\.models\[0\]: model "yolov8s" names no modelFile/m);
  });
});
