"""Evaluation: PSNR / SSIM (whole frame or face region) and dlib identity similarity.

    from deblur3d.eval.metrics import psnr, ssim, IdentityEncoder
"""
from deblur3d.eval.metrics import IdentityEncoder, psnr, ssim  # noqa: F401
