"""An open albedo basis for the ICT model, learned from our training frames.

ICT ships no albedo. For sharp frames of each training identity, the geometry is fitted to
the frame's 68 points (refine.py), the frame's colour under each visible vertex is divided
by the fitted shading (texture.py, "frame"), and the principal components of these
per-frame albedos, scaled by their standard deviation so that δ ~ N(0, 1) like the BFM's,
form the basis. Frames, not identity means: 15 identities give 14 components at most,
while their frames (head turns, expressions, light the SH model does not explain) give as
many as the 80 slots hold. Three more components shift the skin's colour as a whole, one
per channel, so that skin tones our few identities lack stay within reach (not in [6],
whose BFM was scanned from 200 people). Only skin vertices are learned; the eyeballs and
the mouth keep their constant colours.
"""
import numpy as np

TONE_STD = 0.08   # per-channel spread of the skin-tone components (albedo units, 0..1)


def build_basis(albedos, constant_albedo, skin_mask, components=80, tone_std=TONE_STD):
    """(N, V, 3) per-frame albedos -> mean (V, 3), components (K, V, 3) scaled by their std:
    3 skin-tone components first (with tone_std > 0), then principal components, K ≤ `components`."""
    n = len(albedos)
    flat = albedos[:, skin_mask].reshape(n, -1).astype(np.float64)
    mean = flat.mean(0)
    _, s, vt = np.linalg.svd(flat - mean, full_matrices=False)
    tones = 3 if tone_std > 0 else 0
    k = max(min(n - 1, components - tones, len(s)), 0)
    principal = vt[:k] * (s[:k, None] / np.sqrt(max(n - 1, 1)))
    tone = np.zeros((tones, int(skin_mask.sum()), 3))
    for c in range(tones):
        tone[c, :, c] = tone_std
    tone = tone.reshape(tones, -1) if tones else np.zeros((0, principal.shape[1]))
    mean_albedo = constant_albedo.copy()
    mean_albedo[skin_mask] = mean.reshape(-1, 3)
    basis = np.zeros((tones + k,) + constant_albedo.shape, np.float32)
    basis[:, skin_mask] = np.concatenate([tone, principal]).reshape(tones + k, -1, 3)
    return np.clip(mean_albedo, 0, 1).astype(np.float32), basis
