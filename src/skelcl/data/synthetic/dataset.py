"""Generating the dataset into the prepared format, and the cache keyed by the configuration."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import asdict, fields
from pathlib import Path

import numpy as np

from skelcl.data.formats import PreparedWriter, build_once
from skelcl.data.layouts import NTU25
from skelcl.data.synthetic.body import sample_subjects
from skelcl.data.synthetic.cameras import add_sensor_noise, camera_frames, camera_rigs, to_camera, warp_recording
from skelcl.data.synthetic.config import CAMERA_YAW_DEG, CLASS_NAMES, GENERATOR_VERSION, TWO_PERSON, SyntheticConfig
from skelcl.data.synthetic.performance import perform

log = logging.getLogger("skelcl.data.synthetic")


def sample_name(setup: int, camera: int, subject: int, replication: int, label: int) -> str:
    return f"S{setup:03d}C{camera:03d}P{subject:03d}R{replication:03d}A{label + 1:03d}"


def partners(num_subjects: int) -> np.ndarray:
    """Partner (0-based) of each subject in two-person classes: the next subject on the same cross-subject side, so
    test subjects never appear in training recordings."""
    ids = np.arange(num_subjects)
    out = ids.copy()
    for side in (0, 1):
        same = ids[ids % 2 == side]
        out[same] = np.roll(same, -1)
    return out


def sample_index(cfg: SyntheticConfig, subject: int, label: int, rep: int, cam: int) -> int:
    """Position of a recording in the arrays (0-based arguments): subject-major, then class, replication, camera."""
    return ((subject * cfg.num_classes + label) * cfg.repeats + rep) * cfg.cameras + cam


def record_class(label: int, cfg: SyntheticConfig, bones: dict, style: dict, rigs: tuple) -> tuple[np.ndarray, ...]:
    """All recordings of one class: data (n, cams, C, T, V, M) float32, lengths (n,), subject (n,) 0-based."""
    rng = np.random.default_rng([cfg.seed, 1, label])
    subj = np.repeat(np.arange(cfg.num_subjects), cfg.repeats)
    room, lengths, centre = perform(CLASS_NAMES[label], subj, partners(cfg.num_subjects), bones, style, cfg, rng)
    bodies = 2 if CLASS_NAMES[label] in TWO_PERSON else 1
    setup = subj % cfg.num_setups
    noise_rng = np.random.default_rng([cfg.seed, 3, label])
    warp_rng = np.random.default_rng([cfg.seed, 5, label])
    out = np.zeros((len(subj), cfg.cameras, 3, cfg.max_frames, 25, 2), dtype=np.float32)
    for cam in range(cfg.cameras):
        pos, axes = camera_frames(rng, CAMERA_YAW_DEG[cam], *(r[setup, cam] for r in rigs[:2]), centre,
                                  *(r[setup, cam] for r in rigs[2:]))
        body_centre = np.einsum("ni,nij->nj", centre + np.array([0.0, 1.0, 0.0]) - pos, axes)  # ~1 m up
        x = warp_recording(warp_rng, to_camera(room, pos, axes), body_centre, cfg.warp)
        x = add_sensor_noise(noise_rng, x, bodies, lengths, cfg)
        out[:, cam] = x.transpose(0, 4, 1, 3, 2)  # (n, T, M, V, C) -> (n, C, T, V, M)
    return out, lengths, subj


def make_splits(subject: np.ndarray, camera: np.ndarray) -> dict[str, np.ndarray]:
    """NTU-style splits: odd subject ids train / even test; cameras 2 and 3 train / camera 1 test."""
    splits = {"xsub_train": np.flatnonzero(subject % 2 == 1), "xsub_test": np.flatnonzero(subject % 2 == 0)}
    if camera.max() > 1:
        splits.update(xview_train=np.flatnonzero(camera != 1), xview_test=np.flatnonzero(camera == 1))
    return splits


def generate_synthetic(out: str | Path, cfg: SyntheticConfig | None = None) -> Path:
    """Generate the dataset described by `cfg` and write it (atomically) as a prepared dataset at `out`."""
    cfg = cfg or SyntheticConfig()
    cfg.validate()
    bones, style = sample_subjects(np.random.default_rng([cfg.seed, 0]), cfg.num_subjects)
    rigs = camera_rigs(cfg)
    total = cfg.num_subjects * cfg.num_classes * cfg.repeats * cfg.cameras
    subject_of, camera_of = np.zeros(total, dtype=int), np.zeros(total, dtype=int)
    out = Path(out)
    with PreparedWriter(out, total, cfg.max_frames, NTU25, bodies=2, name="synthetic") as writer:
        for label in range(cfg.num_classes):
            data, lengths, subj = record_class(label, cfg, bones, style, rigs)
            for p, s in enumerate(subj):
                rep = p % cfg.repeats
                for cam in range(cfg.cameras):
                    i = sample_index(cfg, int(s), label, rep, cam)
                    setup = 1 + int(s) % cfg.num_setups
                    writer.write(i, data[p, cam, :, : lengths[p]], label,
                                 sample_name(setup, cam + 1, int(s) + 1, rep + 1, label),
                                 subject=int(s) + 1, view=cam + 1, setup=setup)
                    subject_of[i], camera_of[i] = int(s) + 1, cam + 1
        writer.commit(make_splits(subject_of, camera_of), cfg.num_classes, CLASS_NAMES[: cfg.num_classes],
                      source={"generator": "skelcl.data.synthetic", "version": GENERATOR_VERSION,
                              "config": asdict(cfg)})
    return out


def config_hash(cfg: SyntheticConfig) -> str:
    """Short stable hash of the config and generator version (the cache key)."""
    blob = json.dumps({"version": GENERATOR_VERSION, **asdict(cfg)}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:10]


def ensure_synthetic(cache_dir: str | Path, **overrides) -> Path:
    """Path of the synthetic dataset for `SyntheticConfig(**overrides)` under `cache_dir`, generating it only if it
    is not cached yet. Concurrent callers wait for each other (`build_once`); the write is atomic."""
    known = {f.name for f in fields(SyntheticConfig)}
    unknown = set(overrides) - known
    if unknown:
        raise TypeError(f"unknown synthetic dataset option(s) {sorted(unknown)}; known: {sorted(known)}")
    cfg = SyntheticConfig(**overrides)
    cfg.validate()
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    out = cache_dir / f"synthetic-{config_hash(cfg)}"

    def generate() -> Path:
        log.info("generating the synthetic dataset into %s (first use; cached afterwards)", out)
        start = time.perf_counter()
        generate_synthetic(out, cfg)  # atomic: a broken leftover at `out` is replaced
        log.info("synthetic dataset generated in %.1f s", time.perf_counter() - start)
        return out

    return build_once(out, lambda o: (o / "meta.json").is_file(), generate)
