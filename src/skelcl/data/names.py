"""Sample names of the public releases and the metadata they carry (subject, camera / view, setup).

NTU RGB+D `SsssCcccPpppRrrrAaaa`, N-UCLA `aAA_sSS_eEE_vVV`, and AimCLR's PKU-MMD names (`F002V001...`); used by the
prepare commands (splits, labels) and by the readers of already-prepared files (metadata for folds)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# ------------------------------------------------------------------------------------------------------ NTU

NTU_NAME_RE = re.compile(r"S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})")


@dataclass(frozen=True)
class NtuName:
    setup: int
    camera: int
    performer: int
    replication: int
    action: int

    @property
    def label(self) -> int:
        return self.action - 1

    @property
    def in_ntu60(self) -> bool:
        return self.setup <= 17 and self.action <= 60

    @property
    def name(self) -> str:
        return f"S{self.setup:03d}C{self.camera:03d}P{self.performer:03d}R{self.replication:03d}A{self.action:03d}"


def parse_ntu_name(name: str | Path) -> NtuName:
    """`S018C002P045R001A061[.skeleton]` -> NtuName(18, 2, 45, 1, 61). Raises ValueError otherwise."""
    stem = Path(str(name)).name
    if stem.endswith(".skeleton"):
        stem = stem[: -len(".skeleton")]
    m = NTU_NAME_RE.fullmatch(stem)
    if m is None:
        raise ValueError(f"'{name}' is not an NTU sample name (SsssCcccPpppRrrrAaaa)")
    n = NtuName(*(int(g) for g in m.groups()))
    if min(n.setup, n.performer, n.replication, n.action) < 1 or not 1 <= n.camera <= 3:
        raise ValueError(f"'{name}': setup, performer, replication and action start at 001, cameras are 001-003")
    return n


def try_parse_ntu_name(name: str | Path) -> NtuName | None:
    try:
        return parse_ntu_name(name)
    except ValueError:
        return None


# --------------------------------------------------------------------------------------------------- N-UCLA

ACTIONS = (1, 2, 3, 4, 5, 6, 8, 9, 11, 12)  # action code of label 1..10
NUCLA_NAME_RE = re.compile(r"a(\d{2})_s(\d{2})_e(\d{2})_v(\d{2})")


@dataclass(frozen=True)
class NuclaName:
    action: int
    subject: int
    repetition: int
    view: int

    @property
    def label(self) -> int:
        """0-based label from the action code."""
        return ACTIONS.index(self.action)


def parse_nucla_name(name: str) -> NuclaName:
    m = NUCLA_NAME_RE.fullmatch(Path(name).stem if name.endswith(".json") else name)
    if m is None:
        raise ValueError(f"'{name}' is not an N-UCLA clip name (aAA_sSS_eEE_vVV)")
    n = NuclaName(*(int(g) for g in m.groups()))
    if n.action not in ACTIONS:
        raise ValueError(f"'{name}': action a{n.action:02d} is not one of the 10 N-UCLA actions")
    return n


# ------------------------------------------------------------------------------------------------ any name

def name_metadata(name: str) -> dict[str, int]:
    """subject / view / setup from an NTU (`S001C002P003R002A013`) or AimCLR PKU (`F002V001...`) name."""
    n = try_parse_ntu_name(name)
    if n is not None:
        return {"subject": n.performer, "view": n.camera, "setup": n.setup}
    m = re.fullmatch(r"(?:F\d{3}|A\d{3}N\d{3})V(\d{3})C\d{3}L\d{3}", name)
    if m:
        return {"view": int(m.group(1))}
    return {}
