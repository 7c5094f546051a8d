import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { expect } from "chai";
import { projectRoot } from "../support/reference.js";
import { requireTool, systemPython } from "../support/tools.js";

/**
 * The ensemble's Python models (repo-templates/_base/ensemble/*.py) run inside Triton's
 * Python backend; their numpy parts are checked here with Debian's numpy.
 */
const SCRIPT = `
import json, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
from preprocess import letterbox
from postprocess import detect

out = {}
img = np.full((480, 640, 3), 200, dtype=np.uint8)
chw, info = letterbox(img, 640)
out["shape"] = list(chw.shape)
out["info"] = info.tolist()
out["pad"] = float(chw[0, 0, 0])
out["inside"] = float(chw[0, 320, 320])

# yolov8 head, 3 classes, 6 cells: rows cx, cy, w, h, c0, c1, c2
raw = np.zeros((7, 6), dtype=np.float32)
def put(col, box, cls, score):
    raw[0:4, col] = box
    raw[4 + cls, col] = score
put(0, [100, 180, 40, 40], 1, 0.9)
put(1, [102, 181, 40, 40], 1, 0.8)   # overlaps box 0, same class: suppressed
put(2, [100, 180, 40, 40], 2, 0.7)   # same place, other class: kept
put(3, [400, 300, 20, 20], 0, 0.1)   # below the confidence threshold
info8 = np.array([1.0, 0.0, 80.0, 480.0, 640.0], dtype=np.float32)
n, boxes, scores, classes = detect(raw, info8, "yolov8", 0.25, 0.45, 100)
out["v8"] = {"n": int(n), "boxes": boxes[:n].tolist(), "scores": scores[:n].tolist(), "classes": classes[:n].tolist(), "k": len(scores)}

# yolov5 head: one row per anchor, cx, cy, w, h, objectness, c0, c1
raw5 = np.zeros((4, 7), dtype=np.float32)
raw5[0] = [50, 50, 20, 20, 0.9, 0.1, 1.0]
raw5[1] = [52, 50, 20, 20, 0.5, 0.1, 1.0]
raw5[2] = [300, 200, 10, 10, 0.2, 1.0, 0.0]
n5, boxes5, scores5, classes5 = detect(raw5, np.array([0.5, 0, 0, 1000, 1000], dtype=np.float32), "yolov5", 0.25, 0.45, 10)
out["v5"] = {"n": int(n5), "boxes": boxes5[:n5].tolist(), "scores": scores5[:n5].tolist(), "classes": classes5[:n5].tolist()}
print(json.dumps(out))
`;

interface Detections {
  n: number;
  boxes: number[][];
  scores: number[];
  classes: number[];
  k?: number;
}

describe("ensemble Python models (numpy parts)", () => {
  let result: {
    shape: number[];
    info: number[];
    pad: number;
    inside: number;
    v8: Detections;
    v5: Detections;
  };

  before(function () {
    requireTool(this, "numpy for /usr/bin/python3", "python3-numpy", systemPython, [
      "-c",
      "import numpy",
    ]);
    const r = spawnSync(
      systemPython,
      ["-c", SCRIPT, join(projectRoot, "repo-templates", "_base", "ensemble")],
      {
        encoding: "utf8",
      },
    );
    if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
    result = JSON.parse(r.stdout);
  });

  it("letterboxes a 640x480 frame into 640x640 with grey bars top and bottom", () => {
    expect(result.shape).to.deep.equal([3, 640, 640]);
    expect(result.info).to.deep.equal([1, 0, 80, 480, 640]);
    expect(result.pad).to.be.closeTo(114 / 255, 1e-6);
    expect(result.inside).to.be.closeTo(200 / 255, 1e-6);
  });

  it("decodes a YOLOv8 head, applies class-aware NMS and maps boxes back to the frame", () => {
    expect(result.v8.n).to.equal(2);
    expect(result.v8.k).to.equal(100);
    expect(result.v8.classes).to.deep.equal([1, 2]);
    expect(result.v8.scores[0]).to.be.closeTo(0.9, 1e-6);
    expect(result.v8.scores[1]).to.be.closeTo(0.7, 1e-6);
    // cx 100, cy 180, 40x40 in letterboxed space; pad_y 80 → (80, 80)-(120, 120) in the frame
    expect(result.v8.boxes[0]).to.deep.equal([80, 80, 120, 120]);
  });

  it("decodes a YOLOv5 head with objectness × class score and unscales by the letterbox", () => {
    expect(result.v5.n).to.equal(1);
    expect(result.v5.classes).to.deep.equal([1]);
    expect(result.v5.scores[0]).to.be.closeTo(0.9, 1e-6);
    // (40, 40)-(60, 60) at scale 0.5 → (80, 80)-(120, 120)
    expect(result.v5.boxes[0]).to.deep.equal([80, 80, 120, 120]);
  });
});
