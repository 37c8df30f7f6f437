"""The video tool's outputs (videos, PNG frame folders, photos), which appear only when
complete (deblur3d/atomic.py).

With ffmpeg (the `imageio-ffmpeg` package ships one), .mp4/.mov are H.264 with the input's
audio track, .mkv/.avi lossless FFV1 (RGB, bit-exact frames); without it, OpenCV writes
mp4v / FFV1 and the audio is dropped, with a warning. A path without a suffix is a folder
of PNG frames.
"""
import contextlib
import errno
import itertools
import shutil
from pathlib import Path

import cv2
import numpy as np

from deblur3d.atomic import atomic_dir, atomic_file, signals_deferred
from deblur3d.video import io   # its ffmpeg_exe is the one probe (tests replace it)


def write_image(path, rgb):
    """One image, in the format its suffix names (JPEG at quality 95), complete or not at all."""
    suffix = Path(path).suffix.lower()
    quality = [cv2.IMWRITE_JPEG_QUALITY, 95] if suffix in (".jpg", ".jpeg") else []
    try:
        ok, data = cv2.imencode(suffix, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), quality)
    except cv2.error:
        ok = False
    if not ok:
        raise OSError(f"{path}: cannot encode an image of type {suffix!r}")
    with atomic_file(path) as tmp:
        tmp.write_bytes(data.tobytes())


def encoder_error(path, err):
    """One line for an encoder that stopped: no space left, or the encoder's first line."""
    free = shutil.disk_usage(Path(path).parent).free
    if getattr(err, "errno", None) == errno.ENOSPC or free < (64 << 20):
        return OSError(f"{path}: no space left on the device ({free >> 20} MB free)")
    first = next((line for line in str(err).splitlines() if line.strip()), type(err).__name__)
    return OSError(f"{path}: the video encoder stopped: {first[:200]}")


class _FfmpegEncoder:
    def __init__(self, path, fps, size, audio):
        import imageio_ffmpeg   # optional: without it, _OpenCVEncoder
        height, width = size
        lossless = path.suffix.lower() in io.LOSSLESS
        if lossless:
            codec, pix_fmt, params = "ffv1", "bgr0", []
        else:   # 4:2:0 needs even sizes; odd ones keep their size in 4:4:4
            codec, params = "libx264", ["-crf", "16", "-movflags", "+faststart"]
            pix_fmt = "yuv420p" if width % 2 == 0 and height % 2 == 0 else "yuv444p"
        options = {}
        if audio is not None:
            # Copied when the container takes it, else re-encoded; cut to the video's length.
            source = io.audio_codec(audio)
            keep = (path.suffix.lower() == ".mkv") or (not lossless and source in ("aac", "mp3", "alac"))
            options = dict(audio_path=str(audio), audio_codec="copy" if keep else "pcm_s16le" if lossless else "aac")
            params = params + ["-shortest"]
        self.path = path
        self._gen = imageio_ffmpeg.write_frames(str(path), (width, height), fps=float(fps), codec=codec,
                                                pix_fmt_out=pix_fmt, quality=None, macro_block_size=1,
                                                ffmpeg_log_level="error", output_params=params, **options)
        self._gen.send(None)

    def write(self, rgb):
        try:
            self._gen.send(np.ascontiguousarray(rgb))
        except OSError as err:   # BrokenPipeError, or imageio's IOError with ffmpeg's log
            raise encoder_error(self.path, err) from None

    def close(self):
        try:
            self._gen.close()
        except OSError as err:
            raise encoder_error(self.path, err) from None


class _OpenCVEncoder:
    def __init__(self, path, fps, size):
        fourcc = "FFV1" if path.suffix.lower() in io.LOSSLESS else "mp4v"
        self._writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), float(fps), size[::-1])
        if not self._writer.isOpened():
            raise RuntimeError(f"OpenCV cannot write {fourcc} video to {path}")

    def write(self, rgb):
        self._writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))

    def close(self):
        self._writer.release()


@contextlib.contextmanager
def open_output(path, fps, size, audio=None, warn=print, names=None):
    """Yields write(rgb) for frames of `size` (height, width); the output appears at `path`
    (a video file; a folder of PNG frames when it has no suffix, named `names` in order or
    numbered; a photo when its suffix is an image's) when the block completes."""
    path = Path(path)
    if path.suffix.lower() in io.IMAGE_SUFFIXES:   # a photo: its one frame
        written = []
        yield written.append
        if len(written) != 1:
            raise ValueError(f"{path}: a photo output takes one frame, not {len(written)}")
        write_image(path, written[0])
        return
    if not path.suffix:
        with atomic_dir(path) as tmp:
            count = itertools.count()

            def write(rgb):
                t = next(count)
                name = names[t] if names is not None and t < len(names) else f"{t:06d}.png"
                if not cv2.imwrite(str(tmp / name), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)):
                    raise OSError(f"{path}: cannot write frame {name}")
            yield write
        return
    with atomic_file(path) as tmp:
        encoder = None
        try:
            # A signal while ffmpeg starts would leave it running unowned, writing `tmp` after
            # atomic_file removed it: Ctrl-C and SIGTERM wait until it is ours to close.
            with signals_deferred():
                if io.ffmpeg_exe():
                    encoder = _FfmpegEncoder(tmp, fps, size, audio)
                else:
                    warn(f"warning: no ffmpeg (pip install imageio-ffmpeg): {path} written by OpenCV, "
                         "without the input's audio track if it has one")
                    encoder = _OpenCVEncoder(tmp, fps, size)
            yield encoder.write
        finally:
            if encoder is not None:
                encoder.close()
