"""Scale-out on TensorFlow's own engine: one name -> a tf.distribute strategy.

'default' (one device), 'mirrored' (all local GPUs, or the logical CPUs configured
before TensorFlow starts), 'multiworker' (several machines described by $TF_CONFIG).
"""
import keras
import tensorflow as tf

STRATEGIES = ("default", "mirrored", "multiworker")


def make_strategy(name="default", mixed_precision=False):
    if mixed_precision:
        # float16 compute with float32 weights: for GPUs; on CPUs it is slower.
        keras.mixed_precision.set_global_policy("mixed_float16")
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
