"""Training: the one tf.function step, learning-rate schedules, checkpoints, summaries."""
