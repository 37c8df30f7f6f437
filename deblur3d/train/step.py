"""The one training step every trainer uses (deblurring, reconstruction fine-tune, joint).

A task is anything with `trainable_variables` and `losses(batch, training) -> dict` whose
"total" entry is minimised. Joint training of L_r and L_c is
`JointTask(rendering=<L_r task>, deblurring=<L_c task>)`.
"""
import tensorflow as tf


class JointTask:
    """Sums the totals of named tasks (weights by name, default 1) and trains all their
    variables together; `images` (TensorBoard's pictures) come from the first part that has them."""

    def __init__(self, weights=None, **parts):
        self.parts = parts
        self.weights = {name: 1.0 for name in parts} | (weights or {})

    @property
    def trainable_variables(self):
        seen, out = set(), []
        for task in self.parts.values():
            for v in task.trainable_variables:
                if id(v) not in seen:
                    seen.add(id(v))
                    out.append(v)
        return out

    def losses(self, batch, training=True):
        out, total = {}, 0.0
        for name, task in self.parts.items():
            losses = task.losses(batch, training=training)
            total += self.weights[name] * losses.pop("total")
            out.update(losses)
        out["total"] = total
        return out

    def images(self, batch):
        return next(task for task in self.parts.values() if hasattr(task, "images")).images(batch)


def make_train_step(task, optimizer, strategy=None, jit_compile=False):
    """Returns a tf.function: batch -> dict of losses (the mean over replicas); with
    `jit_compile`, the replica step is compiled by XLA."""
    strategy = strategy or tf.distribute.get_strategy()
    variables = task.trainable_variables
    if not variables:
        raise ValueError("the task has no trainable variables yet: build it first (train.loop.build)")

    def replica_step(batch):
        with tf.GradientTape() as tape:
            losses = task.losses(batch, training=True)
            # Each replica sees its share of the global batch: scale so gradients add up to the mean.
            # scale_loss: a LossScaleOptimizer's (float16 compute) scale, else the loss unchanged.
            scaled = optimizer.scale_loss(losses["total"]) / strategy.num_replicas_in_sync
        grads = tape.gradient(scaled, variables)
        # A non-finite loss is caught by the trainer after the step; it stops without saving.
        optimizer.apply_gradients([(g, v) for g, v in zip(grads, variables) if g is not None])
        return losses

    if jit_compile:
        replica_step = tf.function(replica_step, jit_compile=True)

    @tf.function
    def train_step(batch):
        per_replica = strategy.run(replica_step, args=(batch,))
        return {k: strategy.reduce(tf.distribute.ReduceOp.MEAN, v, axis=None) for k, v in per_replica.items()}

    return train_step
