"""What `make eval` writes: tables 1-3 (markdown, with the paper's numbers beside ours),
frames.csv and the figures."""
import csv

import cv2
import numpy as np
import tensorflow as tf

from deblur3d.eval import metrics
from deblur3d.eval.metrics import METRICS
from deblur3d.eval.reference import (PAPER_SIZES, PAPER_TABLE1, PAPER_TABLE3, PAPER_TABLE3_NAH, ablation_rows,
                                     paper_reference)
from deblur3d.eval.timing import cpu_count


def _fmt(value, digits):
    return "—" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def _md_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]) + "\n"


CONVENTIONS = ("PSNR (dB) and SSIM on RGB at 0–255 (output clipped to [0, 1], not quantised; SSIM 11×11 Gaussian "
               "window, σ 1.5, per channel, averaged), mean of per-frame values. Face: inside the hull of the 68 "
               "points, or of the 5 points scaled ×2 about their centroid where there are no 68 points.")


OVERSHOOT = (f"Face overshoot (artefacts such as dark streaks or ringing): the share of face pixels whose "
             f"luminance leaves the range of the blurry input and the sharp frame by more than "
             f"{metrics.OVERSHOOT_LEVELS:g} grey levels.")


WARPING = ("Warping error (lower is steadier): the previous scored frame of the same clip, warped onto the "
           "current one by the flow of the sharp frames, mean |difference| (0–255) over the face where the flow "
           "passes a forward-backward check; the sharp row is its floor.")


def write_table1(out, sources, methods, summary, notes):
    rows, csv_rows = {}, []
    for s in sources:
        for m in methods:
            r = summary.get((s.name, m.name))
            if r is None:
                continue
            paper = paper_reference(m)
            rows.setdefault(s.name, []).append(
                [m.name, m.describe(), _fmt(r["psnr"], 2), _fmt(r["ssim"], 4), _fmt(r["face_psnr"], 2),
                 _fmt(r["face_ssim"], 4), _fmt(r["overshoot"], 2), _fmt(r["warp"], 2), r["frames"],
                 " / ".join(paper)])
            csv_rows.append(dict(dataset=s.name, method=m.name, model=m.describe(), frames=r["frames"],
                                 **{k: r[k] for k in METRICS}, paper_psnr=paper[0], paper_ssim=paper[1]))
    for s in sources:
        r = next((summary[s.name, m.name] for m in methods if (s.name, m.name) in summary), None)
        if r is not None:   # the floor of the warping error: the sharp frames' own
            rows.setdefault(s.name, []).append(["sharp", "ground truth", "—", "—", "—", "—", "—",
                                                _fmt(r["warp_sharp"], 2), r["frames"], "—"])
    text = ["# Table 1: deblurring quality\n", CONVENTIONS + " " + OVERSHOOT + " " + WARPING + "\n"]
    for s in sources:
        text += [f"## {s.name}\n", s.description + "\n",
                 _md_table(["method", "model", "PSNR", "SSIM", "face PSNR", "face SSIM", "face overshoot (%)",
                            "warping error", "frames",
                            "paper 300VW PSNR / SSIM"], rows.get(s.name, []))]
    text += ["## The paper's Table 1 (its test sets, GPU-trained models)\n",
             _md_table(["method", "300VW PSNR / SSIM", "VidTIMIT PSNR / SSIM"], PAPER_TABLE1)]
    text += ["## Notes\n", "\n".join(f"- {n}" for n in notes) + "\n"] if notes else []
    (out / "table1.md").write_text("\n".join(text))
    with open(out / "table1.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, list(csv_rows[0]) if csv_rows else ["dataset"])
        writer.writeheader()
        writer.writerows(csv_rows)


# Table 2's comparisons, each configuration against the one it adds a prior to.
PAIRS = (("+ render + identity (full)", "+ render"), ("+ render", "baseline (no priors)"),
         ("+ identity", "baseline (no priors)"), ("+ render + identity (full)", "baseline (no priors)"))


def paired_rows(source, methods, records):
    """Per-frame PSNR differences of Table 2's comparisons (first checkpoint of each row)."""
    first = {label: matches[0] for label, matches, _ in ablation_rows(methods) if matches}
    per_frame = {}
    for r in records:
        if r["dataset"] == source:
            per_frame.setdefault(r["method"], {})[r["key"]] = r
    rows = []
    for a, b in PAIRS:
        if a not in first or b not in first:
            continue
        ra, rb = per_frame.get(first[a].name, {}), per_frame.get(first[b].name, {})
        keys = sorted(set(ra) & set(rb))
        cells = []
        for metric in ("psnr", "face_psnr"):
            mean, half, n = metrics.paired_difference([ra[k][metric] for k in keys], [rb[k][metric] for k in keys])
            cells.append(f"{mean:+.3f} ± {half:.3f}" if np.isfinite(mean) else "—")
        rows.append([f"{a} − {b}", f"{first[a].name} − {first[b].name}", *cells, len(keys)])
    return rows


def write_table2(out, sources, methods, summary, identity_on, records=()):
    text = ["# Table 2: ablation of the 3D priors\n",
            CONVENTIONS + " Identity: cosine similarity of dlib face descriptors of the output and the sharp "
            "frame, both in the box detected on the sharp frame (frames without a detection left out)."
            + ("" if identity_on else " Not computed in this run (identity disabled).") + "\n",
            "Checkpoints are matched to rows by their header (architecture 'ours', use_render, use_identity).\n"]
    for s in sources:
        rows = []
        inputs = [("input (no deblurring)", [m for m in methods if not m.face], ("—", "—", "—"))]
        for label, matches, (p_psnr, p_ssim, p_id) in inputs + ablation_rows(methods):
            for m in matches or [None]:
                r = summary.get((s.name, m.name)) if m else None
                if r is None:
                    why = "no checkpoint" if m is None else f"{m.name}: not evaluated (no priors)"
                    rows.append([label, why, "—", "—", "—", "—", p_psnr, p_ssim, p_id])
                    continue
                rows.append([label, m.name, _fmt(r["psnr"], 2), _fmt(r["ssim"], 4), _fmt(r["identity"], 4),
                             f"{r['identity_frames']}/{r['frames']}", p_psnr, p_ssim, p_id])
        text += [f"## {s.name}\n", s.description + "\n",
                 _md_table(["configuration", "checkpoint", "PSNR", "SSIM", "identity", "frames with a face",
                            "paper PSNR", "paper SSIM", "paper identity"], rows)]
        paired = paired_rows(s.name, methods, records)
        if paired:
            text += ["Paired per-frame differences (mean and 95% t-interval, dB): a difference whose interval "
                     "excludes 0 is beyond frame-to-frame noise.\n",
                     _md_table(["comparison", "checkpoints", "PSNR", "face PSNR", "frames"], paired)]
    (out / "table2.md").write_text("\n".join(text))


def write_frames(out, records):
    """frames.csv: every metric of every frame and method."""
    with open(out / "frames.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, ["dataset", "key", "method", *METRICS])
        writer.writeheader()
        writer.writerows(records)


def write_table3(out, methods, sizes, seconds, repeats, priors_note):
    size_names = [f"{h}×{w}" for h, w in sizes]
    same_sizes = tuple(map(tuple, sizes)) == PAPER_SIZES
    rows = []
    for m in methods:
        if m.name not in seconds:
            continue
        paper = PAPER_TABLE3.get(m.architecture, ("—", "—"))
        rows.append([m.name, m.describe() + (" (priors included)" if m.needs_priors else ""),
                     *(_fmt(v, 3) for v in seconds[m.name]), *(paper if same_sizes else [])])
    paper_cols = [f"paper Titan X {n}" for n in size_names] if same_sizes else []
    text = ["# Table 3: running time (seconds per frame)\n",
            f"This machine, {len(tf.config.list_physical_devices('GPU')) or 'no'} GPU, {cpu_count()} CPU cores, "
            f"batch 1, random input of height × width; mean of {repeats} call(s) after one warm-up call per size. "
            f"{priors_note} The paper's column pairs DBN with Su et al., SRN with Tao et al. (Nah et al.: "
            f"{' / '.join(PAPER_TABLE3_NAH)} s); they ran on a Titan X GPU.\n",
            _md_table(["method", "model", *size_names, *paper_cols], rows)]
    (out / "table3.md").write_text("\n".join(text))


def write_figure(path, methods, images, sharp):
    """One row: a tile per method and the sharp frame, with PSNR / SSIM under each tile."""
    tiles = []
    for name, image in [(m.name, images[m.name]) for m in methods] + [("sharp", sharp)]:
        tile = (np.clip(image, 0, 1) * 255).round().astype(np.uint8)
        strip = np.full((40, tile.shape[1], 3), 255, np.uint8)
        lines = [name] + ([] if name == "sharp" else
                          [f"{metrics.psnr(image, sharp):.2f} dB / {metrics.ssim(image, sharp):.4f}"])
        for i, line in enumerate(lines):
            cv2.putText(strip, line, (4, 15 + 18 * i), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
        tiles.append(np.concatenate([tile, strip], 0))
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(np.concatenate(tiles, 1), cv2.COLOR_RGB2BGR))


def figure_keys(keys, count):
    """`count` keys spread evenly over the evaluated frames (middle of each equal share)."""
    return [keys[int((i + 0.5) * len(keys) / count)] for i in range(min(count, len(keys)))]
