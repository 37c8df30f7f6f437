"""Skin attention A of the rendering loss (docs/reproduction.md §4): P(skin | colour) per pixel.

As in Deng et al. [6], a naive Bayes classifier over two Gaussian mixtures in YCbCr, one for
skin and one for non-skin, with prior 0.8 for skin. We fit ours on our own crops: skin
samples from inside the landmark face hull, non-skin samples from well outside it.

Colour space: ITU-R BT.601 full range, exactly OpenCV's COLOR_RGB2YCrCb for float input
(Y = .299R + .587G + .114B, Cr = .713(R - Y) + .5, Cb = .564(B - Y) + .5) times 255, stored
in Y, Cb, Cr order. All three channels span 0-255 (no 16-235 studio range).
"""
import dataclasses
from pathlib import Path

import cv2
import numpy as np
import tensorflow as tf

# RGB in [0, 1] -> (Y, Cb, Cr) in [0, 255]: ycc = 255 * (rgb @ _RGB_TO_YCC.T + _YCC_OFFSET).
_Y = np.array([0.299, 0.587, 0.114])
_RGB_TO_YCC = np.stack([_Y, 0.564 * (np.eye(3)[2] - _Y), 0.713 * (np.eye(3)[0] - _Y)])
_YCC_OFFSET = np.array([0.0, 0.5, 0.5])
_KEYS = ("weights", "means", "covariances")


def rgb_to_ycbcr(rgb):
    """(..., 3) RGB -> (..., 3) Y, Cb, Cr on the 0-255 scale (float64 numpy)."""
    return 255.0 * (np.asarray(rgb, np.float64) @ _RGB_TO_YCC.T + _YCC_OFFSET)


def _as_unit_rgb(pixels, what):
    """uint8 pixels are 0-255, float pixels are taken to be in [0, 1]."""
    p = np.asarray(pixels)
    if p.ndim != 2 or p.shape[1] != 3 or len(p) == 0:
        raise ValueError(f"{what}: expected (N, 3) RGB pixels, got shape {p.shape}")
    return p / 255.0 if p.dtype == np.uint8 else p.astype(np.float64)


def _fit_mixture(ycc, components, seed):
    em = cv2.ml.EM_create()
    em.setClustersNumber(components)
    em.setCovarianceMatrixType(cv2.ml.EM_COV_MAT_GENERIC)
    # OpenCV's 100 iterations; stopping at a relative log-likelihood change of 1e-4 instead of
    # 1e-6 fits 50k pixels 3x faster for 0.03 nats/pixel less on our crops.
    em.setTermCriteria((cv2.TERM_CRITERIA_COUNT + cv2.TERM_CRITERIA_EPS, 100, 1e-4))
    cv2.setRNGSeed(seed)   # EM starts from k-means, which draws from OpenCV's global RNG
    ok, *_ = em.trainEM(ycc.astype(np.float32))
    if not ok:
        raise RuntimeError(f"cv2.ml.EM failed to fit {components} components to {len(ycc)} pixels")
    return em.getWeights().reshape(-1), em.getMeans(), np.stack(em.getCovs())


def _log_density(x, weights, means, covariances):
    """log Σ_k w_k N(x; μ_k, Σ_k) for x (..., 3) float32, by log-sum-exp over components.

    Σ⁻¹ = L Lᵀ with L = chol(Σ)⁻ᵀ, so the Mahalanobis term is |(x − μ) L|²; the per-component
    constants are folded in float64 before the cast, so float32 only sees the quadratic form.
    """
    chol = np.linalg.cholesky(covariances)
    prec = np.transpose(np.linalg.inv(chol), (0, 2, 1))                  # (K, 3, 3) = L
    const = np.log(weights) - 1.5 * np.log(2 * np.pi) - np.log(np.diagonal(chol, 0, 1, 2)).sum(-1)
    diff = x[..., None, :] - tf.constant(means, tf.float32)               # (..., K, 3)
    z = tf.einsum("...ki,kij->...kj", diff, tf.constant(prec, tf.float32))
    return tf.reduce_logsumexp(tf.constant(const, tf.float32) - 0.5 * tf.reduce_sum(z * z, -1), -1)


@dataclasses.dataclass(frozen=True, eq=False)
class SkinModel:
    """Two Gaussian mixtures over (Y, Cb, Cr) in 0-255: weights (K,), means (K, 3),
    covariances (K, 3, 3) for skin and non-skin (each with its own K), and P(skin)."""
    skin_weights: np.ndarray
    skin_means: np.ndarray
    skin_covariances: np.ndarray
    nonskin_weights: np.ndarray
    nonskin_means: np.ndarray
    nonskin_covariances: np.ndarray
    skin_prior: float = 0.8

    def __post_init__(self):
        for cls in ("skin", "nonskin"):
            w, m, c = (np.asarray(getattr(self, f"{cls}_{k}"), np.float64) for k in _KEYS)
            k = len(w)
            if w.shape != (k,) or m.shape != (k, 3) or c.shape != (k, 3, 3) or k == 0:
                raise ValueError(f"{cls} mixture: expected weights (K,), means (K, 3), covariances "
                                 f"(K, 3, 3), got {w.shape}, {m.shape}, {c.shape}")
            for key, value in zip(_KEYS, (w, m, c)):
                object.__setattr__(self, f"{cls}_{key}", value)
        if not 0.0 < float(self.skin_prior) < 1.0:
            raise ValueError(f"skin_prior must be in (0, 1), got {self.skin_prior}")
        object.__setattr__(self, "skin_prior", float(self.skin_prior))

    @property
    def components(self):
        return len(self.skin_weights), len(self.nonskin_weights)

    @classmethod
    def fit(cls, skin_pixels_rgb, nonskin_pixels_rgb, components=8, skin_prior=0.8, seed=0):
        """Fits both mixtures with cv2.ml.EM (full covariances) on (N, 3) RGB pixels,
        uint8 in 0-255 or float in [0, 1]. `components` is an int or a (skin, non-skin) pair."""
        ks = (components, components) if np.isscalar(components) else tuple(components)
        skin = _fit_mixture(rgb_to_ycbcr(_as_unit_rgb(skin_pixels_rgb, "skin pixels")), ks[0], seed)
        nonskin = _fit_mixture(rgb_to_ycbcr(_as_unit_rgb(nonskin_pixels_rgb, "non-skin pixels")), ks[1], seed)
        return cls(*skin, *nonskin, skin_prior=skin_prior)

    def probability(self, images):
        """(B, H, W, 3) float RGB in [0, 1] -> (B, H, W, 1) float32 P(skin | colour).

        Plain TF ops (fine inside tf.function); no gradient flows to the images.
        """
        rgb = tf.stop_gradient(tf.cast(images, tf.float32))
        ycc = 255.0 * (tf.tensordot(rgb, tf.constant(_RGB_TO_YCC.T, tf.float32), 1)
                       + tf.constant(_YCC_OFFSET, tf.float32))
        # Posterior = sigmoid of the log odds: stable where both densities underflow.
        log_odds = (np.log(self.skin_prior / (1.0 - self.skin_prior))
                    + _log_density(ycc, self.skin_weights, self.skin_means, self.skin_covariances)
                    - _log_density(ycc, self.nonskin_weights, self.nonskin_means, self.nonskin_covariances))
        return tf.sigmoid(log_odds)[..., None]

    def save(self, path):
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {f.name: np.asarray(getattr(self, f.name)) for f in dataclasses.fields(self)}
        with open(path, "wb") as f:   # a file object, so numpy does not append ".npz"
            np.savez(f, **arrays)

    @classmethod
    def load(cls, path):
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no skin model at {path}: fit one with experiments/fit_skin.py")
        names = [f.name for f in dataclasses.fields(cls)]
        try:
            with np.load(path, allow_pickle=False) as data:
                missing = sorted(set(names) - set(data.files))
                if missing:
                    raise ValueError(f"missing arrays {', '.join(missing)}")
                values = {n: data[n] for n in names}
            values["skin_prior"] = float(values["skin_prior"])
            return cls(**values)
        except Exception as err:   # not a zip, pickled objects, wrong shapes: one line says which file
            reason = (str(err) or type(err).__name__).splitlines()[0]
            raise ValueError(f"{path} is not a valid skin model file: {reason}") from None


# 68-point (iBUG / Multi-PIE) groups, 0-based.
_JAW, _BROWS = np.arange(0, 17), np.arange(17, 27)
_EYES = (np.arange(36, 42), np.arange(42, 48))
_MOUTH = np.arange(48, 60)


def face_region_masks(points68, size):
    """(68, 2) x, y points in a crop of `size` (side, or (height, width); the authors' 300VW
    frames are not square) -> (skin, nonskin) boolean masks of that shape.

    Skin: the convex hull of jaw and brows, slightly eroded, minus the eyes, brows and mouth
    (each grown a little: lashes, lips and brow hair are not skin). Non-skin: outside the hull
    grown by 30% of the face size (past ears and hairline blur) and not below the chin between
    the jaw's sides (the neck is skin). Both are sampling masks, so purity matters more than cover.
    """
    p = np.asarray(points68, np.float64)
    if p.shape != (68, 2):
        raise ValueError(f"expected (68, 2) points, got {p.shape}")
    height, width = (size, size) if np.isscalar(size) else size
    face = float(np.mean(p.max(0) - p.min(0)))

    def disk(fraction):
        r = max(1, int(round(fraction * face)))
        return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))

    def ints(q):
        return np.round(q).astype(np.int32)

    hull = np.zeros((height, width), np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(ints(p[np.r_[_JAW, _BROWS]])), 1)
    parts = np.zeros_like(hull)
    for eye in _EYES:
        cv2.fillConvexPoly(parts, cv2.convexHull(ints(p[eye])), 1)
    cv2.fillPoly(parts, [ints(p[_MOUTH])], 1)
    thick = max(2, int(round(0.06 * face)))
    for brow in (_BROWS[:5], _BROWS[5:]):
        cv2.polylines(parts, [ints(p[brow])], False, 1, thickness=thick)
    skin = cv2.erode(hull, disk(0.03)) & ~cv2.dilate(parts, disk(0.05)).astype(bool)

    neck = np.zeros_like(hull)
    left, right = p[3], p[13]
    cv2.fillConvexPoly(neck, ints([left, right, [right[0], 2 * height], [left[0], 2 * height]]), 1)
    nonskin = ~cv2.dilate(hull, disk(0.3)).astype(bool) & ~neck.astype(bool)
    return skin.astype(bool), nonskin
