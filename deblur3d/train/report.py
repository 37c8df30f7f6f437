"""What a trainer says about where it runs: its first line (devices, precision, strategy),
then, after its first timed steps, how long the whole run will take. With the paper's
schedule on a CPU that projection is a warning with the flag of a CPU budget."""
import tensorflow as tf

from deblur3d import devices

PAPER_STEPS = 400_000   # the paper's iterations (Sec. 4.1)
TIMED_STEPS = 3         # steps timed after the first (which traces and builds) ...
TIMED_SECONDS = 60      # ... or fewer when they take this long (a paper-size step on a CPU)


def timed_enough(steps, seconds):
    return steps >= TIMED_STEPS or (steps >= 1 and seconds >= TIMED_SECONDS)


def strategy_name(strategy):
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        name = "multiworker"
    elif isinstance(strategy, tf.distribute.MirroredStrategy):
        name = "mirrored"
    else:
        name = "default"
    return f"{name} ({strategy.num_replicas_in_sync} replica{'s' if strategy.num_replicas_in_sync > 1 else ''})"


def first_line(strategy, precision):
    return f"training on {devices.describe()}, precision {precision}, strategy {strategy_name(strategy)}"


def duration(seconds):
    """3725 -> '1 h 02 min'; 2 days and more in days."""
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:.0f} days"
    if seconds >= 3600:
        return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.1f} s"


def projection(seconds_per_step, steps_left, total_steps, on_gpu, cpu_hint):
    """The one line printed after the timed steps; a warning with the paper's schedule on a CPU."""
    whole = duration(seconds_per_step * steps_left)
    line = f"{seconds_per_step:.3g} s a step: about {whole} for the {steps_left} steps left of {total_steps}"
    if total_steps >= PAPER_STEPS and not on_gpu:
        return f"warning: the paper's {total_steps} steps on a CPU: {line}; for a CPU budget use {cpu_hint}"
    return f"projected: {line}"
