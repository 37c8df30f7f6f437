"""ReconNet: a ResNet-50 regressing the 239 coefficients from a 224×224 aligned crop."""
import keras
import tensorflow as tf
from keras import layers

from deblur3d.face.coeffs import NUM_COEFFS

PAPER_INPUT_SIZE = 224


class ReconNet(keras.Model):
    """(B, 224, 224, 3) RGB in [0, 1] -> (B, 239) coefficients.

    Trained from scratch (no ImageNet weights can be fetched here); the last layer starts
    at zero, as in Deng et al., so training begins from the lit mean face. `input_size`:
    the side the ResNet sees; the paper's 224, or smaller crops resized inside (our CPU
    recipe's 128: a quarter of the cost, and the faces corpus's faces are about 110 px).
    """

    def __init__(self, input_size=PAPER_INPUT_SIZE, **kwargs):
        super().__init__(**kwargs)
        self.input_size = int(input_size)
        self.backbone = keras.applications.ResNet50(
            include_top=False, weights=None, pooling="avg", input_shape=(self.input_size, self.input_size, 3))
        self.head = layers.Dense(NUM_COEFFS, kernel_initializer="zeros", bias_initializer="zeros", name="coeffs")

    def call(self, images, training=False):
        if self.input_size != PAPER_INPUT_SIZE:
            images = tf.image.resize(images, [self.input_size, self.input_size], antialias=True)
        return self.head(self.backbone(images * 2.0 - 1.0, training=training))
