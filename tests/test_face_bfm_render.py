"""The BFM path end to end on the real topology: front .mat -> loader -> renderer.

The Basel mean shape is not available here, so the test builds a face-shaped stand-in:
the 68 landmark vertices (`keypoints`) are pinned to the 3D landmark template of
`similarity_Lm3D_all.mat` and every other vertex is the biharmonic interpolation of them
over the mesh. Wrong 1-based/0-based handling of `tri`, `keypoints` or `point_buf`
breaks the framing or puts the projected landmarks off the rendered face.
"""
import numpy as np
import pytest
import scipy.io
import scipy.sparse
import scipy.sparse.linalg

from deblur3d.face import bfm
from deblur3d.face.render import FaceRenderer
from test_face_render import check_mean_face_framing


def smooth_mean_shape(triangles, num_vertices, pinned, positions):
    """Vertices with `pinned` fixed at `positions`, the rest as smooth as the mesh allows
    (biharmonic: the Laplacian of the Laplacian vanishes at free vertices)."""
    edges = np.concatenate([triangles[:, [0, 1]], triangles[:, [1, 2]], triangles[:, [2, 0]]])
    adjacency = scipy.sparse.coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])),
                                        shape=(num_vertices, num_vertices)).tocsr()
    adjacency = ((adjacency + adjacency.T) > 0).astype(float)
    laplacian = scipy.sparse.diags(np.asarray(adjacency.sum(1)).ravel()) - adjacency
    laplacian = (laplacian @ laplacian).tocsr()
    free = np.setdiff1d(np.arange(num_vertices), pinned)
    # A tiny diagonal term keeps vertices not connected to any landmark at the origin.
    system = laplacian[free][:, free] + 1e-9 * scipy.sparse.identity(len(free))
    out = np.zeros((num_vertices, 3))
    out[pinned] = positions
    rhs = -laplacian[free][:, pinned] @ positions
    out[free] = np.stack([scipy.sparse.linalg.spsolve(system.tocsc(), rhs[:, k]) for k in range(3)], 1)
    return out


@pytest.fixture(scope="module")
def bfm_like_model(data_root, tmp_path_factory):
    topo = data_root / "bfm-topology"
    info = scipy.io.loadmat(topo / "facemodel_info.mat")
    template = scipy.io.loadmat(topo / "similarity_Lm3D_all.mat")["lm"].astype(np.float64)
    triangles = info["tri"].astype(np.int64) - 1
    keypoints = info["keypoints"][0].astype(np.int64) - 1
    v = int(info["point_buf"].shape[0])
    mean = smooth_mean_shape(triangles, v, keypoints, template)
    rng = np.random.default_rng(0)
    front = {name: info[name] for name in bfm.INFO_FIELDS}
    front.update(
        meanshape=mean.reshape(1, -1).astype(np.float32),
        idBase=(1e-3 * rng.standard_normal((3 * v, 80))).astype(np.float32),
        exBase=(1e-3 * rng.standard_normal((3 * v, 64))).astype(np.float32),
        meantex=np.full((1, 3 * v), 180.0, np.float32),
        texBase=rng.standard_normal((3 * v, 80)).astype(np.float32),
    )
    path = tmp_path_factory.mktemp("bfm_render") / "BFM_model_front.mat"
    scipy.io.savemat(path, front)
    return bfm.load_front_mat(path)


def test_bfm_layout_mean_face_is_centred_with_landmarks_on_it(bfm_like_model):
    assert bfm_like_model.num_vertices == 35709 and bfm_like_model.num_triangles == 70789
    out = FaceRenderer(bfm_like_model)(np.zeros((1, 239), np.float32))
    check_mean_face_framing(out)
