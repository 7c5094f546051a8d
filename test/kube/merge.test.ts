import { expect } from "chai";
import type { IToleration } from "kubernetes-models/v1";
import { buildPool } from "../../controller/kube/render/index.js";
import { mergeArgs, mergeTolerations } from "../../controller/kube/render/merge.js";
import type { Policy } from "../../controller/policy/index.js";
import { minimalPool } from "../support/pools.js";

type Json = { [k: string]: unknown };

describe("mergeArgs: the user's flags win, nothing twice", () => {
  const cases: { name: string; generated: string[]; user: string[]; want: string[] }[] = [
    {
      name: "no user args: the generated ones",
      generated: ["tritonserver", "--a=1"],
      user: [],
      want: ["tritonserver", "--a=1"],
    },
    {
      name: "a flag the user sets replaces the generated one (--exit-timeout-secs once)",
      generated: ["tritonserver", "--exit-timeout-secs=45", "--allow-metrics=true"],
      user: ["--exit-timeout-secs=5"],
      want: ["tritonserver", "--allow-metrics=true", "--exit-timeout-secs=5"],
    },
    {
      name: "a flag without a value matches the same flag with one",
      generated: ["tritonserver", "--disable-auto-complete-config"],
      user: ["--disable-auto-complete-config=false"],
      want: ["tritonserver", "--disable-auto-complete-config=false"],
    },
    {
      name: "new flags follow in the user's order",
      generated: ["tritonserver", "--a=1"],
      user: ["--log-verbose=1", "--b=2"],
      want: ["tritonserver", "--a=1", "--log-verbose=1", "--b=2"],
    },
    {
      name: "a repeatable flag keeps every distinct value",
      generated: ["tritonserver"],
      user: ["--backend-config=onnxruntime,a=1", "--backend-config=python,b=2"],
      want: ["tritonserver", "--backend-config=onnxruntime,a=1", "--backend-config=python,b=2"],
    },
    {
      name: "an exact repeat is dropped",
      generated: ["tritonserver"],
      user: ["--log-verbose=1", "--log-verbose=1"],
      want: ["tritonserver", "--log-verbose=1"],
    },
    {
      name: "a flag that only shares a prefix is not the same flag",
      generated: ["tritonserver", "--allow-metrics=true"],
      user: ["--allow-metrics-extra=1"],
      want: ["tritonserver", "--allow-metrics=true", "--allow-metrics-extra=1"],
    },
  ];
  for (const c of cases) {
    it(c.name, () => expect(mergeArgs(c.generated, c.user)).to.deep.equal(c.want));
  }
});

describe("mergeTolerations: by key, operator, effect (and value for Equal); the user wins", () => {
  const gpu: IToleration = { key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" };
  const spot: IToleration = {
    key: "cloud.google.com/gke-spot",
    operator: "Equal",
    value: "true",
    effect: "NoSchedule",
  };
  const cases: {
    name: string;
    generated: IToleration[];
    user: IToleration[];
    want: IToleration[];
  }[] = [
    { name: "no user tolerations", generated: [gpu, spot], user: [], want: [gpu, spot] },
    {
      name: "the GPU toleration repeated by the user appears once",
      generated: [gpu, spot],
      user: [{ ...gpu }],
      want: [gpu, spot],
    },
    {
      name: "the user's version replaces the generated one in place (tolerationSeconds)",
      generated: [gpu, spot],
      user: [{ ...spot, tolerationSeconds: 30 }],
      want: [gpu, { ...spot, tolerationSeconds: 30 }],
    },
    {
      name: "an empty operator is Equal",
      generated: [spot],
      user: [{ key: spot.key!, value: "true", effect: "NoSchedule" }],
      want: [{ key: spot.key!, value: "true", effect: "NoSchedule" }],
    },
    {
      name: "another effect is another toleration",
      generated: [gpu],
      user: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoExecute" }],
      want: [gpu, { key: "nvidia.com/gpu", operator: "Exists", effect: "NoExecute" }],
    },
    {
      name: "another operator is another toleration",
      generated: [gpu],
      user: [{ key: "nvidia.com/gpu", operator: "Equal", value: "x", effect: "NoSchedule" }],
      want: [gpu, { key: "nvidia.com/gpu", operator: "Equal", value: "x", effect: "NoSchedule" }],
    },
    {
      name: "Equal with another value tolerates another taint: both stay",
      generated: [spot],
      user: [{ ...spot, value: "false" }],
      want: [spot, { ...spot, value: "false" }],
    },
    {
      name: "of two user tolerations with one key the last wins",
      generated: [],
      user: [
        { key: "k", operator: "Exists", tolerationSeconds: 1 },
        { key: "k", operator: "Exists", tolerationSeconds: 2 },
      ],
      want: [{ key: "k", operator: "Exists", tolerationSeconds: 2 }],
    },
  ];
  for (const c of cases) {
    it(c.name, () => expect(mergeTolerations(c.generated, c.user)).to.deep.equal(c.want));
  }
});

describe("buildPool: user args and tolerations merged into the pod", () => {
  function pool(spec: Record<string, unknown>): Policy {
    return minimalPool(spec);
  }
  const podSpecs = (p: Policy) =>
    buildPool(p)
      .filter((o) => o.kind === "Deployment")
      .map(
        (d) =>
          ((JSON.parse(JSON.stringify(d.toJSON())) as Json).spec as { template: { spec: Json } })
            .template.spec,
      );

  it("--exit-timeout-secs in triton.args appears once, with the user's value", () => {
    const [spec] = podSpecs(
      pool({ triton: { args: ["--exit-timeout-secs=7", "--log-verbose=1"] } }),
    );
    const args = (spec!.containers as { args: string[] }[])[0]!.args;
    expect(args.filter((a) => a.startsWith("--exit-timeout-secs"))).to.deep.equal([
      "--exit-timeout-secs=7",
    ]);
    expect(args).to.include("--log-verbose=1");
  });

  it("the GPU toleration in capacity.tolerations appears once; Spot tolerations stay", () => {
    const specs = podSpecs(
      pool({
        capacity: {
          provider: "gke",
          spot: { enabled: true },
          tolerations: [
            { key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" },
            { key: "dedicated", operator: "Equal", value: "vision", effect: "NoSchedule" },
          ],
        },
      }),
    );
    for (const spec of specs) {
      const keys = (spec.tolerations as IToleration[]).map((t) => t.key);
      expect(keys.filter((k) => k === "nvidia.com/gpu")).to.have.lengthOf(1);
      expect(keys).to.include("dedicated");
    }
    expect((specs[0]!.tolerations as IToleration[]).map((t) => t.key)).to.include(
      "cloud.google.com/gke-spot",
    );
  });
});
