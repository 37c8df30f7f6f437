"""Learning-rate schedules of the paper (default) and of the authors' release."""
import keras


SCHEDULES = ("paper", "release", "cosine")


def learning_rate(kind="paper", initial=1e-4, decay_every=50_000, decay_rate=0.3, total_steps=400_000,
                  warmup_steps=0):
    """'paper': lr × 0.3 every 50K iterations (Sec. 4.1).

    'release': polynomial decay to 0 with power 0.3 over the run, as the authors' code.
    'cosine': linear warm-up from 0 over `warmup_steps`, then cosine to 0 at `total_steps`
    (NAFNet and most recent deblurring nets; not in the paper).
    """
    if kind == "cosine":
        warmup = min(warmup_steps, total_steps - 1)
        return keras.optimizers.schedules.CosineDecay(0.0 if warmup else initial, total_steps - warmup,
                                                      warmup_target=initial if warmup else None,
                                                      warmup_steps=warmup)
    if kind == "paper":
        return keras.optimizers.schedules.ExponentialDecay(initial, decay_every, decay_rate, staircase=True)
    if kind == "release":
        return keras.optimizers.schedules.PolynomialDecay(initial, total_steps, end_learning_rate=0.0, power=0.3)
    raise ValueError(f"unknown schedule {kind!r}: one of {', '.join(SCHEDULES)}")


# TF1's Adam default, which the authors' release ran with; Keras's 1e-7 swamps the tiny
# gradients a residual deblurring net sees on [0, 1] images, and its layers stop learning.
EPSILON = 1e-8


def adam(schedule, epsilon=EPSILON):
    """Adam with the paper's β1 0.9, β2 0.999."""
    return keras.optimizers.Adam(learning_rate=schedule, beta_1=0.9, beta_2=0.999, epsilon=epsilon)
