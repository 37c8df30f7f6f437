"""Committed weights: one compact .npz per model (float16 where the loss allows).

Training checkpoints (tf.train.Checkpoint, optimizer included) stay in ignored run
folders; a finished model is exported here, which is what `checkpoints/` holds.
"""
import json

import keras
import numpy as np

from deblur3d.atomic import atomic_file


class WeightsFileError(ValueError):
    """The file is not a deblur3d weights file for this model (one-line message)."""


def save(model, path, dtype=np.float16, **meta):
    """Writes every weight of a built Keras model, in order, plus JSON metadata."""
    arrays = {f"w{i:04d}": np.asarray(w.numpy(), dtype if w.dtype == "float32" else None)
              for i, w in enumerate(model.weights)}
    header = dict(meta, model=type(model).__name__, names=[w.path for w in model.weights],
                  shapes=[list(w.shape) for w in model.weights])
    with atomic_file(path) as tmp:   # an interrupted save leaves the old file, and no half-written one
        np.savez_compressed(tmp, header=np.array(json.dumps(header)), **arrays)


def read_header(path):
    try:
        with np.load(path) as z:
            return json.loads(str(z["header"]))
    except FileNotFoundError:
        raise
    except Exception as err:
        raise WeightsFileError(f"{path}: not a deblur3d weights file ({type(err).__name__})") from None


def checked_arrays(path, header):
    """Every array the header lists, in order; WeightsFileError naming the file and its first
    bad array unless each is present, of the shape the header states, and finite."""
    shapes = header.get("shapes")
    if not isinstance(shapes, list):
        raise WeightsFileError(f"{path}: not a deblur3d weights file (no list of weight shapes)")
    names = header.get("names") or [""] * len(shapes)
    arrays = []
    try:
        with np.load(path) as z:
            for i, (shape, name) in enumerate(zip(shapes, names)):
                key, what = f"w{i:04d}", f"array w{i:04d}" + (f" ({name})" if name else "")
                if key not in z.files:
                    raise WeightsFileError(f"{path}: {what} is missing: a damaged or hand-edited file")
                value = z[key]
                if list(value.shape) != list(shape):
                    raise WeightsFileError(f"{path}: {what} has shape {list(value.shape)}, the header says {shape}")
                if value.dtype.kind == "f" and not np.isfinite(value).all():
                    raise WeightsFileError(f"{path}: {what} holds NaN or infinite values: a diverged or damaged model")
                arrays.append(value)
    except WeightsFileError:
        raise
    except Exception as err:   # a truncated archive, a corrupt member
        raise WeightsFileError(f"{path}: cannot be read whole ({type(err).__name__}: {err})"[:300]) from None
    return arrays


def verify(path, header=None):
    """`checked_arrays` without keeping them -> the header. NumPy only: the video tool checks its
    model before reading a frame."""
    header = header or read_header(path)
    checked_arrays(path, header)
    return header


def load(model, path):
    """Fills a built model from `path`; returns the metadata. Checks class and shapes, then
    reads each array once, checked (`checked_arrays`)."""
    header = read_header(path)
    shapes = [list(w.shape) for w in model.weights]
    if header["model"] != type(model).__name__ or header["shapes"] != shapes:
        raise WeightsFileError(
            f"{path}: holds a {header['model']} with {len(header['shapes'])} weights "
            f"({header.get('config', '')}), this is a {type(model).__name__} with {len(shapes)} "
            f"weights of other shapes: wrong model file or configuration")
    model.set_weights([a.astype(w.dtype) for a, w in zip(checked_arrays(path, header), model.weights)])
    return {k: v for k, v in header.items() if k not in ("names", "shapes")}


def _by_layer(paths):
    """{top-level layer name: indices of its weights, in order}: e.g. 'enc1_0' of 'deblur_net/enc1_0/conv2d/kernel'
    (the names of sublayers are Keras's running counters, so only the top level is matched)."""
    groups = {}
    for i, name in enumerate(paths):
        groups.setdefault(name.split("/")[1], []).append(i)
    return groups


def load_grown(model, path, channel_maps=None):
    """Fills every top-level layer of a built model that `path` also holds; returns the names
    of the model's layers the file lacks, left as initialised. For a model grown from a
    smaller one of the same class: more blocks per stage, or wider layers where
    `channel_maps` ({channel count in the file: where those channels sit in the model})
    says where the file's channels go.

    A wider layer keeps its fresh initial weights for the added channels, except that no
    added input channel reaches an old output channel (those weights start at zero): the
    old channels compute exactly what they did, and the zero weights get gradient at once."""
    header = read_header(path)
    if header["model"] != type(model).__name__:
        raise WeightsFileError(f"{path}: holds a {header['model']}, not a {type(model).__name__}")
    old, new = _by_layer(header["names"]), _by_layer([w.path for w in model.weights])
    if set(old) - set(new):
        raise WeightsFileError(f"{path}: layers {sorted(set(old) - set(new))} are not in this model: "
                               "a model only grows (more blocks or wider stages), it is not cut")
    transposed = {layer.name for layer in model.layers if isinstance(layer, keras.layers.Conv2DTranspose)}
    with np.load(path) as z:
        for layer, indices in new.items():
            source = old.get(layer, [])
            if not source:
                continue
            if len(source) != len(indices):
                raise WeightsFileError(f"{path}: layer {layer} has other weights")
            for i, j in zip(source, indices):
                variable = model.weights[j]
                value = _placed(z[f"w{i:04d}"], variable.numpy(), channel_maps or {}, layer in transposed)
                if value is None:
                    raise WeightsFileError(f"{path}: layer {layer} has other shapes (other widths or kernel?)")
                variable.assign(value.astype(variable.dtype))
    return [layer for layer in new if layer not in old]


def _placed(trained, fresh, channel_maps, transposed):
    """`trained` written into the channels of `fresh` that `channel_maps` names (None where it
    cannot be); a conv kernel's added inputs are cut off from its old outputs."""
    if trained.shape == fresh.shape:
        return trained
    if trained.ndim != fresh.ndim:
        return None
    where = []
    for have, want in zip(trained.shape, fresh.shape):
        place = list(range(have)) if have == want else channel_maps.get(have)
        if place is None or len(place) != have or max(place) >= want:
            return None
        where.append(place)
    value = fresh.copy()
    value[np.ix_(*where)] = trained
    if value.ndim == 4:   # kernel (h, w, in, out); a transposed conv's is (h, w, out, in)
        inputs, outputs = (3, 2) if transposed else (2, 3)
        added = sorted(set(range(value.shape[inputs])) - set(where[inputs]))
        index = [slice(None)] * 4
        index[inputs], index[outputs] = np.array(added, int)[:, None], np.array(where[outputs])[None, :]
        value[tuple(index)] = 0.0
    return value
