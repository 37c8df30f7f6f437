"""Pictures for people: side-by-side frames and contact sheets (labelled tiles)."""
import cv2
import numpy as np

from deblur3d.data import faces

LABEL_HEIGHT = 24   # even, so labelled frames of even size stay even (4:2:0 video)


def labelled(image, text, width=None):
    """A white strip with `text` above `image`, the image scaled to `width` if given."""
    if width is not None and image.shape[1] != width:
        height = int(round(image.shape[0] * width / image.shape[1]))
        image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    strip = np.full((LABEL_HEIGHT, image.shape[1], 3), 255, np.uint8)
    cv2.putText(strip, text, (4, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([strip, image], 0)


def side_by_side(left, right, labels=("input", "deblurred")):
    return np.concatenate([labelled(left, labels[0]), labelled(right, labels[1])], 1)


def contact_sheet(rows, tile=256):
    """rows: lists of (label, image) -> one image; frames scaled to `tile` px high, face
    crops `tile` square, shorter rows padded with white."""
    lines = []
    for row in rows:
        tiles = [labelled(cv2.resize(im, (int(round(im.shape[1] * tile / im.shape[0])), tile),
                                     interpolation=cv2.INTER_AREA if im.shape[0] > tile else cv2.INTER_CUBIC),
                          label) for label, im in row]
        lines.append(np.concatenate([np.pad(t, ((0, 0), (0, 4), (0, 0)), constant_values=255) for t in tiles], 1))
    width = max(line.shape[1] for line in lines)
    lines = [np.pad(line, ((0, 4), (0, width - line.shape[1]), (0, 0)), constant_values=255) for line in lines]
    return np.concatenate(lines, 0)


def pick_frames(candidates, count):
    """`count` frames spread evenly over the sorted `candidates` (middle of each share)."""
    candidates = list(candidates)
    return [candidates[int((i + 0.5) * len(candidates) / count)] for i in range(min(count, len(candidates)))]


def change_image(before, after, cap=64):
    """`after - before` around mid-grey, amplified so that the largest changes (99.9th
    percentile) nearly fill the range, at most `cap` times: the model's corrections are
    often a grey level or less, invisible side by side. Returns (image, gain)."""
    change = after.astype(np.float32) - before.astype(np.float32)
    top = max(float(np.percentile(np.abs(change), 99.9)), 1.0)
    gain = int(min(cap, 127 // top))
    return np.clip(128 + gain * change, 0, 255).astype(np.uint8), gain


def sheet_row(t, images, segments, size=256):
    """A contact-sheet row for frame t: the frames of `images` [(label, frame)], the same
    frames cropped to the first face's region, then that face's change from the first
    image to the second (input to output), amplified."""
    row = [(f"{label}, frame {t}" if i == 0 else label, im) for i, (label, im) in enumerate(images)]
    if segments:
        crops = [faces.crop(im, segments[0].region, size) for _, im in images]
        row += [(f"{label}, face", crop) for (label, _), crop in zip(images, crops)]
        change, gain = change_image(crops[0], crops[1])
        row.append((f"change x{gain} (grey: none)", change))
    return row
