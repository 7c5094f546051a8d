import { expect } from "chai";
import { loadModelPool } from "../../controller/policy/index.js";
import { clusterSettings } from "../../controller/simulate/setup.js";

/** simulate's cluster settings taken from the pool (simulate/setup.ts). */
function poolWith(history: object) {
  return loadModelPool(
    JSON.stringify({
      apiVersion: "tritonscale.dev/v1alpha1",
      kind: "ModelPool",
      metadata: { name: "yolo-detect", namespace: "vision" },
      spec: {
        models: [{ name: "yolov8s", template: "yolov8-onnx", imageSize: 640, classes: 80 }],
        slo: { latencyP99Ms: 85 },
        scaling: { history },
      },
    }),
    "pool.yaml",
  );
}

describe("simulate/setup: the cluster model's node linger is the pool's", () => {
  const rows: { name: string; history: object; expected: number }[] = [
    { name: "unset: 600 s (cluster-autoscaler's default)", history: {}, expected: 600 },
    {
      name: "nodeLinger 2m: 120 s (was 600 whatever the pool said)",
      history: { nodeLinger: "2m" },
      expected: 120,
    },
    { name: "nodeLinger 0s: removed at once", history: { nodeLinger: "0s" }, expected: 0 },
  ];
  for (const r of rows) {
    it(r.name, () => {
      expect(clusterSettings(poolWith(r.history)).nodeIdleRemovalSeconds).to.equal(r.expected);
    });
  }

  it("an explicit override still wins", () => {
    const s = clusterSettings(poolWith({ nodeLinger: "2m" }), { nodeIdleRemovalSeconds: 30 });
    expect(s.nodeIdleRemovalSeconds).to.equal(30);
  });
});
