"""Deblurring real face videos: io (inputs, atomic outputs, audio), tracks (every face,
followed), paste (feathered correction), model (weights + 3D priors), pipeline (the two
passes), sheets (side by side, contact sheets), demo (`make demo`).

    python experiments/deblur_video.py --input=talk.mp4 --output=talk_deblurred.mp4
"""
