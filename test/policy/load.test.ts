import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { loadPolicy } from "../../controller/cli/inputs.js";
import { createInputReader } from "../../controller/cli/read-input.js";
import { formatProblem, InputError } from "../../controller/diagnostics/problem.js";
import {
  formatPath,
  loadModelPool,
  type PathSegment,
  type Policy,
  parseModelPool,
  parseModelPoolObject,
  parsePath,
} from "../../controller/policy/index.js";
import { pool } from "../support/pool-text.js";
import { projectRoot } from "../support/reference.js";

/** Problems as `line:col: path: message`, without the file name. */
function problemsOf(yaml: string): string[] {
  return parseModelPool(yaml, "pool.yaml").problems.map((p) =>
    formatProblem(p).replace(/^pool\.yaml:/, ""),
  );
}

function loadExample(name: string): Policy {
  const file = join(projectRoot, "examples", name);
  return loadModelPool(readFileSync(file, "utf8"), `examples/${name}`);
}

describe("loadModelPool: valid pools", () => {
  it("accepts the brief's example as is and fills every default", () => {
    const p = loadExample("yolov8-pool.yaml");
    expect(p.metadata).to.deep.equal({
      name: "yolo-detect",
      namespace: "vision",
      labels: {},
      annotations: {},
    });
    expect(p.spec.models).to.have.length(1);
    expect(p.spec.models[0]).to.deep.equal({
      name: "yolov8s",
      template: "yolov8-onnx",
      imageSize: 640,
      classes: 80,
      precision: "fp16",
      maxBatchSize: 16,
      batching: {
        preferredBatchSizes: [4, 8],
        maxQueueDelayMicroseconds: 2000,
        preserveOrdering: false,
        queue: {
          maxQueueSize: 0,
          timeoutMicroseconds: 0,
          timeoutAction: "REJECT",
          allowTimeoutOverride: false,
        },
      },
      instances: 1,
      tensorrt: false,
      version: 1,
      warmup: true,
    });
    expect(p.spec.slo).to.deep.equal({
      latencyP99Ms: 85,
      targetAttainment: 0.995,
      window: "1m",
      windowSeconds: 60,
    });
    const s = p.spec.scaling;
    expect(s).to.include({
      engine: "keda",
      scaler: "tritonscale",
      minReplicas: 0,
      maxReplicas: 12,
      targetUtilization: 0.85,
      tolerance: 0.1,
      syncPeriod: "15s",
      syncPeriodSeconds: 15,
      staleAfterSeconds: 45,
      idleWindow: "10m",
      idleWindowSeconds: 600,
      coldStart: "90s",
      coldStartSeconds: 90,
    });
    expect(s.scaleUp).to.deep.equal({
      stabilizationWindow: "0s",
      stabilizationWindowSeconds: 0,
      maxPodsPerPeriod: 4,
      maxPercentPerPeriod: 100,
      period: "15s",
      periodSeconds: 15,
    });
    expect(s.scaleDown).to.include({ stabilizationWindowSeconds: 300, maxPercentPerPeriod: 100 });
    expect(s.schedules).to.deep.equal([]);
    expect(p.spec.capacity).to.deep.equal({
      provider: "generic",
      gpu: { type: "nvidia-tesla-t4", count: 1, resourceName: "nvidia.com/gpu" },
      spot: { enabled: false, onDemandBase: 1, fallbackAfter: "3m", fallbackAfterSeconds: 180 },
      karpenterNodeClass: "default",
      nodeSelector: {},
      tolerations: [],
    });
    expect(p.spec.cost).to.deep.equal({
      currency: "USD",
      onDemandPerGpuHour: 0.526,
      spotPerGpuHour: 0.19,
    });
    expect(p.spec.triton).to.deep.equal({
      image: "nvcr.io/nvidia/tritonserver:24.08-py3",
      modelRepository: { source: "pvc", claimName: "yolo-models", path: "/models" },
      modelControlMode: "none",
      strictModelConfig: true,
      ports: { http: 8000, grpc: 8001, metrics: 8002 },
      resources: { cpu: "2", memory: "8Gi" },
      args: [],
    });
  });

  it("accepts the Spot fleet example with two models and a schedule", () => {
    const p = loadExample("yolo-fleet-spot.yaml");
    expect(p.spec.models.map((m) => [m.name, m.template, m.tensorrt])).to.deep.equal([
      ["yolo11m", "yolo11-onnx", true],
      ["yolov5s-1280", "yolov5-trt", false],
    ]);
    // A batching model without a batching section gets dynamic batching with defaults.
    expect(p.spec.models[1]!.batching).to.include({ maxQueueDelayMicroseconds: 100 });
    expect(p.spec.capacity.provider).to.equal("eks");
    expect(p.spec.capacity.spot).to.include({ enabled: true, onDemandBase: 2 });
    expect(p.spec.scaling.schedules[0]).to.include({
      cron: "30 6 * * MON-FRI",
      timezone: "America/New_York",
      durationSeconds: 16_200,
    });
    expect(p.spec.triton.modelRepository).to.include({ source: "s3" });
  });

  it("has no batching section for a model with maxBatchSize 0", () => {
    const p = loadModelPool(pool({}, "      maxBatchSize: 0"), "pool.yaml");
    expect(p.spec.models[0]!.maxBatchSize).to.equal(0);
    expect(p.spec.models[0]!.batching).to.equal(undefined);
  });

  it("gives each place a YAML alias appears its own copy", () => {
    const p = loadModelPool(
      pool(
        {},
        "      batching: &b { maxQueueDelayMicroseconds: 500 }",
        "    - name: yolov5s",
        "      template: yolov5-onnx",
        "      imageSize: 640",
        "      classes: 80",
        "      batching: *b",
      ),
      "pool.yaml",
    );
    const [a, b] = p.spec.models;
    expect(a!.batching).to.deep.equal(b!.batching);
    expect(a!.batching).not.to.equal(b!.batching);
    expect(b!.batching).to.include({ maxQueueDelayMicroseconds: 500, preserveOrdering: false });
  });

  it("types durations in seconds beside the strings, and every field readonly", () => {
    const p = loadExample("yolo-fleet-spot.yaml");
    const idle: number = p.spec.scaling.idleWindowSeconds;
    const written: string = p.spec.scaling.idleWindow;
    const schedule: number = p.spec.scaling.schedules[0]!.durationSeconds;
    expect([idle, written, schedule]).to.deep.equal([1800, "30m", 16_200]);
    // Compile-time checks only; never called.
    const _readonly = () => {
      // @ts-expect-error readonly
      p.spec.scaling.maxReplicas = 3;
      // @ts-expect-error readonly list
      p.spec.models.push(p.spec.models[0]!);
      // @ts-expect-error no Seconds sibling for a field that is not a duration
      void p.spec.scaling.maxReplicasSeconds;
    };
    void _readonly;
  });

  it("is deeply frozen", () => {
    const p = loadExample("yolo-fleet-spot.yaml");
    for (const o of [
      p,
      p.spec,
      p.spec.models,
      p.spec.models[0],
      p.spec.models[0]!.batching,
      p.spec.models[0]!.batching!.preferredBatchSizes,
      p.spec.scaling.schedules[0],
      p.spec.capacity.nodeSelector,
      p.source,
    ]) {
      expect(Object.isFrozen(o)).to.equal(true);
    }
  });

  it("keeps source positions of keys and values, and of the nearest written ancestor", () => {
    const p = loadModelPool(pool({}), "pool.yaml");
    expect(p.source.file).to.equal("pool.yaml");
    expect(p.source.positionOf("spec.models[0].template")).to.deep.equal({ line: 8, col: 17 });
    expect(p.source.keyPositionOf("spec.models[0].template")).to.deep.equal({ line: 8, col: 7 });
    expect(p.source.positionOf(["spec", "slo", "latencyP99Ms"])).to.deep.equal({
      line: 5,
      col: 24,
    });
    expect(p.source.positionOf("spec.scaling.idleWindow")).to.equal(undefined);
    expect(p.source.nearestPositionOf("spec.scaling.idleWindow")).to.deep.equal({
      line: 5,
      col: 3,
    });
    expect(
      formatProblem(p.source.problemAt("spec.models[0].template", 'no folder "yolov8-onnx"')),
    ).to.equal('pool.yaml:8:17: spec.models[0].template: no folder "yolov8-onnx"');
  });

  it("keeps the source out of JSON and lists keys in schema order whatever the YAML order", () => {
    const a = loadModelPool(pool({}, "  scaling: { maxReplicas: 4, minReplicas: 1 }"), "a.yaml");
    const b = loadModelPool(
      [
        "spec:",
        "  scaling: { minReplicas: 1, maxReplicas: 4 }",
        "  models: [{ classes: 80, imageSize: 640, template: yolov8-onnx, name: yolov8s }]",
        "  slo: { latencyP99Ms: 85 }",
        "metadata: { namespace: vision, name: yolo-detect }",
        "kind: ModelPool",
        "apiVersion: tritonscale.dev/v1alpha1",
      ].join("\n"),
      "b.yaml",
    );
    expect(JSON.stringify(a)).to.equal(JSON.stringify(b));
    expect(Object.keys(JSON.parse(JSON.stringify(a)) as object)).to.deep.equal([
      "apiVersion",
      "kind",
      "metadata",
      "spec",
    ]);
  });
});

describe("loadModelPool: problems", () => {
  const rows: { name: string; yaml: string; expected: string[] }[] = [
    {
      name: "unknown key in spec, with a suggestion",
      yaml: pool({}, "  scalling: { maxReplicas: 4 }"),
      expected: ['11:3: spec.scalling: unknown field; did you mean "scaling"?'],
    },
    {
      name: "unknown key at the top level, with a suggestion",
      yaml: pool({}, "sepc: {}"),
      expected: ['11:1: sepc: unknown field; did you mean "spec"?'],
    },
    {
      name: "unknown key in a model, with a suggestion",
      yaml: pool({}, "      batchng: {}"),
      expected: ['11:7: spec.models[0].batchng: unknown field; did you mean "batching"?'],
    },
    {
      name: "unknown key three levels down, with a suggestion",
      yaml: pool({}, "  scaling:", "    scaleDown: { stabilisationWindow: 5m }"),
      expected: [
        '12:18: spec.scaling.scaleDown.stabilisationWindow: unknown field; did you mean "stabilizationWindow"?',
      ],
    },
    {
      name: "unknown key without a close match lists the valid fields",
      yaml: pool({}, "  budget: 100"),
      expected: [
        "11:3: spec.budget: unknown field; valid fields: models, slo, scaling, capacity, cost, triton, monitoring",
      ],
    },
    {
      name: "a quoted number where an integer belongs",
      yaml: pool({ 9: '      imageSize: "640"' }),
      expected: [
        '9:18: spec.models[0].imageSize: must be an integer multiple of 32 between 32 and 4096 (got "640"; remove the quotes)',
      ],
    },
    {
      name: "a string where a mapping belongs",
      yaml: pool({}, "  scaling: fast"),
      expected: ['11:12: spec.scaling: must be a mapping (got "fast")'],
    },
    {
      name: "a number where a list belongs",
      yaml: pool({}, "      batching: { preferredBatchSizes: 4 }"),
      expected: ["11:40: spec.models[0].batching.preferredBatchSizes: must be a list (got 4)"],
    },
    {
      name: "YAML 1.1 yes for a boolean",
      yaml: pool({}, "      warmup: yes"),
      expected: [
        '11:15: spec.models[0].warmup: must be true or false (got "yes"; write true or false without quotes)',
      ],
    },
    {
      name: "an empty value for a required number",
      yaml: pool({ 5: "  slo:\n    latencyP99Ms:" }),
      expected: [
        "6:5: spec.slo.latencyP99Ms: must be a number > 0 and <= 60000 (got an empty value)",
      ],
    },
    {
      name: "out of range",
      yaml: pool({ 10: "      classes: 0" }),
      expected: ["10:16: spec.models[0].classes: must be between 1 and 10000 (got 0)"],
    },
    {
      name: "negative queue delay",
      yaml: pool({}, "      batching: { maxQueueDelayMicroseconds: -5 }"),
      expected: ["11:46: spec.models[0].batching.maxQueueDelayMicroseconds: must be >= 0 (got -5)"],
    },
    {
      name: "imageSize not a multiple of 32",
      yaml: pool({ 9: "      imageSize: 650" }),
      expected: [
        "9:18: spec.models[0].imageSize: must be a multiple of 32 (got 650; nearest valid: 640 or 672)",
      ],
    },
    {
      name: "imageSize below the range and not a multiple of 32",
      yaml: pool({ 9: "      imageSize: 20" }),
      expected: [
        "9:18: spec.models[0].imageSize: must be a multiple of 32 between 32 and 4096 (got 20)",
      ],
    },
    {
      name: "bad enum, with a suggestion",
      yaml: pool({}, "      precision: FP16"),
      expected: [
        '11:18: spec.models[0].precision: must be one of "fp32", "fp16", "int8" (got "FP16"); did you mean "fp16"?',
      ],
    },
    {
      name: "bad enum, listing the valid values",
      yaml: pool({}, "  scaling: { engine: knative }"),
      expected: ['11:22: spec.scaling.engine: must be one of "keda", "hpa" (got "knative")'],
    },
    {
      name: "bad duration",
      yaml: pool({}, "  scaling: { idleWindow: 10 minutes }"),
      expected: [
        '11:26: spec.scaling.idleWindow: must be a duration such as "90s", "10m", "1h30m" or "500ms" (got "10 minutes")',
      ],
    },
    {
      name: "duration without a unit",
      yaml: pool({}, "  scaling: { coldStart: 90 }"),
      expected: [
        '11:25: spec.scaling.coldStart: must be a duration such as "90s", "10m", "1h30m" or "500ms" (got 90; add a unit, e.g. "90s")',
      ],
    },
    {
      name: "preferred batch size above maxBatchSize",
      yaml: pool({}, "      maxBatchSize: 8", "      batching: { preferredBatchSizes: [4, 16] }"),
      expected: [
        "12:44: spec.models[0].batching.preferredBatchSizes[1]: must be <= maxBatchSize (8) (got 16)",
      ],
    },
    {
      name: "preferred batch size above the default maxBatchSize",
      yaml: pool({}, "      batching: { preferredBatchSizes: [4, 16] }"),
      expected: [
        "11:44: spec.models[0].batching.preferredBatchSizes[1]: must be <= maxBatchSize (8, the default) (got 16)",
      ],
    },
    {
      name: "preferred batch sizes out of order",
      yaml: pool({}, "      batching: { preferredBatchSizes: [8, 4] }"),
      expected: [
        "11:44: spec.models[0].batching.preferredBatchSizes[1]: must be greater than the size before it (8): preferred batch sizes are strictly increasing (got 4)",
      ],
    },
    {
      name: "batching with maxBatchSize 0",
      yaml: pool({}, "      maxBatchSize: 0", "      batching: { maxQueueDelayMicroseconds: 500 }"),
      expected: [
        "12:7: spec.models[0].batching: dynamic batching needs maxBatchSize > 0 (maxBatchSize is 0); remove batching or raise maxBatchSize",
      ],
    },
    {
      name: "queue delay not below the latency SLO",
      yaml: pool({}, "      batching: { maxQueueDelayMicroseconds: 85000 }"),
      expected: [
        "11:46: spec.models[0].batching.maxQueueDelayMicroseconds: must be less than the latency SLO, spec.slo.latencyP99Ms 85 ms = 85000 µs (got 85000)",
      ],
    },
    {
      name: "minReplicas above maxReplicas",
      yaml: pool({}, "  scaling: { minReplicas: 5, maxReplicas: 3 }"),
      expected: ["11:27: spec.scaling.minReplicas: must be <= maxReplicas (3) (got 5)"],
    },
    {
      name: "minReplicas above the default maxReplicas",
      yaml: pool({}, "  scaling: { minReplicas: 11 }"),
      expected: [
        "11:27: spec.scaling.minReplicas: must be <= maxReplicas (10, the default) (got 11)",
      ],
    },
    {
      name: "engine hpa cannot scale to zero",
      yaml: pool({}, "  scaling: { engine: hpa }"),
      expected: [
        '11:22: spec.scaling.engine: "hpa" cannot scale to zero but minReplicas is 0 (the default); set spec.scaling.minReplicas >= 1 or use engine "keda"',
      ],
    },
    {
      name: "Spot on-demand base above maxReplicas",
      yaml: pool({}, "  capacity: { spot: { enabled: true, onDemandBase: 11 } }"),
      expected: [
        "11:52: spec.capacity.spot.onDemandBase: must be <= spec.scaling.maxReplicas (10, the default) (got 11)",
      ],
    },
    {
      name: "schedules: bad cron field, misspelt time zone, duplicate name, 4 cron fields, minReplicas above max",
      yaml: pool(
        {},
        "  scaling:",
        "    maxReplicas: 6",
        "    schedules:",
        "      - { name: peak, cron: '0 25 * * *', duration: 1h, minReplicas: 2, timezone: Europe/Berlni }",
        "      - { name: peak, cron: '0 8 * *', duration: 1h, minReplicas: 7 }",
      ),
      expected: [
        `14:29: spec.scaling.schedules[0].cron: hour value 25 is out of range 0-23 (got "0 25 * * *")`,
        `14:83: spec.scaling.schedules[0].timezone: must be an IANA time zone such as "UTC" or "Europe/Berlin" (got "Europe/Berlni"); did you mean "Europe/Berlin"?`,
        `15:17: spec.scaling.schedules[1].name: duplicate schedule name "peak"; spec.scaling.schedules[0] (line 14) already uses it`,
        `15:29: spec.scaling.schedules[1].cron: must be a 5-field cron expression "minute hour day-of-month month day-of-week" such as "0 8 * * 1-5" (got "0 8 * *")`,
        "15:67: spec.scaling.schedules[1].minReplicas: must be <= spec.scaling.maxReplicas (6) (got 7)",
      ],
    },
    {
      name: "engine hpa with minReplicas 0 written",
      yaml: pool({}, "  scaling: { engine: hpa, minReplicas: 0 }"),
      expected: [
        '11:40: spec.scaling.minReplicas: must be >= 1 with engine "hpa": the HPA never scales a target at 0 replicas (got 0); set minReplicas >= 1 or use engine "keda"',
      ],
    },
    {
      name: "scale-up limits both 0",
      yaml: pool({}, "  scaling: { scaleUp: { maxPodsPerPeriod: 0, maxPercentPerPeriod: 0 } }"),
      expected: [
        "11:23: spec.scaling.scaleUp: maxPodsPerPeriod and maxPercentPerPeriod are both 0, so the pool could never scale up; set one of them > 0",
      ],
    },
    {
      name: "duration out of its range",
      yaml: pool({}, "  scaling: { scaleDown: { period: 45m } }"),
      expected: ["11:35: spec.scaling.scaleDown.period: must be between 1s and 30m (got 45m)"],
    },
    {
      name: "scrapeInterval 0s (render emitted rate(...[0s]), which Prometheus refuses)",
      yaml: pool({}, "  monitoring: { scrapeInterval: 0s }"),
      expected: ["11:33: spec.monitoring.scrapeInterval: must be between 1s and 5m (got 0s)"],
    },
    {
      name: "durations out of the ranges on their schema nodes",
      yaml: pool(
        {},
        "  slo: { latencyP99Ms: 85, window: 25h }",
        "  scaling: { staleAfter: 0s, idleWindow: 0s, coldStart: 2h, nodeProvisioning: 61m }",
        "  capacity: { spot: { fallbackAfter: 90m } }",
      ).replace("  slo: { latencyP99Ms: 85 }\n", ""),
      expected: [
        "10:36: spec.slo.window: must be between 1s and 24h (got 25h)",
        "11:26: spec.scaling.staleAfter: must be between 1s and 1h (got 0s)",
        "11:42: spec.scaling.idleWindow: must be between 1s and 24h (got 0s)",
        "11:57: spec.scaling.coldStart: must be between 0s and 1h (got 2h)",
        "11:79: spec.scaling.nodeProvisioning: must be between 0s and 1h (got 61m)",
        "12:38: spec.capacity.spot.fallbackAfter: must be between 0s and 1h (got 90m)",
      ],
    },
    {
      name: "fractional seconds where an integer-seconds field is rendered (HPA periodSeconds)",
      yaml: pool({}, "  scaling: { scaleUp: { period: 1500ms, stabilizationWindow: 0.5s } }"),
      expected: [
        "11:33: spec.scaling.scaleUp.period: must be a whole number of seconds (got 1500ms; e.g. 1s)",
        "11:62: spec.scaling.scaleUp.stabilizationWindow: must be a whole number of seconds (got 0.5s; e.g. 1s)",
      ],
    },
    {
      name: "staleAfter shorter than syncPeriod",
      yaml: pool({}, "  scaling: { syncPeriod: 30s, staleAfter: 20s }"),
      expected: [
        "11:43: spec.scaling.staleAfter: must be >= syncPeriod (30s), or every metric counts as stale (got 20s)",
      ],
    },
    {
      name: "cron with a misspelt month name, schedule of length 0",
      yaml: pool(
        {},
        "  scaling: { schedules: [{ name: x, cron: '0 8 * JNA MON-FRI', duration: 0s, minReplicas: 1 }] }",
      ),
      expected: [
        '11:43: spec.scaling.schedules[0].cron: month value "JNA" must be a number or one of JAN, FEB, MAR, APR, MAY, JUN, JUL, AUG, SEP, OCT, NOV, DEC; did you mean "JAN"? (got "0 8 * JNA MON-FRI")',
        "11:74: spec.scaling.schedules[0].duration: must be between 1s and 168h (got 0s)",
      ],
    },
    {
      name: "repository fields that do not go with the source",
      yaml: pool(
        {},
        "  triton:",
        "    modelRepository: { source: gcs, uri: s3://models/yolo, claimName: models }",
      ),
      expected: [
        '12:42: spec.triton.modelRepository.uri: must start with "gs://" for source "gcs" (got "s3://models/yolo")',
        '12:71: spec.triton.modelRepository.claimName: only valid with source "pvc" (source is "gcs")',
      ],
    },
    {
      name: "pvc source without a claim",
      yaml: pool({}, "  triton: { modelRepository: { source: pvc } }"),
      expected: [
        '11:30: spec.triton.modelRepository.claimName: missing required field for source "pvc"',
      ],
    },
    {
      name: "misspelt toleration operator",
      yaml: pool({}, "  capacity: { tolerations: [{ key: a, operator: Exist }] }"),
      expected: [
        '11:49: spec.capacity.tolerations[0].operator: must be one of "Exists", "Equal" (got "Exist"); did you mean "Exists"?',
      ],
    },
    {
      name: "a __proto__ key is an unknown field like any other",
      yaml: pool({}, "  __proto__: { models: [] }"),
      expected: [
        "11:3: spec.__proto__: unknown field; valid fields: models, slo, scaling, capacity, cost, triton, monitoring",
      ],
    },
    {
      name: "duplicate model names",
      yaml: pool(
        {},
        "    - name: yolov8s",
        "      template: yolov8-onnx",
        "      imageSize: 640",
        "      classes: 80",
      ),
      expected: [
        '11:13: spec.models[1].name: duplicate model name "yolov8s"; spec.models[0] (line 7) already uses it',
      ],
    },
    {
      name: "invalid model name",
      yaml: pool({ 7: "    - name: YOLO_v8" }),
      expected: [
        '7:13: spec.models[0].name: must be lowercase letters, digits, "-", "_" and "." starting and ending with a letter or digit (at most 63 characters) (got "YOLO_v8")',
      ],
    },
    {
      name: "missing required field in a model",
      yaml: pool({ 9: "      classes: 80", 10: "" }),
      expected: [
        "7:7: spec.models[0].imageSize: missing required field (an integer multiple of 32 between 32 and 4096)",
      ],
    },
    {
      name: "missing required field in an empty mapping",
      yaml: pool({ 5: "  slo: {}" }),
      expected: ["5:8: spec.slo.latencyP99Ms: missing required field (a number > 0 and <= 60000)"],
    },
    {
      name: "missing required section",
      yaml: pool({ 5: "" }),
      expected: ["6:3: spec.slo: missing required field (a mapping with latencyP99Ms)"],
    },
    {
      name: "no models",
      yaml: pool({ 6: "  models: []", 7: "", 8: "", 9: "", 10: "" }),
      expected: ["6:11: spec.models: must have at least 1 entry (got 0)"],
    },
    {
      name: "unquoted boolean as a label value",
      yaml: pool({}, "  capacity:", "    nodeSelector: { cloud.google.com/gke-spot: true }"),
      expected: [
        '12:48: spec.capacity.nodeSelector["cloud.google.com/gke-spot"]: must be a Kubernetes label value (at most 63 letters, digits, "-", "_" and ".", alphanumeric at both ends) (got true; quote it: "true")',
      ],
    },
    {
      name: "bucket source without a URI, a managed Triton flag, clashing ports",
      yaml: pool(
        {},
        "  triton:",
        "    modelRepository: { source: s3 }",
        "    args: [--model-control-mode=poll]",
        "    ports: { grpc: 8000 }",
      ),
      expected: [
        '12:22: spec.triton.modelRepository.uri: missing required field for source "s3" (e.g. s3://bucket/models)',
        "13:12: spec.triton.args[0]: --model-control-mode is set from spec.triton.modelControlMode; set that field instead",
        "14:20: spec.triton.ports.grpc: must differ from ports.http (both 8000)",
      ],
    },
    {
      name: "--disable-auto-complete-config is managed too (by strictModelConfig)",
      yaml: pool({}, "  triton:", "    args: [--disable-auto-complete-config]"),
      expected: [
        "12:12: spec.triton.args[0]: --disable-auto-complete-config is set from spec.triton.strictModelConfig; set that field instead",
      ],
    },
    {
      name: "duplicate key",
      yaml: pool({}, "  slo: { latencyP99Ms: 90 }"),
      expected: ["11:3: spec.slo: duplicate key (first at line 5)"],
    },
    {
      name: "YAML syntax error",
      yaml: pool({ 5: "  slo: { latencyP99Ms: 85" }),
      expected: [
        "6:3: invalid YAML: deficient indentation: a [, { or quote opened above may be missing its end, or this line is indented less than the value it continues",
      ],
    },
    {
      name: "tab indentation",
      yaml: pool({ 8: "\t  template: yolov8-onnx" }),
      expected: [
        // The first syntax error only: what follows it is the parser's guess.
        "8:1: invalid YAML: tab characters must not be used in indentation",
      ],
    },
    {
      name: "wrong kind stops there",
      yaml: pool({ 2: "kind: Deployment" }, "  replicas: 3"),
      expected: ['2:7: kind: must be "ModelPool" (got "Deployment"); this file is not a ModelPool'],
    },
    {
      name: "misspelt kind, with a suggestion",
      yaml: pool({ 2: "kind: ModelPol" }),
      expected: ['2:7: kind: must be "ModelPool" (got "ModelPol"); did you mean "ModelPool"?'],
    },
    {
      name: "other version of the API",
      yaml: pool({ 1: "apiVersion: tritonscale.dev/v1" }),
      expected: [
        '1:13: apiVersion: unsupported version "tritonscale.dev/v1"; this tritonscale reads "tritonscale.dev/v1alpha1"',
      ],
    },
    {
      name: "another API group",
      yaml: pool({ 1: "apiVersion: apps/v1" }),
      expected: ['1:13: apiVersion: must be "tritonscale.dev/v1alpha1" (got "apps/v1")'],
    },
    {
      name: "missing apiVersion and kind",
      yaml: pool({ 1: "", 2: "" }),
      expected: [
        '3:1: apiVersion: missing required field; expected "tritonscale.dev/v1alpha1"',
        '3:1: kind: missing required field; expected "ModelPool"',
      ],
    },
    {
      name: "two documents",
      yaml: `${pool({})}---\n${pool({})}`,
      expected: [
        "11:1: found 2 YAML documents; a ModelPool file must hold exactly one (put each pool in its own file)",
      ],
    },
    {
      name: "empty file",
      yaml: "# nothing here\n",
      expected: ["1:1: the file is empty; expected a ModelPool document"],
    },
    {
      name: "a list instead of a document",
      yaml: "- apiVersion: tritonscale.dev/v1alpha1\n",
      expected: ["1:1: must be a mapping with apiVersion, kind, metadata and spec (got a list)"],
    },
  ];

  for (const row of rows) {
    it(row.name, () => {
      expect(problemsOf(row.yaml)).to.deep.equal(row.expected);
    });
  }

  it("reports four distinct problems together, each at its own line and column", () => {
    const yaml = [
      "apiVersion: tritonscale.dev/v1alpha1", // 1
      "kind: ModelPool", // 2
      "metadata:", // 3
      "  name: yolo-detect", // 4
      "spec:", // 5
      "  models:", // 6
      "    - name: yolov8s", // 7
      "      template: yolov8-onnx", // 8
      "      imageSize: 600", // 9: not a multiple of 32
      "      classes: 80", // 10
      "      batching:", // 11
      "        maxQueueDelayMicroseconds: -5", // 12: negative
      "  slo:", // 13
      "    latencyP99Ms: 85", // 14
      "  scaling:", // 15
      "    minReplicas: 4", // 16: above maxReplicas
      "    maxReplicas: 2", // 17
      "    idleWindw: 10m", // 18: misspelt
    ].join("\n");
    expect(problemsOf(yaml)).to.deep.equal([
      "9:18: spec.models[0].imageSize: must be a multiple of 32 (got 600; nearest valid: 576 or 608)",
      "12:36: spec.models[0].batching.maxQueueDelayMicroseconds: must be >= 0 (got -5)",
      "16:18: spec.scaling.minReplicas: must be <= maxReplicas (2) (got 4)",
      '18:5: spec.scaling.idleWindw: unknown field; did you mean "idleWindow"?',
    ]);
    try {
      loadModelPool(yaml, "pool.yaml");
      expect.fail("loadModelPool accepted an invalid pool");
    } catch (e) {
      expect(e).to.be.instanceOf(InputError);
      const err = e as InputError;
      expect(err.problems).to.have.length(4);
      expect(err.message).to.match(/^pool\.yaml: invalid ModelPool:\n/);
      expect(err.message).to.include(
        "pool.yaml:12:36: spec.models[0].batching.maxQueueDelayMicroseconds: must be >= 0 (got -5)",
      );
    }
  });

  it("reports a schema error once, not again from the rules that read the field", () => {
    // maxReplicas 0 is out of range; minReplicas 1 > 0 is not reported on top of it.
    expect(problemsOf(pool({}, "  scaling: { minReplicas: 1, maxReplicas: 0 }"))).to.deep.equal([
      "11:43: spec.scaling.maxReplicas: must be between 1 and 1000 (got 0)",
    ]);
  });
});

describe("loadPolicy (the CLI's reader and the loader)", () => {
  it("loads an example from disk", async () => {
    const p = await loadPolicy(
      createInputReader(),
      join(projectRoot, "examples", "yolov8-pool.yaml"),
    );
    expect(p.metadata.name).to.equal("yolo-detect");
  });

  it("turns a missing file into an InputError", async () => {
    try {
      await loadPolicy(createInputReader(), "/nonexistent/pool.yaml");
      expect.fail("no error");
    } catch (e) {
      expect(e).to.be.instanceOf(InputError);
      expect((e as InputError).problems.map(formatProblem)).to.deep.equal([
        "/nonexistent/pool.yaml: cannot read: no such file or directory",
      ]);
    }
  });
});

describe("parseModelPoolObject", () => {
  const object = () => ({
    apiVersion: "tritonscale.dev/v1alpha1",
    kind: "ModelPool",
    metadata: {
      name: "yolo-detect",
      namespace: "vision",
      uid: "0b1c",
      resourceVersion: "42",
      generation: 3,
      managedFields: [],
    },
    spec: {
      models: [{ name: "yolov8s", template: "yolov8-onnx", imageSize: 640, classes: 80 }],
      slo: { latencyP99Ms: 85 },
    },
    status: { replicas: 2 },
  });

  it("accepts a custom resource as the API server returns it", () => {
    const r = parseModelPoolObject(object(), "modelpool vision/yolo-detect");
    expect(r.problems).to.deep.equal([]);
    expect(r.policy?.spec.scaling.idleWindowSeconds).to.equal(600);
    expect(r.policy?.source.positionOf("spec.models[0].template")).to.equal(undefined);
  });

  it("reports problems without positions, naming the resource", () => {
    const o = object();
    (o.spec.models[0] as Record<string, unknown>).imageSize = 650;
    const r = parseModelPoolObject(o, "modelpool vision/yolo-detect");
    expect(r.problems.map(formatProblem)).to.deep.equal([
      "modelpool vision/yolo-detect: spec.models[0].imageSize: must be a multiple of 32 (got 650; nearest valid: 640 or 672)",
    ]);
  });
});

describe("formatPath / parsePath", () => {
  const rows: { name: string; segments: PathSegment[]; path: string }[] = [
    { name: "root", segments: [], path: "" },
    { name: "keys", segments: ["spec", "slo", "latencyP99Ms"], path: "spec.slo.latencyP99Ms" },
    {
      name: "indices",
      segments: ["spec", "models", 0, "batching", "preferredBatchSizes", 1],
      path: "spec.models[0].batching.preferredBatchSizes[1]",
    },
    {
      name: "keys that are not identifiers",
      segments: ["spec", "capacity", "nodeSelector", "cloud.google.com/gke-spot"],
      path: 'spec.capacity.nodeSelector["cloud.google.com/gke-spot"]',
    },
  ];
  for (const row of rows) {
    it(`round-trips ${row.name}`, () => {
      expect(formatPath(row.segments)).to.equal(row.path);
      expect(parsePath(row.path)).to.deep.equal(row.segments);
    });
  }

  it("rejects a malformed path", () => {
    expect(() => parsePath("spec..models")).to.throw(/malformed policy path "spec\.\.models"/);
  });
});
