"""Table 3: seconds per frame of each method on random input of given sizes, priors included."""
import os
import time

import numpy as np
from tqdm import tqdm


def random_frame(height, width, rng):
    """Random 5-frame stack and five points of a plausible face at the frame's centre."""
    blurry = rng.uniform(size=(1, height, width, 15)).astype(np.float32)
    unit = np.array([[-.2, -.15], [.2, -.15], [0, .05], [-.15, .25], [.15, .25]], np.float32)
    points5 = np.array([width / 2, height / 2], np.float32) + unit * min(height, width) * 0.8
    return blurry, points5[None]


def time_methods(methods, sizes, repeats=2, seed=0):
    """{method name: [seconds per frame at each size]}, each model's own priors included
    (NaN where they are unavailable)."""
    rng = np.random.default_rng(seed)
    seconds = {m.name: [] for m in methods if m.face}
    steps = tqdm(total=len(sizes) * len(seconds), desc="timing", unit="model")
    for height, width in sizes:
        blurry, points5 = random_frame(height, width, rng)
        for m in methods:
            if not m.face:
                continue
            if m.needs_priors and not m.online.available():
                seconds[m.name].append(float("nan"))
                steps.update()
                continue

            def once():
                priors = m.online(blurry, points5) if m.needs_priors else (None, None)
                return m(blurry, points5, *priors)

            once()   # traces the graphs for this size
            start = time.perf_counter()
            for _ in range(repeats):
                once()
            seconds[m.name].append((time.perf_counter() - start) / repeats)
            steps.update()
    steps.close()
    return seconds


def cpu_count():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
