"""Image-quality and identity metrics of paper Tables 1 and 2, on single images (the
temporal ones: eval/temporal.py).

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

import numpy as np
from scipy import ndimage

from deblur3d.data.frames import as_uint8

SSIM_SIGMA, SSIM_RADIUS, SSIM_K1, SSIM_K2, PEAK = 1.5, 5, 0.01, 0.03, 255.0


def to255(image):
    image = np.asarray(image)
    if image.dtype == np.uint8:
        return image.astype(np.float64)
    return np.clip(image.astype(np.float64), 0.0, 1.0) * PEAK


def _pair(a, b, mask):
    a, b = to255(a), to255(b)
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
        rects = self.detector(as_uint8(image), self.upsample)
        if not rects:
            return None
        r = max(rects, key=lambda r: r.width() * r.height())
        return r.left(), r.top(), r.right(), r.bottom()

    def descriptor(self, image, box=None):
        """(128,) descriptor of the face in `box` (detected when None), or None without a face."""
        image = as_uint8(image)
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


def identity_scorer(encoder, sharp):
    """output -> identity similarity to `sharp`, in the box found once on the sharp frame."""
    box = encoder.detect(sharp) if encoder else None
    if box is None:
        return lambda image: float("nan")
    reference = encoder.descriptor(sharp, box)
    return lambda image: cosine(reference, encoder.descriptor(image, box))


OVERSHOOT_LEVELS = 10.0   # grey levels (0-255) of slack: noise and rounding are not artefacts
LUMA = np.array([0.299, 0.587, 0.114])


def overshoot(output, blurry, sharp, mask):
    """Share (%) of the face's pixels whose luminance leaves the range spanned by the blurry
    input and the sharp frame by more than OVERSHOOT_LEVELS: structure that neither has, as
    dark streaks or ringing. Deblurring moves a pixel from the input toward the sharp frame;
    past both is overshoot. NaN without a face."""
    mask = np.asarray(mask, bool)
    if not mask.any():
        return float("nan")
    o, b, s = (to255(image) @ LUMA for image in (output, blurry, sharp))
    outside = (o < np.minimum(b, s) - OVERSHOOT_LEVELS) | (o > np.maximum(b, s) + OVERSHOOT_LEVELS)
    return float(100.0 * outside[mask].mean())


def frame_metrics(output, sharp, mask, identity, blurry=None):
    """One frame's scores; `blurry` (the input's centre frame) for the overshoot (NaN without it)."""
    face = mask.any()
    return dict(psnr=psnr(output, sharp), ssim=ssim(output, sharp),
                face_psnr=psnr(output, sharp, mask) if face else float("nan"),
                face_ssim=ssim(output, sharp, mask) if face else float("nan"),
                identity=identity(output),
                overshoot=overshoot(output, blurry, sharp, mask) if blurry is not None else float("nan"))


METRICS = ("psnr", "ssim", "face_psnr", "face_ssim", "identity", "overshoot", "warp", "warp_sharp")


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
