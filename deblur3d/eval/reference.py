"""The paper's numbers (docs/reproduction.md §8), and which of them a method reproduces."""

ARCHITECTURE_ORDER = ("input", "dbn", "srn", "ours")   # figure columns, left to right

# Paper numbers (docs/reproduction.md §8); 300VW, the dataset our val split stands in for.
PAPER_TABLE1 = (("Ren et al. (ours)", "37.70 / 0.9849", "38.16 / 0.9871"),
                ("Tao et al. (SRN)", "36.36 / 0.9784", "37.25 / 0.9757"),
                ("Su et al. (DBN)", "34.40 / 0.9218", "37.00 / 0.9850"),
                ("Nah et al.", "33.72 / 0.9559", "—"), ("Pan et al.", "25.46 / 0.9002", "—"),
                ("Shen et al.", "21.94 / 0.8803", "—"))
# Table 2: (label, use_render, use_identity) -> paper PSNR, SSIM, identity similarity.
ABLATION = ((("baseline (no priors)", False, False), ("36.74", "0.9817", "0.8352")),
            (("+ identity", False, True), ("36.82", "—", "—")),
            (("+ render", True, False), ("37.53", "0.9869", "—")),
            (("+ render + identity (full)", True, True), ("37.70", "0.9849", "0.8373")))
PAPER_SIZES = ((360, 450), (580, 610))
PAPER_TABLE3 = {"ours": ("0.67", "0.70"), "dbn": ("0.31", "0.77"), "srn": ("1.81", "1.98")}   # Titan X
PAPER_TABLE3_NAH = ("2.03", "2.56")


def paper_reference(method):
    """The paper's 300VW PSNR / SSIM of the configuration a method reproduces, or '—'."""
    h = method.header
    if method.architecture == "ours":
        for (_, render, identity), (p, s, _) in ABLATION:
            if (h.use_render, h.use_identity) == (render, identity):
                return p, s
    label = {"srn": "Tao", "dbn": "Su"}.get(method.architecture)
    row = next((r for r in PAPER_TABLE1 if label and r[0].startswith(label)), None)
    return tuple(row[1].split(" / ")) if row else ("—", "—")


def ablation_rows(methods):
    """[(label, [matching 'ours' methods], paper numbers)] for the four rows of Table 2."""
    return [(label, [m for m in methods if m.architecture == "ours"
                     and (m.header.use_render, m.header.use_identity) == (render, identity)],
             paper) for (label, render, identity), paper in ABLATION]
