"""Writers of small raw files in the exact official formats (NTU .skeleton, PKU-MMD txt, N-UCLA json) and of
the existing prepared formats (CrosSCLR/AimCLR npy+pkl, pyskl pkl), for tests and benchmarks."""

from __future__ import annotations

import json
import pickle
from collections.abc import Sequence
from pathlib import Path

import numpy as np

BODY_ID = 72057594037931101

# a rough standing pose (metres, camera space) in Kinect v2 joint order; z ~ 3 m from the camera
NTU_POSE = np.array([
    [0.00, -0.30, 3.00], [0.00, 0.00, 3.00], [0.00, 0.35, 3.00], [0.00, 0.45, 3.00], [-0.17, 0.25, 3.00],
    [-0.25, 0.00, 3.00], [-0.27, -0.22, 3.00], [-0.28, -0.28, 3.00], [0.17, 0.25, 3.00], [0.25, 0.00, 3.00],
    [0.27, -0.22, 3.00], [0.28, -0.28, 3.00], [-0.09, -0.32, 3.00], [-0.10, -0.70, 3.00], [-0.10, -1.05, 3.00],
    [-0.10, -1.10, 2.95], [0.09, -0.32, 3.00], [0.10, -0.70, 3.00], [0.10, -1.05, 3.00], [0.10, -1.10, 2.95],
    [0.00, 0.27, 3.00], [-0.29, -0.34, 3.00], [-0.26, -0.30, 2.98], [0.29, -0.34, 3.00], [0.26, -0.30, 2.98],
])


def ntu_body(rng: np.random.Generator, body_id: int = BODY_ID, xyz: np.ndarray | None = None,
             offset: Sequence[float] = (0.0, 0.0, 0.0)) -> dict:
    """One body of one frame: 10 body-info fields and (25, 12) joint fields."""
    if xyz is None:
        xyz = NTU_POSE + np.asarray(offset) + rng.normal(scale=0.01, size=(25, 3))
    joints = np.zeros((25, 12))
    joints[:, :3] = xyz
    joints[:, 3:5] = rng.uniform(0, 512, size=(25, 2))  # depthX depthY
    joints[:, 5:7] = rng.uniform(0, 1920, size=(25, 2))  # colorX colorY
    q = rng.normal(size=(25, 4))
    joints[:, 7:11] = q / np.linalg.norm(q, axis=1, keepdims=True)
    joints[:, 11] = 2
    info = [body_id, 0, 1, 1, 1, 1, 0, round(float(rng.normal(scale=0.1)), 7),
            round(float(rng.normal(scale=0.1)), 7), 2]
    return {"id": body_id, "info": info, "joints": joints}


def skeleton_text(frames: Sequence[Sequence[dict]], newline: str = "\r\n") -> str:
    """The official .skeleton text for frames = [[body, ...], ...] (bodies from `ntu_body`)."""
    out = [str(len(frames))]
    for bodies in frames:
        out.append(str(len(bodies)))
        for b in bodies:
            info = b["info"]
            out.append(" ".join([str(int(v)) for v in info[:7]] + [f"{info[7]:.7g}", f"{info[8]:.7g}",
                                                                   str(int(info[9]))]))
            out.append("25")
            for j in b["joints"]:
                out.append(" ".join(f"{v:.7g}" for v in j[:11]) + f" {int(j[11])}")
    return newline.join(out) + newline


def write_skeleton(path: Path, frames: Sequence[Sequence[dict]], newline: str = "\r\n") -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(skeleton_text(frames, newline).encode("ascii"))
    return path


def random_frames(rng: np.random.Generator, frames: int, bodies: int = 2) -> list[list[dict]]:
    """A moving sequence of `bodies` tracked bodies (stable ids)."""
    out = []
    for t in range(frames):
        out.append([ntu_body(rng, BODY_ID + k, offset=(0.8 * k + 0.002 * t, 0.0, 0.3 * k)) for k in range(bodies)])
    return out


def expected_xyz(frames: Sequence[Sequence[dict]], slots: int = 2) -> np.ndarray:
    """(3, T, 25, slots) float32 of the first `slots` listed bodies, as written (rounded to 7 digits)."""
    x = np.zeros((len(frames), slots, 25, 3), dtype=np.float32)
    for t, bodies in enumerate(frames):
        for m, b in enumerate(bodies[:slots]):
            x[t, m] = np.array([[float(f"{v:.7g}") for v in j[:3]] for j in b["joints"]])
    return x.transpose(3, 0, 2, 1)


def make_ntu_tree(root: Path, names: Sequence[str], seed: int = 0, frames: int = 20, bodies: int = 2) -> Path:
    rng = np.random.default_rng(seed)
    for name in names:
        write_skeleton(Path(root) / f"{name}.skeleton", random_frames(rng, frames, bodies))
    return Path(root)


# ------------------------------------------------------------------------------------------------------ PKU-MMD


def write_pku_skeleton(path: Path, data: np.ndarray) -> Path:
    """data (T, 2, 25, 3) -> one line per frame of 150 floats (body 2 zeros when absent)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = np.asarray(data).reshape(len(data), 150)
    path.write_text("".join(" ".join(f"{v:.6f}" for v in r) + "\n" for r in rows))
    return path


def write_pku_labels(path: Path, rows: Sequence[Sequence[int]]) -> Path:
    """rows of (label, start, end, confidence), 1-based."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(",".join(str(v) for v in r) + "\n" for r in rows))
    return path


def write_pku_split(path: Path, train: Sequence[str], test: Sequence[str]) -> Path:
    path = Path(path)
    path.write_text("Training videos: \n" + ", ".join(train) + ",\nValidataion videos: \n" + ", ".join(test) + "\n")
    return path


def pku_sequence(rng: np.random.Generator, frames: int, two: bool = False) -> np.ndarray:
    x = np.zeros((frames, 2, 25, 3))
    x[:, 0] = NTU_POSE + rng.normal(scale=0.01, size=(frames, 25, 3))
    if two:
        x[:, 1] = NTU_POSE + [0.8, 0, 0] + rng.normal(scale=0.01, size=(frames, 25, 3))
    return np.round(x, 6)


# ------------------------------------------------------------------------------------------------------- N-UCLA

NUCLA_ACTIONS = (1, 2, 3, 4, 5, 6, 8, 9, 11, 12)


def write_nucla(root: Path, name: str, skeletons: np.ndarray, label: int | None = None) -> Path:
    """`<root>/<name>.json` = {"file_name", "skeletons" (T, 20, 3), "label" (1-based)}."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    if label is None:
        label = NUCLA_ACTIONS.index(int(name[1:3])) + 1
    obj = {"file_name": name, "skeletons": np.asarray(skeletons).tolist(), "label": label}
    path = root / f"{name}.json"
    path.write_text(json.dumps(obj))
    return path


def nucla_clip(rng: np.random.Generator, frames: int) -> np.ndarray:
    base = NTU_POSE[:20].copy()
    return np.round(base + rng.normal(scale=0.01, size=(frames, 20, 3)), 6)


# ------------------------------------------------------------------------------------------- existing formats


def write_crossclr(root: Path, part: str, data: np.ndarray, names: Sequence[str], labels: Sequence[int],
                   kind: str = "data_joint") -> Path:
    """`{part}_{kind}.npy` (N, 3, T, 25, 2) + `{part}_label.pkl` = pickle((names, labels))."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    np.save(root / f"{part}_{kind}.npy", np.asarray(data, dtype=np.float32))
    with open(root / f"{part}_label.pkl", "wb") as f:
        pickle.dump((list(names), [int(x) for x in labels]), f)
    return root


def write_pyskl(path: Path, annotations: Sequence[dict | None], split: dict[str, Sequence[str]]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump({"split": {k: list(v) for k, v in split.items()}, "annotations": list(annotations)}, f)
    return path


def pyskl_annotation(rng: np.random.Generator, name: str, label: int, frames: int, bodies: int = 1,
                     joints: int = 25) -> dict:
    kp = rng.normal(size=(bodies, frames, joints, 3)).astype(np.float16)
    return {"frame_dir": name, "label": label, "total_frames": frames, "keypoint": kp}
