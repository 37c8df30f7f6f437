"""TensorFlow's start-up log, filtered as TF_CPP_MIN_LOG_LEVEL says."""
import subprocess
import sys

import pytest

from deblur3d.quiet_tensorflow import lines_shown_at_level

LOG = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n",
    "I0000 00:00:1796276132.464404   13672 port.cc:153] oneDNN custom operations are on.\n",
    "I0000 00:00:1796276132.550828   13672 cpu_feature_guard.cc:227] This TensorFlow binary ...\n",
    "To enable the following instructions: AVX2 FMA, rebuild TensorFlow.\n",
    "W0000 00:00:1796276137.292571   13672 loop_optimizer.cc:934] Skipping loop optimization\n",
    "E0000 00:00:1796276137.292571   13672 cuda_dnn.cc:8310] Unable to register cuDNN factory\n",
]


@pytest.mark.parametrize("level, kept", [(0, [0, 1, 2, 3, 4, 5]), (1, [4, 5]), (2, [5]), (3, [])])
def test_each_level_hides_what_tensorflow_documents_and_a_second_line_follows_its_record(level, kept):
    assert lines_shown_at_level(LOG, level) == [LOG[i] for i in kept]


def test_lines_that_start_no_record_are_kept_before_any_record():
    lines = ["some.py:3: UserWarning: careful\n", "I0000 00:00:1.0 1 x.cc:1] info\n"]
    assert lines_shown_at_level(lines, 2) == lines[:1]


def test_importing_the_package_prints_nothing_at_the_default_level():
    result = subprocess.run([sys.executable, "-c", "import deblur3d"], capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0 and result.stderr == ""
