"""Compile tf-graphics' CPU rasterizer op against the installed TensorFlow.

The wheel of tensorflow-graphics 2021.12.3 ships a prebuilt `rasterizer_op.so` that
does not load in TF 2.21 (undefined symbol), but also its C++ source. We compile that
source with TensorFlow's own flags and put the result where tf-graphics looks for it,
keeping the shipped binary as `rasterizer_op.so.orig`. Running this again when the op
already loads does nothing.

    python -m deblur3d.face.build_rasterizer [--force]
"""
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile

import tensorflow as tf

SOURCES = ("rasterize_triangles_impl.cc", "rasterize_triangles_op.cc")


def kernels_dir():
    spec = importlib.util.find_spec("tensorflow_graphics")
    if spec is None:
        raise SystemExit("tensorflow-graphics is not installed: "
                         "pip install --no-deps tensorflow-graphics==2021.12.3 (or `make install`).")
    return os.path.join(os.path.dirname(spec.origin), "rendering", "kernels")


def op_library_path():
    return os.path.join(kernels_dir(), "rasterizer_op.so")


def op_loads(path):
    """Load in a fresh interpreter: a failed load can leave TF's op registry half-filled."""
    code = f"import tensorflow as tf; tf.load_op_library({path!r}).rasterize_triangles"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True).returncode == 0


def compile_op(out_path):
    src = kernels_dir()
    missing = [s for s in SOURCES + ("rasterize_triangles_impl.h",) if not os.path.exists(os.path.join(src, s))]
    if missing:
        raise SystemExit(f"the tensorflow-graphics wheel lacks {', '.join(missing)} in {src}")
    header = os.path.join(tf.sysconfig.get_include(), "tensorflow", "core", "framework", "op_kernel.h")
    if not os.path.exists(header):
        raise SystemExit(f"TensorFlow C++ headers not found ({header}): reinstall tensorflow(-cpu).")
    compiler = shutil.which(os.environ.get("CXX", "g++"))
    if compiler is None:
        raise SystemExit("no C++ compiler: install g++ (Debian: apt install g++) or set $CXX.")
    cmd = ([compiler, "-std=c++17", "-shared", "-fPIC", "-O2", "-w", f"-I{src}"]
           + [os.path.join(src, s) for s in SOURCES]
           + tf.sysconfig.get_compile_flags() + tf.sysconfig.get_link_flags() + ["-o", out_path])
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit("compiling the rasterizer op failed:\n" + " ".join(cmd) + "\n" + result.stderr[-4000:])


def main(argv):
    target = op_library_path()
    if "--force" not in argv and os.path.exists(target) and op_loads(target):
        print(f"rasterizer op OK: {target}")
        return
    with tempfile.TemporaryDirectory() as tmp:
        built = os.path.join(tmp, "rasterizer_op.so")
        compile_op(built)
        if not op_loads(built):
            raise SystemExit(f"the rebuilt op {built} does not load in this TensorFlow.")
        backup = target + ".orig"
        if os.path.exists(target) and not os.path.exists(backup):
            os.replace(target, backup)
        shutil.copyfile(built, target)
    print(f"rasterizer op built: {target}")


if __name__ == "__main__":
    main(sys.argv[1:])
