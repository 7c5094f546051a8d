import { stringify } from "yaml";
import { loadModelPool, type Policy } from "../../controller/policy/index.js";

/**
 * A minimal valid ModelPool document: pool `vision/yolo` with one YOLOv8s model (`model`
 * merged over it) and an 85 ms SLO, `spec` merged over the spec.
 */
export function poolDocument(
  spec: Record<string, unknown> = {},
  model: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    apiVersion: "tritonscale.dev/v1alpha1",
    kind: "ModelPool",
    metadata: { name: "yolo", namespace: "vision" },
    spec: {
      models: [{ name: "yolov8s", template: "yolov8-onnx", imageSize: 640, classes: 80, ...model }],
      slo: { latencyP99Ms: 85 },
      ...spec,
    },
  };
}

/** {@link poolDocument}, loaded. */
export function minimalPool(
  spec: Record<string, unknown> = {},
  model: Record<string, unknown> = {},
): Policy {
  return loadModelPool(stringify(poolDocument(spec, model)), "pool.yaml");
}

/** A Spot pool on `provider` scaled by `engine`, with a schedule. */
export function pool(
  provider: string,
  engine: "keda" | "hpa",
  extra: Record<string, unknown> = {},
): Policy {
  return minimalPool({
    scaling: {
      engine,
      minReplicas: engine === "hpa" ? 1 : 0,
      maxReplicas: 8,
      schedules: [{ name: "morning", cron: "30 7 * * 1-5", duration: "2h", minReplicas: 3 }],
    },
    capacity: { provider, spot: { enabled: true, onDemandBase: 1 } },
    ...extra,
  });
}
