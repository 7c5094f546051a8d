import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import type { IJSONSchemaProps } from "kubernetes-models/apiextensions.k8s.io/v1";
import { parse, stringify } from "yaml";
import { runRender } from "../../controller/cli/render.js";
import { buildPool, type KubeObject } from "../../controller/kube/render/index.js";
import { checkPromQL } from "../../controller/kube/render/promql.js";
import { replicaSplit } from "../../controller/kube/render/replica-split.js";
import { cronEnd, hpaBehavior } from "../../controller/kube/render/scaling.js";
import { terminationSeconds } from "../../controller/kube/render/triton.js";
import { formatManifests } from "../../controller/kube/yaml.js";
import { loadModelPool, type Policy, PROVIDERS } from "../../controller/policy/index.js";
import { runCaptured } from "../support/io.js";
import { validateOpenApi } from "../support/openapi.js";
import { minimalPool, pool } from "../support/pools.js";
import { projectRoot, requireReference } from "../support/reference.js";

const fixtures = join(projectRoot, "test", "fixtures", "manifests");
const update = process.env.UPDATE_GOLDEN === "1";

type Json = { [k: string]: unknown };
const json = (o: KubeObject): Json => JSON.parse(JSON.stringify(o.toJSON())) as Json;
const kinds = (objs: readonly KubeObject[]) =>
  objs.map((o) => `${o.kind}/${(json(o).metadata as Json).name}`);

describe("buildPool: golden manifests per provider and engine", () => {
  for (const provider of PROVIDERS) {
    for (const engine of ["keda", "hpa"] as const) {
      it(`${provider} × ${engine} matches test/fixtures/manifests/${provider}-${engine}.yaml`, () => {
        const text = formatManifests(buildPool(pool(provider, engine)));
        const file = join(fixtures, `${provider}-${engine}.yaml`);
        if (update) {
          mkdirSync(fixtures, { recursive: true });
          writeFileSync(file, text);
        }
        expect(text, "UPDATE_GOLDEN=1 npm test rewrites the fixtures").to.equal(
          readFileSync(file, "utf8"),
        );
      });
    }
  }
});

describe("buildPool: objects", () => {
  it("keda: Spot and on-demand Deployments, Service, PDB, ServiceMonitor, PrometheusRule, dashboard ConfigMap, two ScaledObjects", () => {
    expect(kinds(buildPool(pool("eks", "keda")))).to.deep.equal([
      "Deployment/yolo-triton-spot",
      "Deployment/yolo-triton-ondemand",
      "Service/yolo-triton",
      "PodDisruptionBudget/yolo-triton",
      "ServiceMonitor/yolo-triton",
      "PrometheusRule/yolo-triton",
      "ConfigMap/yolo-dashboard",
      "ScaledObject/yolo-triton-spot",
      "ScaledObject/yolo-triton-ondemand",
    ]);
  });

  it("hpa: the adapter's rules and an HPA per Deployment instead of ScaledObjects; karpenter adds a NodePool", () => {
    expect(kinds(buildPool(pool("karpenter", "hpa")))).to.deep.equal([
      "NodePool/vision-yolo-gpu",
      "Deployment/yolo-triton-spot",
      "Deployment/yolo-triton-ondemand",
      "Service/yolo-triton",
      "PodDisruptionBudget/yolo-triton",
      "ServiceMonitor/yolo-triton",
      "PrometheusRule/yolo-triton",
      "ConfigMap/yolo-dashboard",
      "ConfigMap/yolo-adapter-rules",
      "HorizontalPodAutoscaler/yolo-triton-spot",
      "HorizontalPodAutoscaler/yolo-triton-ondemand",
    ]);
  });

  it("without Spot: one on-demand Deployment and one ScaledObject", () => {
    const p = loadModelPool(
      readFileSync(join(projectRoot, "examples", "yolov8-pool.yaml"), "utf8"),
      "pool.yaml",
    );
    const names = kinds(buildPool(p));
    expect(names.filter((n) => n.startsWith("Deployment/"))).to.deep.equal([
      "Deployment/yolo-detect-triton",
    ]);
    expect(names.filter((n) => n.startsWith("ScaledObject/"))).to.deep.equal([
      "ScaledObject/yolo-detect-triton",
    ]);
  });

  const placement: { provider: string; spot: Json; onDemand: Json }[] = [
    {
      provider: "gke",
      spot: {
        nodeSelector: {
          "cloud.google.com/gke-accelerator": "nvidia-tesla-t4",
          "cloud.google.com/gke-spot": "true",
        },
      },
      onDemand: { notIn: "cloud.google.com/gke-spot" },
    },
    {
      provider: "eks",
      spot: { nodeSelector: { "eks.amazonaws.com/capacityType": "SPOT" } },
      onDemand: { nodeSelector: { "eks.amazonaws.com/capacityType": "ON_DEMAND" } },
    },
    {
      provider: "aks",
      spot: { nodeSelector: { "kubernetes.azure.com/scalesetpriority": "spot" } },
      onDemand: { notIn: "kubernetes.azure.com/scalesetpriority" },
    },
    {
      provider: "karpenter",
      spot: {
        nodeSelector: {
          "karpenter.sh/capacity-type": "spot",
          "karpenter.sh/nodepool": "vision-yolo-gpu",
        },
      },
      onDemand: {
        nodeSelector: {
          "karpenter.sh/capacity-type": "on-demand",
          "karpenter.sh/nodepool": "vision-yolo-gpu",
        },
      },
    },
  ];
  for (const c of placement) {
    it(`${c.provider}: Spot pods select Spot nodes, on-demand pods stay off them`, () => {
      const [spot, onDemand] = buildPool(pool(c.provider, "keda"))
        .filter((o) => o.kind === "Deployment")
        .map((d) => ((json(d).spec as Json).template as Json).spec as Json);
      expect(spot!.nodeSelector).to.deep.equal(c.spot.nodeSelector);
      if (c.onDemand.nodeSelector)
        expect(onDemand!.nodeSelector).to.deep.equal(c.onDemand.nodeSelector);
      if (c.onDemand.notIn) {
        expect(JSON.stringify(onDemand!.affinity)).to.contain(c.onDemand.notIn as string);
        expect(JSON.stringify(spot!.affinity ?? {})).to.not.contain(c.onDemand.notIn as string);
      }
    });
  }

  it("fits termination inside the Spot notice (GKE 30 s, EKS 120 s)", () => {
    expect(terminationSeconds(pool("gke", "keda"), "spot")).to.deep.equal({
      grace: 25,
      preStop: 8,
    });
    expect(terminationSeconds(pool("eks", "keda"), "spot")).to.deep.equal({
      grace: 60,
      preStop: 10,
    });
    expect(terminationSeconds(pool("gke", "keda"), "onDemand")).to.deep.equal({
      grace: 60,
      preStop: 10,
    });
  });

  it("sizes the startup probe to twice the cold start, and probes Triton's health endpoints", () => {
    const d = json(buildPool(pool("eks", "keda"))[0]!);
    const c = ((((d.spec as Json).template as Json).spec as Json).containers as Json[])[0]!;
    expect(c.startupProbe).to.deep.equal({
      httpGet: { path: "/v2/health/ready", port: "http" },
      periodSeconds: 10,
      failureThreshold: 18,
    });
    expect((c.readinessProbe as Json).httpGet).to.deep.equal({
      path: "/v2/health/ready",
      port: "http",
    });
    expect((c.livenessProbe as Json).httpGet).to.deep.equal({
      path: "/v2/health/live",
      port: "http",
    });
    expect(c.args).to.include("--model-control-mode=none").and.include("--metrics-port=8002");
    expect((c.resources as Json).limits).to.deep.include({ "nvidia.com/gpu": "1" });
  });

  const strictness: { name: string; strict: boolean; has: string[]; hasNot: string[] }[] = [
    {
      name: "strictModelConfig true → --disable-auto-complete-config (--strict-model-config is deprecated since Triton 2.24)",
      strict: true,
      has: ["--disable-auto-complete-config"],
      hasNot: ["--strict-model-config=true"],
    },
    {
      name: "strictModelConfig false → auto-complete on, no flag",
      strict: false,
      has: [],
      hasNot: ["--disable-auto-complete-config", "--strict-model-config=false"],
    },
  ];
  for (const c of strictness) {
    it(`triton args: ${c.name}`, () => {
      const p = pool("eks", "keda", { triton: { strictModelConfig: c.strict } });
      const d = json(buildPool(p)[0]!);
      const args = ((((d.spec as Json).template as Json).spec as Json).containers as Json[])[0]!
        .args as string[];
      for (const a of c.has) expect(args).to.include(a);
      for (const a of c.hasNot) expect(args).to.not.include(a);
    });
  }

  it("ScaledObjects: Spot may go to zero, on-demand keeps the base and carries the schedule as a cron trigger", () => {
    const [spot, onDemand] = buildPool(pool("eks", "keda"))
      .filter((o) => o.kind === "ScaledObject")
      .map((o) => json(o).spec as Json);
    expect([
      spot!.minReplicaCount,
      spot!.maxReplicaCount,
      spot!.cooldownPeriod,
      spot!.pollingInterval,
    ]).to.deep.equal([0, 7, 15, 15]);
    expect(onDemand!.minReplicaCount).to.equal(0);
    const triggers = (onDemand!.triggers as Json[]).map((t) => t.type);
    expect(triggers).to.deep.equal(["external", "prometheus", "cron"]);
    const cron = (onDemand!.triggers as Json[])[2]!.metadata;
    expect(cron).to.deep.equal({
      timezone: "UTC",
      start: "30 7 * * 1-5",
      end: "30 9 * * 1-5",
      desiredReplicas: "3",
    });
    const prom = (spot!.triggers as Json[])[1]!.metadata as Json;
    expect(prom.ignoreNullValues).to.equal("false");
  });

  it("each ScaledObject's Prometheus trigger asks for its own Deployment's share, in valid PromQL", () => {
    const queries = buildPool(pool("gke", "keda"))
      .filter((o) => o.kind === "ScaledObject")
      .map(
        (o) => (((json(o).spec as Json).triggers as Json[])[1]!.metadata as Json).query as string,
      );
    expect(queries[0]).to.contain('tritonscale_dev_capacity_type="spot"');
    expect(queries[1]).to.contain('tritonscale_dev_capacity_type="on-demand"');
    for (const q of queries) expect(checkPromQL(q)).to.deep.equal([]);
  });

  it("engine hpa, scaler tritonscale: the decision passes through (pool rate limits, no scale-up window, 60 s damping of the queue-time metric)", () => {
    expect(hpaBehavior(pool("eks", "hpa"))).to.deep.equal({
      scaleUp: {
        stabilizationWindowSeconds: 0,
        selectPolicy: "Max",
        policies: [
          { type: "Pods", value: 4, periodSeconds: 15 },
          { type: "Percent", value: 100, periodSeconds: 15 },
        ],
      },
      scaleDown: {
        stabilizationWindowSeconds: 60,
        selectPolicy: "Max",
        policies: [{ type: "Percent", value: 100, periodSeconds: 15 }],
      },
    });
  });

  // The HPA's windows, hand-worked per row: the decision already waited the pool's windows,
  // so the HPA on the controller's answer must not wait them again (the double stabilization
  // of issue 8); where the HPA is the scaler it keeps the pool's rules as written.
  const windows: {
    name: string;
    scaling: Record<string, unknown>;
    up: number;
    down: number;
  }[] = [
    {
      name: "keda, queue-time fallback on: scale-down window min(300, 60) = 60 s",
      scaling: { engine: "keda" },
      up: 0,
      down: 60,
    },
    {
      name: "keda, queue-time fallback off: nothing but the decision feeds the HPA, 0 s",
      scaling: { engine: "keda", keda: { prometheusFallback: false } },
      up: 0,
      down: 0,
    },
    {
      name: "keda, the pool's scale-down window 30 s is shorter than the damping: 30 s",
      scaling: { engine: "keda", scaleDown: { stabilizationWindow: "30s" } },
      up: 0,
      down: 30,
    },
    {
      name: "keda, the pool's scale-up window 120 s is the decision's, not the HPA's: 0 s",
      scaling: { engine: "keda", scaleUp: { stabilizationWindow: "2m" } },
      up: 0,
      down: 60,
    },
    {
      name: "hpa with scaler hpa-gpu: the HPA is the scaler, the pool's 300 s and 120 s as written",
      scaling: {
        engine: "hpa",
        scaler: "hpa-gpu",
        minReplicas: 1,
        scaleUp: { stabilizationWindow: "2m" },
      },
      up: 120,
      down: 300,
    },
  ];
  for (const w of windows) {
    it(`HPA windows: ${w.name}`, () => {
      const b = hpaBehavior(minimalPool({ scaling: w.scaling }));
      expect([
        b.scaleUp.stabilizationWindowSeconds,
        b.scaleDown.stabilizationWindowSeconds,
      ]).to.deep.equal([w.up, w.down]);
    });
  }

  it("the ScaledObject's KEDA HPA carries the same pass-through windows", () => {
    const so = buildPool(
      minimalPool({ scaling: { engine: "keda", scaleDown: { stabilizationWindow: "10m" } } }),
    ).find((o) => o.kind === "ScaledObject");
    const behavior = (
      ((json(so!).spec as Json).advanced as Json).horizontalPodAutoscalerConfig as Json
    ).behavior as {
      scaleDown: Json;
    };
    expect(behavior.scaleDown.stabilizationWindowSeconds).to.equal(60);
  });

  const crons: { name: string; cron: string; seconds: number; end: string | undefined }[] = [
    { name: "same day", cron: "30 7 * * 1-5", seconds: 7200, end: "30 9 * * 1-5" },
    {
      name: "minutes carry into the hour",
      cron: "45 8 * * *",
      seconds: 30 * 60,
      end: "15 9 * * *",
    },
    {
      name: "past midnight: left to the external scaler",
      cron: "0 23 * * *",
      seconds: 7200,
      end: undefined,
    },
    {
      name: "a range of hours: left to the external scaler",
      cron: "0 8-10 * * *",
      seconds: 600,
      end: undefined,
    },
  ];
  for (const c of crons) {
    it(`cron end: ${c.name}`, () => expect(cronEnd(c.cron, c.seconds)).to.equal(c.end));
  }
});

describe("replicaSplit: the Deployments' bounds add up to the pool's", () => {
  function splitPool(engine: "keda" | "hpa", min: number, max: number, base: number): Policy {
    return minimalPool({
      scaling: { engine, minReplicas: min, maxReplicas: max },
      capacity: { provider: "eks", spot: { enabled: true, onDemandBase: base } },
    });
  }
  const bounds = (o: KubeObject) => {
    const spec = json(o).spec as Json;
    return o.kind === "HorizontalPodAutoscaler"
      ? { min: spec.minReplicas as number, max: spec.maxReplicas as number }
      : { min: spec.minReplicaCount as number, max: spec.maxReplicaCount as number };
  };
  const scalers = (p: Policy) =>
    buildPool(p)
      .filter((o) => o.kind === "HorizontalPodAutoscaler" || o.kind === "ScaledObject")
      .map(bounds);

  const table: {
    name: string;
    engine: "keda" | "hpa";
    min: number;
    max: number;
    base: number;
    want: [{ min: number; max: number }, { min: number; max: number }];
  }[] = [
    {
      name: "hpa, min 1 max 24: one on-demand; Spot keeps its one replica (HPA minReplicas ≥ 1) and the rest of max",
      engine: "hpa",
      min: 1,
      max: 24,
      base: 1,
      want: [
        { min: 1, max: 23 },
        { min: 1, max: 1 },
      ],
    },
    {
      name: "hpa, min 4 max 24 base 1: floor 1 + 3, ceiling 1 + 23",
      engine: "hpa",
      min: 4,
      max: 24,
      base: 1,
      want: [
        { min: 3, max: 23 },
        { min: 1, max: 1 },
      ],
    },
    {
      name: "hpa, base ≥ min: on-demand leaves Spot its one replica so the floor adds up",
      engine: "hpa",
      min: 3,
      max: 8,
      base: 3,
      want: [
        { min: 1, max: 5 },
        { min: 2, max: 3 },
      ],
    },
    {
      name: "keda, min 3 base 1: Spot carries the rest of the floor; Spot max is max − base",
      engine: "keda",
      min: 3,
      max: 8,
      base: 1,
      want: [
        { min: 2, max: 7 },
        { min: 1, max: 8 },
      ],
    },
  ];
  for (const c of table) {
    it(c.name, () => {
      const [spot, onDemand] = scalers(splitPool(c.engine, c.min, c.max, c.base));
      expect([spot, onDemand]).to.deep.equal(c.want);
    });
  }

  it("the HPAs and ScaledObjects carry replicaSplit's bounds", () => {
    for (const engine of ["hpa", "keda"] as const) {
      const p = splitPool(engine, 2, 9, 1);
      const { spot, onDemand } = replicaSplit(p);
      expect(scalers(p)).to.deep.equal([spot, onDemand]);
    }
  });

  it("hpa, every min ≤ max ≤ 6 and base ≤ max: the HPAs' mins add up to the pool's (to 2 when it is 1), their maxes to the pool's", () => {
    let checked = 0;
    for (let max = 2; max <= 6; max++) {
      for (let min = 1; min <= max; min++) {
        for (let base = 0; base <= max; base++) {
          const { spot, onDemand } = replicaSplit(splitPool("hpa", min, max, base));
          const where = `min ${min} max ${max} base ${base}: ${JSON.stringify({ spot, onDemand })}`;
          expect(spot!.min + onDemand!.min, where).to.equal(Math.max(2, min));
          expect(spot!.max + onDemand!.max, where).to.equal(max);
          for (const b of [spot!, onDemand!]) {
            expect(b.min, where).to.be.at.least(1);
            expect(b.max, where).to.be.at.least(b.min);
          }
          // The base stays on-demand as far as Spot's one replica allows.
          expect(onDemand!.min, where).to.equal(Math.max(1, Math.min(base, min - 1)));
          checked++;
        }
      }
    }
    // Σ over max of max mins × (max + 1) bases.
    expect(checked).to.equal(2 * 3 + 3 * 4 + 4 * 5 + 5 * 6 + 6 * 7);
  });

  it("keda, every min ≤ max ≤ 6 and base ≤ max: the ScaledObjects' mins add up to the pool's; Spot never exceeds max − base", () => {
    for (let max = 1; max <= 6; max++) {
      for (let min = 0; min <= max; min++) {
        for (let base = 0; base <= max; base++) {
          const { spot, onDemand } = replicaSplit(splitPool("keda", min, max, base));
          const where = `min ${min} max ${max} base ${base}: ${JSON.stringify({ spot, onDemand })}`;
          expect(spot!.min + onDemand!.min, where).to.equal(min);
          expect(spot!.max, where).to.equal(Math.max(1, max - base));
          expect(onDemand!.max, where).to.equal(max);
        }
      }
    }
  });
});

/** The rendered NodePool of a one-model Karpenter pool, with `capacity.gpu` or `scaling` given. */
function karpenterNodePool(o: { gpu?: { type: string; count: number }; scaling?: Json }): Json {
  const p = loadModelPool(
    stringify({
      apiVersion: "tritonscale.dev/v1alpha1",
      kind: "ModelPool",
      metadata: { name: "yolo", namespace: "vision" },
      spec: {
        models: [{ name: "yolov8s", template: "yolov8-onnx", imageSize: 640, classes: 80 }],
        slo: { latencyP99Ms: 85 },
        ...(o.scaling === undefined ? {} : { scaling: o.scaling }),
        capacity: {
          provider: "karpenter",
          ...(o.gpu === undefined ? {} : { gpu: o.gpu }),
          spot: { enabled: true },
        },
      },
    }),
    "pool.yaml",
  );
  return json(buildPool(p).find((x) => x.kind === "NodePool")!);
}

describe("buildNodePool: the Karpenter requirements match capacity.gpu", () => {
  const cases: {
    name: string;
    gpu: { type: string; count: number };
    want: { gpuName: string; families: string[] | undefined; count: string };
  }[] = [
    {
      name: "the default T4, written the GKE way → g4dn with one T4 (not any GPU instance)",
      gpu: { type: "nvidia-tesla-t4", count: 1 },
      want: { gpuName: "t4", families: ["g4dn"], count: "1" },
    },
    {
      name: "A10G → g5",
      gpu: { type: "nvidia-a10g", count: 1 },
      want: { gpuName: "a10g", families: ["g5"], count: "1" },
    },
    {
      name: "L4 × 4 → g6 with exactly four GPUs",
      gpu: { type: "nvidia-l4", count: 4 },
      want: { gpuName: "l4", families: ["g6"], count: "4" },
    },
    {
      name: "L40S written the AWS way → g6e",
      gpu: { type: "L40S", count: 1 },
      want: { gpuName: "l40s", families: ["g6e"], count: "1" },
    },
    {
      name: "A100 80GB × 8 → p4d / p4de",
      gpu: { type: "nvidia-a100-80gb", count: 8 },
      want: { gpuName: "a100", families: ["p4d", "p4de"], count: "8" },
    },
    {
      name: "H100 (GKE's mega name) → p5",
      gpu: { type: "nvidia-h100-mega-80gb", count: 8 },
      want: { gpuName: "h100", families: ["p5"], count: "8" },
    },
    {
      name: "a GPU tritonscale has no family for: name and count only",
      gpu: { type: "nvidia-tesla-k80", count: 1 },
      want: { gpuName: "k80", families: undefined, count: "1" },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const nodePool = karpenterNodePool({ gpu: c.gpu });
      const reqs = (((nodePool.spec as Json).template as Json).spec as Json).requirements as {
        key: string;
        operator: string;
        values: string[];
      }[];
      const byKey = new Map(reqs.map((r) => [r.key, r]));
      for (const r of reqs) expect(r.operator, r.key).to.equal("In");
      expect(byKey.get("karpenter.k8s.aws/instance-gpu-name")?.values).to.deep.equal([
        c.want.gpuName,
      ]);
      expect(byKey.get("karpenter.k8s.aws/instance-family")?.values).to.deep.equal(c.want.families);
      expect(byKey.get("karpenter.k8s.aws/instance-gpu-count")?.values).to.deep.equal([
        c.want.count,
      ]);
      expect(byKey.get("karpenter.sh/capacity-type")?.values).to.deep.equal(["spot", "on-demand"]);
      expect((nodePool.spec as Json).limits).to.deep.equal({
        "nvidia.com/gpu": String(10 * c.gpu.count),
      });
    });
  }
});

describe("buildNodePool: an empty node lingers as long as the pool's model of its cluster says", () => {
  const cases: { name: string; nodeLinger?: string; want: string }[] = [
    // Before: consolidateAfter was "1m" whatever the pool said, while the scaler's
    // scale-down-that-pays and simulate counted on the 10 min nodeLinger.
    { name: "the default nodeLinger, 10m", want: "10m" },
    { name: "1h30m stays in Karpenter's h/m/s form", nodeLinger: "1h30m", want: "1h30m" },
    { name: "90s is written shortest, 1m30s", nodeLinger: "90s", want: "1m30s" },
    { name: "0s: remove an empty node at once", nodeLinger: "0s", want: "0s" },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const nodePool = karpenterNodePool(
        c.nodeLinger === undefined ? {} : { scaling: { history: { nodeLinger: c.nodeLinger } } },
      );
      expect((nodePool.spec as Json).disruption).to.deep.equal({
        consolidationPolicy: "WhenEmpty",
        consolidateAfter: c.want,
      });
    });
  }
});

describe("rendered custom resources against their upstream CRDs", () => {
  let scaledObjectSchema: IJSONSchemaProps;
  before(function () {
    const keda = requireReference(this, "keda");
    const crd = parse(readFileSync(join(keda, "keda.sh_scaledobjects.yaml"), "utf8")) as {
      spec: { versions: { name: string; schema: { openAPIV3Schema: IJSONSchemaProps } }[] };
    };
    scaledObjectSchema = crd.spec.versions.find((v) => v.name === "v1alpha1")!.schema
      .openAPIV3Schema;
  });

  for (const provider of PROVIDERS) {
    it(`every ScaledObject for ${provider} validates against KEDA's ScaledObject CRD`, () => {
      const objects = buildPool(pool(provider, "keda")).filter((o) => o.kind === "ScaledObject");
      expect(objects).to.have.lengthOf(2);
      for (const o of objects)
        expect(validateOpenApi(scaledObjectSchema, json(o))).to.deep.equal([]);
    });
  }

  it("is a real check: a wrong field type and an unknown field are reported", () => {
    const o = json(buildPool(pool("eks", "keda")).find((x) => x.kind === "ScaledObject")!);
    (o.spec as Json).pollingInterval = "15s";
    (o.spec as Json).cooldown = 300;
    expect(validateOpenApi(scaledObjectSchema, o)).to.deep.equal([
      'spec.pollingInterval: must be an integer (got "15s")',
      "spec.cooldown: unknown field",
    ]);
  });
});

describe("tritonscale render", () => {
  it("prints a multi-document YAML of the example pool", async () => {
    const r = await runCaptured(runRender, [join(projectRoot, "examples", "yolov8-pool.yaml")]);
    expect(r.code).to.equal(0);
    expect(r.out.split(/^---$/m)).to.have.lengthOf(7);
    expect(r.out).to.match(/^apiVersion: apps\/v1\nkind: Deployment\n/);
  });

  it("reports a bad pool with positions and exits 1; a bad command line exits 2", async () => {
    const r = await runCaptured(runRender, ["/nonexistent/pool.yaml"]);
    expect(r.code).to.equal(1);
    expect(r.err).to.match(/cannot read: no such file/);
    expect((await runCaptured(runRender, [])).code).to.equal(2);
  });
});
