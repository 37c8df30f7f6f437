"""What ReconNet is taught on each face, and the one on-disk format of it (labels.npz).

For a sharp face: dlib's 68 points, the teacher's 468 (recon/teacher.py), and the face
model fitted to both (recon/mesh_fit.py). Each face is then seen as the tool sees it: the
sharp one, and blurry versions, each cut out by the five points dlib finds on *that* image
(on a blurry image they are off; the sharp points are only the targets), with the targets
carried into its crop.
"""
import numpy as np

from deblur3d.atomic import atomic_file
from deblur3d.face.align import fit_alignment
from deblur3d.face.mediapipe_mesh import NUM_POINTS

FIELDS = ("inputs", "points68", "mesh", "coeffs", "group", "blurry")


def view(annotator, image, points68, mesh):
    """One view of a face: image (H, W, 3) uint8, the sharp face's 68 and 468 points in its
    pixels -> (224 crop uint8, 68 and 468 points in the crop, found, its Alignment) aligned
    from the five points dlib finds on `image` (found False: in the sharp points' box)."""
    from deblur3d.data.faces import five_points, points5_on
    points5 = points5_on(annotator, image, cnn=False)
    found = points5 is not None
    if not found:
        points5 = five_points(annotator.landmarks(image, np.concatenate([points68.min(0), points68.max(0)])))
    a = fit_alignment(points5)
    crop = np.clip(np.round(a.crop(image.astype(np.float32))), 0, 255).astype(np.uint8)
    mesh_crop = np.concatenate([a.to_crop(mesh[:, :2]), mesh[:, 2:] * a.scale], 1)
    return crop, a.to_crop(points68).astype(np.float32), mesh_crop.astype(np.float32), found, a


def to_uint8(image):
    return np.clip(np.round(np.asarray(image) * 255.0), 0, 255).astype(np.uint8)


def blurred_still(image, points68, blur, key):
    """A still (uint8) blurred as the centre frame of a stack of it (data/motion.py), its head
    where its 68 points are; seeded by the ints `key`. -> uint8."""
    from deblur3d.data import motion, stills
    return to_uint8(stills.blur_still(image, points68, blur, seed=motion.sample_key(*key)))


def sharp_points(annotator, teacher, image, points68=None):
    """Sharp image (uint8) -> its 68 points (dlib's, or given) and the teacher's 468 (x, y, z
    in image pixels), or None without a face."""
    if points68 is None:
        boxes = annotator.detect(image)
        if not len(boxes):
            return None
        points68 = annotator.landmarks(image, boxes[0])
    mesh, _ = teacher(image.astype(np.float32) / 255.0, np.concatenate([points68.min(0), points68.max(0)]))
    return np.asarray(points68, np.float32), mesh


def fit_groups(fitter, points68, mesh, group, blurry, batch=64):
    """Coefficients per view: the face model fitted jointly to the teacher's 468 points and
    dlib's 68 in each group's sharp view, copied to the group's other views (their identity
    and expression; the pose is the sharp crop's)."""
    sharp = np.flatnonzero(~blurry)
    coeffs = np.zeros((len(group), 239), np.float32)
    depthless = np.zeros_like(points68[..., :1])
    targets = np.concatenate([mesh, np.concatenate([points68, depthless], -1)], 1)
    for start in range(0, len(sharp), batch):
        rows = sharp[start:start + batch]
        coeffs[rows] = fitter(targets[rows])
    of_group = {g: coeffs[i] for i, g in zip(sharp, group[sharp])}
    return np.stack([of_group[g] for g in group]).astype(np.float32)


def save(path, **arrays):
    missing = set(FIELDS) - set(arrays)
    if missing:
        raise ValueError(f"labels need {sorted(missing)}")
    if arrays["mesh"].shape[1:] != (NUM_POINTS, 3):
        raise ValueError(f"mesh points of shape {arrays['mesh'].shape[1:]}, expected ({NUM_POINTS}, 3)")
    with atomic_file(path) as tmp:
        np.savez(tmp, **arrays)


def load(path):
    with np.load(path) as z:
        missing = set(FIELDS) - set(z.files)
        if missing:
            raise ValueError(f"{path}: not a ReconNet labels file (missing {sorted(missing)}); rebuild it with "
                             "experiments/label_faces.py")
        return {k: z[k] for k in z.files}


def dataset(arrays, batch_size, seed=0, jitter=(0.03, 3.0)):
    """Endless shuffled batches of views: `inputs` (B, 224, 224, 3) in [0, 1], `points68`,
    `mesh`, `coeffs`, each view moved by a random similarity (scale ±jitter[0], shift
    ±jitter[1] px; the five points of a real frame are off by as much) and given a random
    brightness, contrast and saturation. The arrays stay in memory as numpy."""
    import tensorflow as tf

    from deblur3d.face.align import crop
    n = len(arrays["inputs"])
    names = ("inputs", "points68", "mesh", "coeffs")

    def read(i):
        return tuple(arrays[k][i] for k in names)

    def sample(i, visit):
        image, points68, mesh, coeffs = tf.numpy_function(read, [i], [tf.uint8, tf.float32, tf.float32, tf.float32],
                                                          stateful=False)
        key = tf.stack([tf.cast(seed, tf.int64) * 1_000_003 + visit, i])
        u = tf.random.stateless_uniform([6], seed=key, minval=-1.0, maxval=1.0)
        scale = 1.0 + jitter[0] * u[0]
        centre = 112.0 + jitter[1] * u[1:3]
        image = crop(tf.cast(image, tf.float32)[None] / 255.0, tf.concat([[scale], centre], 0)[None])[0]
        image = tf.image.adjust_saturation(image, 1.0 + 0.2 * u[3])
        image = tf.clip_by_value((image - 0.5) * (1.0 + 0.2 * u[4]) + 0.5 + 0.08 * u[5], 0.0, 1.0)

        def moved(p):
            return (p[..., :2] - centre) * scale + 112.0
        return dict(inputs=tf.ensure_shape(image, [224, 224, 3]), points68=tf.ensure_shape(moved(points68), [68, 2]),
                    mesh=tf.ensure_shape(moved(mesh), [NUM_POINTS, 2]), coeffs=tf.ensure_shape(coeffs, [239]))

    counter = tf.data.Dataset.counter()   # a new draw of jitter at every visit
    order = tf.data.Dataset.range(n).shuffle(n, seed=seed, reshuffle_each_iteration=True).repeat()
    ds = tf.data.Dataset.zip(order, counter).map(sample, num_parallel_calls=2)
    return ds.batch(batch_size, drop_remainder=True).prefetch(2)
