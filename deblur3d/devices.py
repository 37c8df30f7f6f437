"""Which devices TensorFlow computes on, in the words of a script's first line."""
import os

import tensorflow as tf


def gpus():
    return tf.config.list_physical_devices("GPU")


def cpu_cores():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def describe():
    """'1 GPU (NVIDIA TITAN X)', or 'CPU (2 cores; no GPU visible to TensorFlow)'."""
    found = gpus()
    if not found:
        return f"CPU ({cpu_cores()} cores; no GPU visible to TensorFlow)"
    names = sorted({tf.config.experimental.get_device_details(g).get("device_name", g.name) for g in found})
    return f"{len(found)} GPU{'s' if len(found) > 1 else ''} ({', '.join(names)})"
