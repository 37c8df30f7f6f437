from setuptools import find_packages, setup

setup(
    name="deblur3d",
    version="0.1.0",
    description="Face video deblurring with 3D facial priors (Ren et al., ICCV 2019) in TensorFlow 2",
    packages=find_packages(include=["deblur3d", "deblur3d.*"]),
    python_requires=">=3.10",
    # Pinned versions live in requirements.txt; tensorflow-graphics is installed
    # separately with --no-deps (its declared dependencies have no TF 2.21 build).
    install_requires=["tensorflow>=2.16", "numpy", "scipy", "opencv-python-headless", "absl-py", "tqdm"],
)
