"""Triton Python-backend model: decode a raw YOLO head and run class-aware NMS.

Input  output0    [batch, 4 + C, A] (yolov8, yolo11) or [batch, A, 5 + C] (yolov5)
       letterbox  float32 [batch, 5]: scale, pad_x, pad_y, H, W (from preprocess)
Output num_dets int32 [batch, 1]; det_boxes float32 [batch, K, 4] (x1, y1, x2, y2 in
       original pixels); det_scores float32 [batch, K]; det_classes int32 [batch, K]
Written by tritonscale; needs only numpy (present in Triton's container).
"""

import json

import numpy as np

try:
    import triton_python_backend_utils as pb_utils
except ImportError:  # imported outside Triton (tests): only the numpy functions are used
    pb_utils = None


def decode(raw, family):
    """Raw head of one image -> (boxes xyxy [N, 4], scores [N], classes [N])."""
    raw = raw.astype(np.float32)
    if family == "yolov5":
        pred = raw  # [A, 5 + C]: cx, cy, w, h, objectness, class scores
        class_scores = pred[:, 5:] * pred[:, 4:5]
    else:
        pred = raw.T  # [A, 4 + C]: cx, cy, w, h, class scores
        class_scores = pred[:, 4:]
    classes = class_scores.argmax(axis=1)
    scores = class_scores[np.arange(len(classes)), classes]
    cx, cy, w, h = pred[:, 0], pred[:, 1], pred[:, 2], pred[:, 3]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    return boxes, scores, classes


def nms(boxes, scores, iou_threshold):
    """Indices of boxes kept by greedy NMS, best score first."""
    order = scores.argsort()[::-1]
    areas = (boxes[:, 2] - boxes[:, 0]).clip(0) * (boxes[:, 3] - boxes[:, 1]).clip(0)
    keep = []
    while order.size > 0:
        best = order[0]
        keep.append(best)
        rest = order[1:]
        x1 = np.maximum(boxes[best, 0], boxes[rest, 0])
        y1 = np.maximum(boxes[best, 1], boxes[rest, 1])
        x2 = np.minimum(boxes[best, 2], boxes[rest, 2])
        y2 = np.minimum(boxes[best, 3], boxes[rest, 3])
        inter = (x2 - x1).clip(0) * (y2 - y1).clip(0)
        iou = inter / np.maximum(areas[best] + areas[rest] - inter, 1e-9)
        order = rest[iou <= iou_threshold]
    return np.array(keep, dtype=np.int64)


def detect(raw, info, family, conf_threshold, iou_threshold, max_detections):
    """One image: (count, boxes [K, 4], scores [K], classes [K]) padded to K."""
    boxes, scores, classes = decode(raw, family)
    mask = scores > conf_threshold
    boxes, scores, classes = boxes[mask], scores[mask], classes[mask]
    # Class-aware NMS in one pass: shift each class's boxes far apart.
    offset = classes.astype(np.float32)[:, None] * (boxes.max(initial=0) + 1)
    keep = nms(boxes + offset, scores, iou_threshold)[:max_detections]
    scale, pad_x, pad_y, height, width = info
    kept = boxes[keep].copy()
    kept[:, [0, 2]] = ((kept[:, [0, 2]] - pad_x) / scale).clip(0, width)
    kept[:, [1, 3]] = ((kept[:, [1, 3]] - pad_y) / scale).clip(0, height)
    out_boxes = np.zeros((max_detections, 4), dtype=np.float32)
    out_scores = np.zeros(max_detections, dtype=np.float32)
    out_classes = np.zeros(max_detections, dtype=np.int32)
    n = len(keep)
    out_boxes[:n] = kept
    out_scores[:n] = scores[keep]
    out_classes[:n] = classes[keep]
    return n, out_boxes, out_scores, out_classes


class TritonPythonModel:
    def initialize(self, args):
        params = json.loads(args["model_config"])["parameters"]
        self.family = params["family"]["string_value"]
        self.max_detections = int(params["max_detections"]["string_value"])
        self.conf_threshold = float(params["conf_threshold"]["string_value"])
        self.iou_threshold = float(params["iou_threshold"]["string_value"])

    def execute(self, requests):
        responses = []
        for request in requests:
            raws = pb_utils.get_input_tensor_by_name(request, "output0").as_numpy()
            infos = pb_utils.get_input_tensor_by_name(request, "letterbox").as_numpy()
            results = [
                detect(raw, info, self.family, self.conf_threshold, self.iou_threshold, self.max_detections)
                for raw, info in zip(raws, infos)
            ]
            counts, boxes, scores, classes = zip(*results)
            responses.append(
                pb_utils.InferenceResponse(
                    output_tensors=[
                        pb_utils.Tensor("num_dets", np.array(counts, dtype=np.int32).reshape(-1, 1)),
                        pb_utils.Tensor("det_boxes", np.stack(boxes)),
                        pb_utils.Tensor("det_scores", np.stack(scores)),
                        pb_utils.Tensor("det_classes", np.stack(classes)),
                    ]
                )
            )
        return responses
