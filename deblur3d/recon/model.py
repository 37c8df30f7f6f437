"""ReconNet: a ResNet-50 regressing the 239 coefficients from a 224×224 aligned crop."""
import keras
from keras import layers

from deblur3d.face.coeffs import NUM_COEFFS


class ReconNet(keras.Model):
    """(B, 224, 224, 3) RGB in [0, 1] -> (B, 239) coefficients.

    Trained from scratch (no ImageNet weights can be fetched here); the last layer starts
    at zero, as in Deng et al., so training begins from the lit mean face.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.backbone = keras.applications.ResNet50(
            include_top=False, weights=None, pooling="avg", input_shape=(224, 224, 3))
        self.head = layers.Dense(NUM_COEFFS, kernel_initializer="zeros", bias_initializer="zeros", name="coeffs")

    def call(self, images, training=False):
        return self.head(self.backbone(images * 2.0 - 1.0, training=training))
