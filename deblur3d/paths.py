"""Where the data lives: $DEBLUR3D_DATA, else ../shared/data beside the checkout."""
import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

# Artefacts of the repository, anchored at its root so scripts work from any folder.
CHECKPOINTS = REPO_ROOT / "checkpoints"
DEBLUR_WEIGHTS = CHECKPOINTS / "deblur_full.weights.npz"
RECON_WEIGHTS = CHECKPOINTS / "recon_ict.weights.npz"     # the committed DeblurNets' priors were made with it
RECON_PEOPLE = CHECKPOINTS / "recon_people.weights.npz"    # taught on people (teach_recon.py): the default priors'
                                                           # ReconNet
SKIN_MODEL = CHECKPOINTS / "skin_model.npz"
ICT_ALBEDO = CHECKPOINTS / "ict_albedo.npz"                # 10 components: ReconNet's own texture
ICT_ALBEDO_RICH = CHECKPOINTS / "ict_albedo_rich.npz"      # 3 tones + 77: fitted textures
DATA_CACHE = REPO_ROOT / "cache" / "data"
PRIORS = REPO_ROOT / "cache" / "priors"


def default_data_root():
    """The data folder to use when no flag names one, or None if there is none."""
    env = os.environ.get("DEBLUR3D_DATA")
    if env:
        return Path(env)
    for candidate in (REPO_ROOT.parent / "shared" / "data", Path.cwd().parent / "shared" / "data"):
        if candidate.is_dir():
            return candidate
    return None


def data_path(*parts, root=None):
    """Path of an input under the data root; a clear error when it is absent."""
    root = Path(root) if root else default_data_root()
    if root is None:
        raise FileNotFoundError(
            "No data folder: set $DEBLUR3D_DATA or pass --data_dir (docs/data.md#data).")
    path = root.joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist (docs/data.md#data says where it comes from).")
    return path
