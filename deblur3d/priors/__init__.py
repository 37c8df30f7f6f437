"""The 3D priors of a frame (the arrows of Figure 2 from the reconstruction branch into the
deblurring branch): how they are chosen, made, stored and read.

    settings.py  PriorsSettings: the ReconNet, the face model, `refine_landmarks`, `texture`;
                 where a model's priors come from (SOURCES)
    online.py    ReconNet + renderer in the graph (training), frame by frame (eval, video)
    refine.py    the coefficients refined to dlib's 68 points (not in the paper)
    texture.py   light and albedo fitted to the frame (not in the paper)
    export.py    every cached frame's priors, written through data/priors_store.py (the
                 folder's format, in data because the data pipeline reads it)

The ReconNet itself, its losses and training are the reconstruction branch (deblur3d/recon/).
"""
