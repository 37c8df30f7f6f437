"""The 3D priors of a face along its track, steady from frame to frame.

ReconNet runs once per frame on the frame's own crop, as in training; then, per track, pose,
expression and light are smoothed over the frames either side (video/smoothing.py: jitter
removed, real moves kept) and identity and texture are held at their mean over the frames
seen so far: a person's face shape does not change between frames, ReconNet's estimate of it
does. Light and texture, where they are fitted to the frame, are fitted on one frame in
`texture_every` (priors/texture.py: TextureHold). The render is drawn from the smoothed
coefficients where the frame's points put it.
"""
import numpy as np

from deblur3d.face.coeffs import SLICES
from deblur3d.priors.texture import TextureHold
from deblur3d.video import smoothing

SMOOTHED = ("rotation", "translation", "expression", "light")   # smoothed separately: different units
HELD = ("identity", "texture")
HISTORY = 64   # frames of coefficients kept per track, for the jitter estimate


class TrackPriors:
    """priors(t, points5, size) -> render (1, size, size, 3), identity (1, 80) of one face.
    `add(i, crop, points5)` first for every frame of the window about t."""

    def __init__(self, online, config=smoothing.Smoothing(), texture_every=1):
        self.online, self.config = online, config
        self.hold = TextureHold(texture_every)
        self.coeffs, self.albedo, self.held_sum, self.held_count = {}, {}, 0.0, 0

    def add(self, i, crop, points5, points68=None):
        """Frame i's crop, its five points and (for landmark refinement) its tracked 68 points."""
        if i in self.coeffs:
            return
        points5 = np.asarray(points5, np.float32)[None]
        if getattr(self.online, "fitting", False):   # refined to the points, texture fitted to the crop
            c, albedo = self.online.fit(crop[None], points5, None if points68 is None else np.asarray(points68)[None],
                                        hold=self.hold)
            if albedo is not None:
                self.albedo[i] = albedo
        else:
            c = self.online.coefficients(crop[None], points5)
        c = c[0].astype(np.float64)
        self.coeffs[i] = c
        self.held_sum, self.held_count = self.held_sum + c, self.held_count + 1
        for old in sorted(self.coeffs)[:-HISTORY]:
            del self.coeffs[old]
            self.albedo.pop(old, None)

    def coefficients(self, t):
        c = self.coeffs[t].copy()
        r = self.config.radius
        if r:
            frames = sorted(self.coeffs)
            history = np.stack([self.coeffs[i] for i in frames])
            window = [k for k, i in enumerate(frames) if abs(i - t) <= r]
            centre = frames.index(t) - window[0]
            for name in SMOOTHED:
                part = history[:, SLICES[name]]
                # The jitter is estimated on the whole history: a 5-frame window is too short for it.
                sigma_v = smoothing.RANGE_NOISE_SCALE * smoothing.jitter(part)
                c[SLICES[name]] = self.config(part[window], sigma_v)[centre]
        if self.config.hold_identity:
            mean = self.held_sum / self.held_count
            for name in HELD:
                c[SLICES[name]] = mean[SLICES[name]]
        return c.astype(np.float32)

    def __call__(self, t, points5, size):
        c = self.coefficients(t)
        render = self.online.render(c[None], np.asarray(points5, np.float32)[None], size, size, self.albedo.get(t))
        return np.asarray(render), c[None, SLICES["identity"]]
