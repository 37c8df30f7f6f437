"""Face-video data: readers -> face runs (faces) -> cache on disk -> tf.data with synthesised blur.

    make data                       # experiments/prepare_data.py: builds cache/data
    from deblur3d.data import pipeline
    batches = pipeline.training_dataset(pipeline.PipelineConfig(split="train"))
"""
