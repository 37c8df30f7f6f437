"""Small inputs the data tests generate (nothing is copied into the repository)."""
from pathlib import Path

import cv2
import numpy as np
import pytest

from deblur3d import paths

VIDEOS = (paths.default_data_root() or Path("/nonexistent")) / "videos"


def write_avi(path, frames_rgb, fps=25):
    h, w = frames_rgb[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    assert writer.isOpened()
    for f in frames_rgb:
        writer.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def face_frames(n, clip="sadtalker-aoc", size=256):
    """n frames of a real clip, reduced; skips the test when the shared data is missing."""
    path = VIDEOS / f"{clip}.mp4"
    if not path.is_file():
        pytest.skip(f"{path} not available")
    cap, out = cv2.VideoCapture(str(path)), []
    while len(out) < n:
        ok, bgr = cap.read()
        assert ok
        out.append(cv2.resize(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), (size, size), interpolation=cv2.INTER_AREA))
    return out


def noise_frames(n, size=96, seed=0):
    return list(np.random.default_rng(seed).integers(0, 256, (n, size, size, 3), dtype=np.uint8))
