"""Scale-out on TensorFlow's own engine: one name -> a tf.distribute strategy.

'default' (one device), 'mirrored' (all local GPUs, or the logical CPUs configured
before TensorFlow starts), 'multiworker' (several machines described by $TF_CONFIG).

`compute_precision` scopes a Keras dtype policy to the layers built inside it, so the
deblurring network can compute in bfloat16 while the ReconNet and the losses stay float32.
"""
import contextlib

import keras
import tensorflow as tf

STRATEGIES = ("default", "mirrored", "multiworker")
# float32: the paper's. mixed_bfloat16: float32 weights, bfloat16 convolutions, 1.9x faster
# training steps on this machine's AVX512-BF16 cores
# (docs/results.md#the-cpu-recipe-on-the-realistic-blur-deblur_full).
# mixed_float16: the same for GPUs, with loss scaling.
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")


@contextlib.contextmanager
def compute_precision(precision="float32"):
    """Layers constructed inside compute in `precision` (weights stay float32)."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(precision)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def make_strategy(name="default"):
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        devices = [d.name for d in gpus] or [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices)
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}")


def split_cpu(count):
    """Expose `count` logical CPU devices (call before TensorFlow runs anything)."""
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * count)


def is_chief(strategy):
    """Only the chief writes checkpoints and summaries that are kept."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    return resolver.task_type == "chief" or (resolver.task_type == "worker" and resolver.task_id == 0
                                            and "chief" not in resolver.cluster_spec().as_dict())
