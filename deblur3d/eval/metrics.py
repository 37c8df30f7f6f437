"""Image-quality and identity metrics of paper Tables 1 and 2, on single images.

Images are (H, W, 3) RGB numpy arrays: float in [0, 1] (clipped to [0, 1] first, i.e. the
output as it would be saved, without quantisation) or uint8. Both metrics work on the
0-255 scale:

- PSNR: the mean squared error over all RGB values, peak 255; `inf` for identical images.
- SSIM: Wang et al. 2004 with an 11×11 Gaussian window (σ = 1.5), K1 = 0.01, K2 = 0.03,
  L = 255, population (not sample) covariances, computed per RGB channel and averaged over the
  map's valid region (pixels at least 5 from the border). This is the convention of
  `tf.image.ssim(a, b, max_val=255)` and of scikit-image's `structural_similarity(...,
  channel_axis=-1, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
  data_range=255)`.

`mask` (H, W) bool selects a face region: PSNR over the masked pixels, SSIM as the mean of its
map (averaged over channels) over the masked pixels of the valid region. An all-true mask
gives the whole-frame value.
"""
from pathlib import Path

import cv2
import numpy as np
from scipy import ndimage

from deblur3d.data import faces

SSIM_SIGMA, SSIM_RADIUS, SSIM_K1, SSIM_K2, PEAK = 1.5, 5, 0.01, 0.03, 255.0


def _to255(image):
    image = np.asarray(image)
    if image.dtype == np.uint8:
        return image.astype(np.float64)
    return np.clip(image.astype(np.float64), 0.0, 1.0) * PEAK


def _pair(a, b, mask):
    a, b = _to255(a), _to255(b)
    if a.shape != b.shape or a.ndim != 3 or a.shape[-1] != 3:
        raise ValueError(f"expected two (H, W, 3) images of one shape, got {a.shape} and {b.shape}")
    if mask is not None:
        mask = np.asarray(mask, bool)
        if mask.shape != a.shape[:2]:
            raise ValueError(f"mask of shape {mask.shape} for images of shape {a.shape}")
    return a, b, mask


def _masked_mean(values, mask):
    if mask is None:
        return values.mean()
    if not mask.any():
        raise ValueError("the mask selects no pixel")
    return values[mask].mean()


def psnr(a, b, mask=None):
    """PSNR in dB of two RGB images (module docstring), optionally over a face mask."""
    a, b, mask = _pair(a, b, mask)
    mse = _masked_mean(np.square(a - b).mean(-1), mask)
    return float("inf") if mse == 0 else float(10.0 * np.log10(PEAK ** 2 / mse))


def ssim_map(a, b):
    """(H - 10, W - 10) SSIM map averaged over the RGB channels (module docstring)."""
    a, b, _ = _pair(a, b, None)
    if min(a.shape[:2]) <= 2 * SSIM_RADIUS:
        raise ValueError(f"SSIM needs images larger than 11×11, got {a.shape[:2]}")

    # Filtering the whole image and cutting the border = a 'valid' convolution (tf.image.ssim).
    def local_mean(x):
        r = SSIM_RADIUS
        smooth = ndimage.gaussian_filter(x, (SSIM_SIGMA, SSIM_SIGMA, 0), truncate=r / SSIM_SIGMA)
        return smooth[r:-r, r:-r]

    c1, c2 = (SSIM_K1 * PEAK) ** 2, (SSIM_K2 * PEAK) ** 2
    mu_a, mu_b = local_mean(a), local_mean(b)
    var_a = local_mean(a * a) - mu_a * mu_a
    var_b = local_mean(b * b) - mu_b * mu_b
    cov = local_mean(a * b) - mu_a * mu_b
    value = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))
    return value.mean(-1)


def ssim(a, b, mask=None):
    """SSIM of two RGB images (module docstring), optionally over a face mask."""
    if mask is not None:
        _pair(a, b, mask)
        r = SSIM_RADIUS
        mask = np.asarray(mask, bool)[r:-r, r:-r]
    return float(_masked_mean(ssim_map(a, b), mask))


def _uint8(image):
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = np.round(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)
    return np.ascontiguousarray(image)


def cosine(a, b):
    """Cosine similarity of two descriptors."""
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


class IdentityEncoder:
    """dlib's 128-D face descriptor (the face-recognition ResNet of paper ref. [47]).

    A face is found by dlib's HOG detector (largest face) unless a box (x0, y0, x1, y1) in
    pixels is given; its 5 points (dlib's own 5-point model, which the descriptor was trained
    with) align the chip the descriptor sees.
    """

    FILES = ("dlib_face_recognition_resnet_model_v1.dat", "shape_predictor_5_face_landmarks.dat")

    def __init__(self, models_dir=None, upsample=1):
        import dlib  # only evaluation needs dlib
        from deblur3d.data.faces import models_dir as default_models_dir

        folder = default_models_dir() if models_dir is None else Path(models_dir)
        missing = [name for name in self.FILES if not (folder / name).is_file()]
        if missing:
            raise FileNotFoundError(f"dlib model files {missing} not found in {folder}: install "
                                    "face_recognition_models (requirements.txt) or pass models_dir")
        self._dlib, self.upsample = dlib, upsample
        self.detector = dlib.get_frontal_face_detector()
        self.predictor = dlib.shape_predictor(str(folder / self.FILES[1]))
        self.encoder = dlib.face_recognition_model_v1(str(folder / self.FILES[0]))

    def detect(self, image):
        """The largest face's box (x0, y0, x1, y1), or None."""
        rects = self.detector(_uint8(image), self.upsample)
        if not rects:
            return None
        r = max(rects, key=lambda r: r.width() * r.height())
        return r.left(), r.top(), r.right(), r.bottom()

    def descriptor(self, image, box=None):
        """(128,) descriptor of the face in `box` (detected when None), or None without a face."""
        image = _uint8(image)
        box = self.detect(image) if box is None else box
        if box is None:
            return None
        shape = self.predictor(image, self._dlib.rectangle(*(int(round(v)) for v in box)))
        return np.array(self.encoder.compute_face_descriptor(image, shape), np.float64)

    def similarity(self, a, b, box=None):
        """Cosine similarity of the faces of `a` (the sharp frame) and `b`, or nan without a face.

        Both descriptors use the same box, detected on `a` when not given (paper Table 2), so a
        blurry `b` is not penalised for a failed detection; the 5 points are found per image.
        """
        box = self.detect(a) if box is None else box
        if box is None:
            return float("nan")
        da, db = self.descriptor(a, box), self.descriptor(b, box)
        return cosine(da, db)


FIVE_POINT_FACE_SCALE = 2.0   # the 5 points' hull x2 has the 68 points' hull area to +-10% on val


def face_mask(shape, points68=None, points5=None):
    """(H, W) bool: hull of the 68 points, else of the 5 points scaled about their centroid."""
    if points68 is not None:
        points = np.asarray(points68, np.float32)
    else:
        p = np.asarray(points5, np.float32)
        points = p.mean(0) + FIVE_POINT_FACE_SCALE * (p - p.mean(0))
    return faces.hull_mask(points, shape)


def identity_scorer(encoder, sharp):
    """output -> identity similarity to `sharp`, in the box found once on the sharp frame."""
    box = encoder.detect(sharp) if encoder else None
    if box is None:
        return lambda image: float("nan")
    reference = encoder.descriptor(sharp, box)
    return lambda image: cosine(reference, encoder.descriptor(image, box))


def frame_metrics(output, sharp, mask, identity):
    face = mask.any()
    return dict(psnr=psnr(output, sharp), ssim=ssim(output, sharp),
                face_psnr=psnr(output, sharp, mask) if face else float("nan"),
                face_ssim=ssim(output, sharp, mask) if face else float("nan"),
                identity=identity(output))


METRICS = ("psnr", "ssim", "face_psnr", "face_ssim", "identity", "warp", "warp_sharp")


def summarize(records):
    """{(dataset, method): mean of each metric over frames, NaNs (no face) left out, + counts}."""
    groups = {}
    for r in records:
        groups.setdefault((r["dataset"], r["method"]), []).append(r)
    out = {}
    for group, rows in groups.items():
        values = {k: np.array([r[k] for r in rows], np.float64) for k in METRICS}
        out[group] = {k: float(np.nanmean(v)) if np.isfinite(v).any() else float("nan") for k, v in values.items()}
        out[group].update(frames=len(rows), identity_frames=int(np.isfinite(values["identity"]).sum()))
    return out


# --- temporal consistency ----------------------------------------------------------------
#
# Warping error (Lai et al. 2018): the previous output frame, warped onto the current one by
# the motion of the SHARP frames, should equal the current output where that motion is
# reliable. The flow comes from the ground truth so every method is judged with one flow.

FB_TOLERANCE = (0.01, 0.5)   # forward-backward check: |f1 + f2|² <= a (|f1|² + |f2|²) + b


def _grey(image):
    return cv2.cvtColor(_uint8(image), cv2.COLOR_RGB2GRAY)


def flow(a, b):
    """(H, W, 2) float32 DIS flow from RGB frame `a` to `b`: a[y, x] ~ b[y + dy, x + dx]."""
    if np.shape(a) != np.shape(b):
        raise ValueError(f"frames of shapes {np.shape(a)} and {np.shape(b)}")
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    return dis.calc(_grey(a), _grey(b), None).astype(np.float32)


def warp(image, flow):
    """Backward warp: out[y, x] = image[y + flow[y, x, 1], x + flow[y, x, 0]] (bilinear)."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = image.astype(np.float32)   # cv2.remap's float type
    h, w = flow.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    return cv2.remap(image, xs + flow[..., 0], ys + flow[..., 1], cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)


def consistent_flow(prev_sharp, sharp, tolerance=FB_TOLERANCE):
    """(flow current -> previous, (H, W) bool mask of pixels passing the forward-backward check).

    The flow warps the previous frame onto the current one. A pixel is kept when going there
    and back returns it to itself (Sundaram et al. 2010: occlusions and flow errors fail) and
    its match lies inside the previous frame. This pair is the `motion` of `warping_error`.
    """
    f1 = flow(sharp, prev_sharp)
    f2 = warp(flow(prev_sharp, sharp), f1)   # backward flow at the matched pixel
    a, b = tolerance
    f1_sq, f2_sq = np.square(f1).sum(-1), np.square(f2).sum(-1)
    valid = np.square(f1 + f2).sum(-1) <= a * (f1_sq + f2_sq) + b
    h, w = f1.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w]
    x, y = xs + f1[..., 0], ys + f1[..., 1]
    return f1, valid & (x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)


def warping_error(prev_out, out, prev_sharp=None, sharp=None, region=None, motion=None):
    """Mean |out - warp(prev_out)| on the 0-255 scale over reliable pixels (∩ region), or nan.

    `motion` = consistent_flow(prev_sharp, sharp), to compute it once for several methods.
    """
    prev_out, out = _to255(prev_out), _to255(out)
    if prev_out.shape != out.shape:
        raise ValueError(f"output frames of shapes {prev_out.shape} and {out.shape}")
    if motion is None:
        if prev_sharp is None or sharp is None:
            raise ValueError("give the sharp frames or their precomputed motion")
        motion = consistent_flow(prev_sharp, sharp)
    f, valid = motion
    if f.shape[:2] != out.shape[:2]:
        raise ValueError(f"flow of shape {f.shape} for frames of shape {out.shape}")
    if region is not None:
        valid = valid & np.asarray(region, bool)
    if not valid.any():
        return float("nan")
    diff = np.abs(out - warp(prev_out, f)).mean(-1)
    return float(diff[valid].mean())


class ClipWarping:
    """Warping error of consecutive scored frames of one clip, for several methods at once:
    `score(clip, sharp, outputs, region)` -> ({name: error}, the sharp frames' own error),
    nan for a clip's first frame. The flow between the sharp frames is computed once."""

    def __init__(self):
        self.clip, self.sharp, self.outputs = None, None, {}

    def score(self, clip, sharp, outputs, region=None):
        previous = self.sharp if clip == self.clip else None
        errors, floor = {name: float("nan") for name in outputs}, float("nan")
        if previous is not None:
            motion = consistent_flow(previous, sharp)
            errors = {name: warping_error(self.outputs[name], out, region=region, motion=motion)
                      for name, out in outputs.items()}
            floor = warping_error(previous, sharp, region=region, motion=motion)
        self.clip, self.sharp, self.outputs = clip, sharp, dict(outputs)
        return errors, floor


def paired_difference(a, b, confidence=0.95):
    """Mean of a - b over paired values (NaN pairs left out) and the half-width of its
    t-interval -> (mean, half width, pairs); NaN where fewer than 2 pairs."""
    from scipy import stats
    d = np.asarray(a, np.float64) - np.asarray(b, np.float64)
    d = d[np.isfinite(d)]
    if len(d) < 2:
        return float("nan"), float("nan"), len(d)
    half = stats.t.ppf(0.5 + confidence / 2, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    return float(d.mean()), float(half), len(d)
