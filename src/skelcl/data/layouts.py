"""Skeleton layouts: the one place that knows joints, bones, centre joint, left/right pairs and body parts.

Everything that names a joint (graph, bone stream, flip, part swap, centring) reads a `Layout`, so any
skeleton (NTU's 25 Kinect v2 joints, N-UCLA's 20 Kinect v1 joints, or a user's own) works everywhere.
All indices here are 0-based.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


class LayoutError(ValueError):
    """A layout definition that is internally inconsistent."""


@dataclass(frozen=True)
class Layout:
    """A skeleton joint layout.

    bones: (child, parent) pairs; the root is its own parent, so the bone stream gives it a zero bone.
    center: joint used as graph centre and for centring (NTU: spine shoulder).
    pairs: left/right joint pairs; joints in no pair are self-symmetric.
    parts: body parts (lists of joints) for part-aware augmentations (SkeleMix).
    """

    name: str
    num_joints: int
    bones: tuple[tuple[int, int], ...]
    center: int
    pairs: tuple[tuple[int, int], ...] = ()
    parts: tuple[tuple[int, ...], ...] = ()
    joint_names: tuple[str, ...] = field(default=())
    shoulders: tuple[int, int] | None = None  # (left, right), for shoulder alignment
    #: first joint number in messages: 1 for layouts written with `one_based: true` (not part of the layout)
    numbering: int = field(default=0, compare=False, repr=False)

    def __post_init__(self) -> None:
        v = self.num_joints
        off = self.numbering
        where = f"layout '{self.name}'" + (" (1-based joint numbers)" if off else "")
        if v < 1:
            raise LayoutError(f"{where}: num_joints must be >= 1, got {v}")

        def n(*joints: int) -> str:  # joints as the user wrote them
            return ", ".join(str(j + off) for j in joints)

        def check(j: int, what: str) -> None:
            if not isinstance(j, int) or not 0 <= j < v:
                raise LayoutError(f"{where}: {what} names joint {n(j)}, which does not exist "
                                  f"(joints are {off}..{v - 1 + off})")

        for c, p in self.bones:
            check(c, f"bone [{n(c, p)}]")
            check(p, f"bone [{n(c, p)}]")
        children = [c for c, _ in self.bones]
        twice = sorted({c for c in children if children.count(c) > 1})
        if twice:
            raise LayoutError(f"{where}: joint(s) {n(*twice)} appear twice as a bone child (each bone is "
                              "[joint, parent]; every joint has one parent, the root is its own parent)")
        check(self.center, "center")
        seen: set[int] = set()
        for a, b in self.pairs:
            check(a, f"left/right pair [{n(a, b)}]")
            check(b, f"left/right pair [{n(a, b)}]")
            if a == b or a in seen or b in seen:
                raise LayoutError(f"{where}: joint used in more than one left/right pair: [{n(a, b)}]")
            seen.update((a, b))
        for part in self.parts:
            for j in part:
                check(j, f"part [{n(*part)}]")
        if self.shoulders is not None:
            for j in self.shoulders:
                check(j, "shoulders")
        if self.joint_names and len(self.joint_names) != v:
            raise LayoutError(f"{where}: {len(self.joint_names)} joint names for {v} joints")

    @property
    def parents(self) -> list[int]:
        """parent[v] for every joint; joints that are no bone's child are their own parent (zero bone)."""
        par = list(range(self.num_joints))
        for c, p in self.bones:
            par[c] = p
        return par

    @property
    def edges(self) -> list[tuple[int, int]]:
        """Undirected graph edges: the bones without self-loops."""
        return [(c, p) for c, p in self.bones if c != p]

    @property
    def flip_permutation(self) -> list[int]:
        """Joint permutation that swaps left and right (an involution)."""
        perm = list(range(self.num_joints))
        for a, b in self.pairs:
            perm[a], perm[b] = b, a
        return perm

    @classmethod
    def from_dict(cls, d: Mapping, one_based: bool | None = None) -> Layout:
        """Build from a config mapping. Joint numbers are 1-based when `one_based: true` is given."""
        d = dict(d)
        ob = bool(d.pop("one_based", False) if one_based is None else one_based)
        off = 1 if ob else 0
        known = {"name", "num_joints", "bones", "center", "pairs", "parts", "joint_names", "shoulders"}
        unknown = set(d) - known
        if unknown:
            raise LayoutError(f"layout '{d.get('name', '?')}': unknown keys {sorted(unknown)}; known: {sorted(known)}")
        for key in ("name", "num_joints", "bones", "center"):
            if key not in d:
                raise LayoutError(f"layout definition is missing '{key}'")

        def j(x: int) -> int:
            return int(x) - off

        def pairs(seq: Sequence) -> tuple[tuple[int, int], ...]:
            out = []
            for item in seq:
                if len(item) != 2:
                    raise LayoutError(f"layout '{d['name']}': expected a pair, got {list(item)}")
                out.append((j(item[0]), j(item[1])))
            return tuple(out)

        shoulders = d.get("shoulders")
        return cls(
            name=str(d["name"]),
            num_joints=int(d["num_joints"]),
            bones=pairs(d["bones"]),
            center=j(d["center"]),
            pairs=pairs(d.get("pairs", ())),
            parts=tuple(tuple(j(x) for x in part) for part in d.get("parts", ())),
            joint_names=tuple(d.get("joint_names", ())),
            shoulders=None if shoulders is None else (j(shoulders[0]), j(shoulders[1])),
            numbering=off,
        )


def _one_based(pairs: Sequence[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    return tuple((a - 1, b - 1) for a, b in pairs)


NTU25 = Layout(
    name="ntu25",
    num_joints=25,
    bones=_one_based(
        [(1, 2), (2, 21), (3, 21), (4, 3), (5, 21), (6, 5), (7, 6), (8, 7), (9, 21), (10, 9), (11, 10), (12, 11),
         (13, 1), (14, 13), (15, 14), (16, 15), (17, 1), (18, 17), (19, 18), (20, 19), (21, 21), (22, 23), (23, 8),
         (24, 25), (25, 12)]
    ),
    center=20,
    pairs=_one_based([(5, 9), (6, 10), (7, 11), (8, 12), (13, 17), (14, 18), (15, 19), (16, 20), (22, 24), (23, 25)]),
    # SkeleMix order: trunk, right arm, left arm, right leg, left leg (SkeAttnCLR's parts A..D after the trunk)
    parts=(
        (3, 2, 20, 1, 0),
        (8, 9, 10, 11, 23, 24),
        (4, 5, 6, 7, 21, 22),
        (16, 17, 18, 19),
        (12, 13, 14, 15),
    ),
    joint_names=(
        "spine_base", "spine_mid", "neck", "head", "left_shoulder", "left_elbow", "left_wrist", "left_hand",
        "right_shoulder", "right_elbow", "right_wrist", "right_hand", "left_hip", "left_knee", "left_ankle",
        "left_foot", "right_hip", "right_knee", "right_ankle", "right_foot", "spine_shoulder", "left_hand_tip",
        "left_thumb", "right_hand_tip", "right_thumb",
    ),
    shoulders=(4, 8),
)

KINECT20 = Layout(
    name="kinect20",
    num_joints=20,
    bones=_one_based(
        [(1, 2), (2, 3), (3, 3), (4, 3), (5, 3), (6, 5), (7, 6), (8, 7), (9, 3), (10, 9), (11, 10), (12, 11),
         (13, 1), (14, 13), (15, 14), (16, 15), (17, 1), (18, 17), (19, 18), (20, 19)]
    ),
    center=2,
    pairs=_one_based([(5, 9), (6, 10), (7, 11), (8, 12), (13, 17), (14, 18), (15, 19), (16, 20)]),
    parts=(
        (3, 2, 1, 0),
        (8, 9, 10, 11),
        (4, 5, 6, 7),
        (16, 17, 18, 19),
        (12, 13, 14, 15),
    ),
    joint_names=(
        "hip_center", "spine", "shoulder_center", "head", "left_shoulder", "left_elbow", "left_wrist", "left_hand",
        "right_shoulder", "right_elbow", "right_wrist", "right_hand", "left_hip", "left_knee", "left_ankle",
        "left_foot", "right_hip", "right_knee", "right_ankle", "right_foot",
    ),
    shoulders=(4, 8),
)

# 2-D pose estimators (0-based, as they write them). Neither has a hip or neck centre of its own: the graph hangs
# from the nose (COCO, as pyskl's graph does) or the neck (OpenPose, as ST-GCN's Kinetics graph does).
COCO17 = Layout(
    name="coco17",  # COCO keypoints: HRNet / pyskl / mmaction2 PoseC3D pickles
    num_joints=17,
    bones=((0, 0), (1, 0), (2, 0), (3, 1), (4, 2), (5, 0), (6, 0), (7, 5), (8, 6), (9, 7), (10, 8), (11, 5), (12, 6),
           (13, 11), (14, 12), (15, 13), (16, 14)),
    center=0,
    pairs=((1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16)),
    parts=((0, 1, 2, 3, 4), (6, 8, 10), (5, 7, 9), (12, 14, 16), (11, 13, 15)),
    joint_names=(
        "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder", "left_elbow",
        "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle",
        "right_ankle",
    ),
    shoulders=(5, 6),
)

OPENPOSE18 = Layout(
    name="openpose18",  # OpenPose COCO-18 (with a neck): ST-GCN's Kinetics-skeleton release
    num_joints=18,
    bones=((0, 1), (1, 1), (2, 1), (3, 2), (4, 3), (5, 1), (6, 5), (7, 6), (8, 2), (9, 8), (10, 9), (11, 5), (12, 11),
           (13, 12), (14, 0), (15, 0), (16, 14), (17, 15)),
    center=1,
    pairs=((5, 2), (6, 3), (7, 4), (11, 8), (12, 9), (13, 10), (15, 14), (17, 16)),
    parts=((0, 1, 14, 15, 16, 17), (2, 3, 4), (5, 6, 7), (8, 9, 10), (11, 12, 13)),
    joint_names=(
        "nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow", "left_wrist",
        "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle", "right_eye", "left_eye",
        "right_ear", "left_ear",
    ),
    shoulders=(5, 2),
)

LAYOUTS: dict[str, Layout] = {lay.name: lay for lay in (NTU25, KINECT20, COCO17, OPENPOSE18)}


def get_layout(spec: str | Mapping | Layout) -> Layout:
    """A layout by name ('ntu25', 'kinect20', 'coco17', 'openpose18') or from a mapping (a custom layout from YAML)."""
    if isinstance(spec, Layout):
        return spec
    if isinstance(spec, str):
        if spec not in LAYOUTS:
            raise LayoutError(f"unknown joint layout '{spec}'; known: {sorted(LAYOUTS)} (or give a mapping)")
        return LAYOUTS[spec]
    if isinstance(spec, Mapping):
        return Layout.from_dict(spec)
    raise LayoutError(f"cannot build a layout from {type(spec).__name__}")
