"""experiments/blur_headroom.py: the colour-shared layout of the linear fit."""
import importlib.util
import sys
from pathlib import Path

import numpy as np

SCRIPT = Path(__file__).resolve().parents[1] / "experiments" / "blur_headroom.py"


def load_script():
    if str(SCRIPT.parent) not in sys.path:   # the script imports its sibling modules (cli, data_flags)
        sys.path.insert(0, str(SCRIPT.parent))
    spec = importlib.util.spec_from_file_location("blur_headroom", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_by_colour_gives_each_colour_its_own_frames():
    by_colour = load_script().by_colour
    n, k2 = 4, 9
    pixel, position, frame, colour = np.meshgrid(np.arange(n), np.arange(k2), np.arange(5), np.arange(3),
                                                 indexing="ij")
    code = 1000 * pixel + 100 * position + 10 * frame + colour
    # A neighbourhood is ordered (row, column, channel), channels frame-major: RGB of t-2, t-1, ...
    features = code.reshape(n, k2 * 15)
    targets = np.arange(n * 3).reshape(n, 3)
    rows, out = by_colour(features, targets)
    assert rows.shape == (3 * n, k2 * 5) and out.shape == (3 * n, 1)
    expected = code.transpose(0, 3, 1, 2)   # pixel, colour first
    np.testing.assert_array_equal(rows, expected.reshape(3 * n, k2 * 5))
    np.testing.assert_array_equal(out[:, 0], targets.ravel())
    assert set(rows[5] % 10) == {2}   # pixel 1, blue: only blue channels
