"""deblur3d: face video deblurring with 3D facial priors (Ren et al., ICCV 2019)."""
import os

# TensorFlow's C++ start-up chatter (oneDNN, CPU features) hides our own output; set the
# variable to 0 to see it again.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from deblur3d.quiet_tensorflow import import_tensorflow  # noqa: E402

import_tensorflow()
