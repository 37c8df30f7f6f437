"""Shared fixtures. Tests that need ../shared/data skip with a reason when it is absent."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

from deblur3d import paths  # noqa: E402


@pytest.fixture(scope="session")
def data_root():
    root = paths.default_data_root()
    if root is None or not root.is_dir():
        pytest.skip("no data folder ($DEBLUR3D_DATA or ../shared/data)")
    return root


@pytest.fixture(scope="session")
def ict_model(data_root):
    from deblur3d.face import load_face_model
    return load_face_model("ict", data_dir=data_root)
