"""Triton Python-backend model: letterbox a camera frame for a YOLO detector.

Input  raw_image  uint8 [batch, H, W, 3] (RGB)
Output images     [batch, 3, S, S] in the detector's dtype, values in [0, 1]
       letterbox  float32 [batch, 5]: scale, pad_x, pad_y, H, W
Written by tritonscale; needs only numpy (present in Triton's container).
"""

import json

import numpy as np

try:
    import triton_python_backend_utils as pb_utils
except ImportError:  # imported outside Triton (tests): only the numpy functions are used
    pb_utils = None

PAD_VALUE = 114


def letterbox(image, size):
    """Resize (nearest neighbour, keeping aspect ratio) and pad to size x size.

    Returns (chw float32 array in [0, 1], [scale, pad_x, pad_y, height, width]).
    """
    height, width = image.shape[:2]
    scale = min(size / height, size / width)
    new_h = max(1, int(round(height * scale)))
    new_w = max(1, int(round(width * scale)))
    rows = np.minimum(((np.arange(new_h) + 0.5) / scale).astype(np.int64), height - 1)
    cols = np.minimum(((np.arange(new_w) + 0.5) / scale).astype(np.int64), width - 1)
    resized = image[rows][:, cols]
    canvas = np.full((size, size, 3), PAD_VALUE, dtype=np.uint8)
    pad_y = (size - new_h) // 2
    pad_x = (size - new_w) // 2
    canvas[pad_y : pad_y + new_h, pad_x : pad_x + new_w] = resized
    chw = canvas.transpose(2, 0, 1).astype(np.float32) / 255.0
    info = np.array([scale, pad_x, pad_y, height, width], dtype=np.float32)
    return chw, info


class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        self.size = int(config["parameters"]["image_size"]["string_value"])
        images = pb_utils.get_output_config_by_name(config, "images")
        self.dtype = pb_utils.triton_string_to_numpy(images["data_type"])

    def execute(self, requests):
        responses = []
        for request in requests:
            frames = pb_utils.get_input_tensor_by_name(request, "raw_image").as_numpy()
            tensors, infos = zip(*(letterbox(frame, self.size) for frame in frames))
            responses.append(
                pb_utils.InferenceResponse(
                    output_tensors=[
                        pb_utils.Tensor("images", np.stack(tensors).astype(self.dtype)),
                        pb_utils.Tensor("letterbox", np.stack(infos)),
                    ]
                )
            )
        return responses
