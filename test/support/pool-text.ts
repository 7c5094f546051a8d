/**
 * A valid pool, one line per entry so the line numbers tests expect can be read off:
 * extra lines start at line 11; with 6 spaces of indent they belong to the model, with 2
 * to `spec`, with none to the document.
 */
const BASE = [
  "apiVersion: tritonscale.dev/v1alpha1", // 1
  "kind: ModelPool", // 2
  "metadata: { name: yolo-detect, namespace: vision }", // 3
  "spec:", // 4
  "  slo: { latencyP99Ms: 85 }", // 5
  "  models:", // 6
  "    - name: yolov8s", // 7
  "      template: yolov8-onnx", // 8
  "      imageSize: 640", // 9
  "      classes: 80", // 10
];

/** BASE with some lines replaced (by 1-based number) and `extra` lines appended. */
export function pool(replace: Record<number, string>, ...extra: string[]): string {
  const lines = BASE.map((l, i) => replace[i + 1] ?? l);
  return `${[...lines, ...extra].join("\n")}\n`;
}
