"""deblur3d: face video deblurring with 3D facial priors (Ren et al., ICCV 2019)."""
