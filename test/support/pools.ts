import { stringify } from "yaml";
import { loadModelPool, type Policy } from "../../controller/policy/index.js";

/** A Spot pool on `provider` scaled by `engine`, with a schedule. */
export function pool(
  provider: string,
  engine: "keda" | "hpa",
  extra: Record<string, unknown> = {},
): Policy {
  return loadModelPool(
    stringify({
      apiVersion: "tritonscale.dev/v1alpha1",
      kind: "ModelPool",
      metadata: { name: "yolo", namespace: "vision" },
      spec: {
        models: [{ name: "yolov8s", template: "yolov8-onnx", imageSize: 640, classes: 80 }],
        slo: { latencyP99Ms: 85 },
        scaling: {
          engine,
          minReplicas: engine === "hpa" ? 1 : 0,
          maxReplicas: 8,
          schedules: [{ name: "morning", cron: "30 7 * * 1-5", duration: "2h", minReplicas: 3 }],
        },
        capacity: { provider, spot: { enabled: true, onDemandBase: 1 } },
        ...extra,
      },
    }),
    "pool.yaml",
  );
}
