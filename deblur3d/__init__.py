"""deblur3d: face video deblurring with 3D facial priors (Ren et al., ICCV 2019).

How TensorFlow is imported, the one rule: this file imports it, once and quietly (its
start-up log filtered, quiet_tensorflow.py), before any module of the package runs. Every
module then imports `tensorflow as tf` at its top, like numpy. Imports inside functions
are kept only for optional dependencies (dlib, imageio-ffmpeg, the rasterizer op, each
with its own error) and to keep a light module from loading a heavy stack it rarely needs;
never to avoid TensorFlow, which is always there. Inside a traced function, a late import
would make AutoGraph warn.
"""
import os

# TensorFlow's C++ start-up chatter (oneDNN, CPU features) hides our own output; set the
# variable to 0 to see it again.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from deblur3d.quiet_tensorflow import import_tensorflow  # noqa: E402

import_tensorflow()
