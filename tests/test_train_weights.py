"""A weights file is checked array by array before anything uses it: one line naming the
file and the first bad array."""
import json

import numpy as np
import pytest

from deblur3d.train import weights


def write(path, arrays, shapes):
    header = dict(model="DeblurNet", names=[f"deblur_net/layer{i}/kernel" for i in range(len(shapes))], shapes=shapes)
    np.savez(path, header=np.array(json.dumps(header)), **arrays)
    return path


def good(tmp_path):
    arrays = {"w0000": np.ones((3, 3), np.float16), "w0001": np.zeros(96, np.float16)}
    return write(tmp_path / "good.npz", arrays, [[3, 3], [96]]), arrays


def test_a_good_file_passes_and_its_header_comes_back(tmp_path):
    path, _ = good(tmp_path)
    assert weights.verify(path)["model"] == "DeblurNet"


@pytest.mark.parametrize("case, message", [
    ("all nan", r"array w0000 \(deblur_net/layer0/kernel\) holds NaN"),
    ("one nan", r"array w0001 \(deblur_net/layer1/kernel\) holds NaN"),
    ("wrong shape", r"array w0001 .* has shape \[48\], the header says \[96\]"),
    ("missing", r"array w0001 .* is missing"),
])
def test_a_bad_array_is_named_in_one_line(tmp_path, case, message):
    _, arrays = good(tmp_path)
    if case == "all nan":
        arrays = {k: np.full_like(v, np.nan) for k, v in arrays.items()}
    elif case == "one nan":
        arrays["w0001"][5] = np.nan
    elif case == "wrong shape":
        arrays["w0001"] = np.zeros(48, np.float16)
    else:
        del arrays["w0001"]
    path = write(tmp_path / "bad.npz", arrays, [[3, 3], [96]])
    with pytest.raises(weights.WeightsFileError, match=message) as err:
        weights.verify(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_a_file_cut_short_is_refused_in_one_line(tmp_path):
    path, _ = good(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) - 40])
    with pytest.raises(weights.WeightsFileError, match="good.npz"):
        weights.verify(path)
