"""`open_dataset`: one entry point for every dataset source; always returns a `PreparedDataset`.

    format='prepared'   a directory written by `python -m skelcl.data.prepare` (or any PreparedWriter)
    format='crossclr'   CrosSCLR / AimCLR npy + label pkl directory (converted once, cached)
    format='pyskl'      pyskl annotation pickle (converted once, cached)
    format='custom'     pyskl-style pickle with a user layout (`layout=` name, mapping or YAML file)
    format='synthetic'  the built-in procedural dataset, generated on first use (options -> SyntheticConfig)
    format='auto'       guess from `root`: meta.json -> prepared, *_label.pkl -> crossclr, *.pkl -> pyskl
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from skelcl.config import MAX_BODIES, MIN_BODY_SHARE
from skelcl.data.formats import DataFormatError, PreparedDataset, load_prepared

FORMATS = ("prepared", "crossclr", "pyskl", "custom", "synthetic", "auto")


def detect_format(root: str | Path) -> str:
    root = Path(root)
    if not root.exists():
        raise FileNotFoundError(f"{root}: dataset path not found")
    if root.is_file():
        if root.suffix == ".pkl":
            return "pyskl"
        raise DataFormatError(f"{root}: cannot tell the dataset format of this file; pass format=")
    if (root / "meta.json").is_file():
        return "prepared"
    if any(root.glob("*_label.pkl")):
        return "crossclr"
    raise DataFormatError(f"{root}: cannot tell the dataset format (no meta.json, no *_label.pkl); pass format=")


def open_dataset(root: str | Path | None, format: str = "prepared", layout: Any = None,
                 cache_dir: str | Path | None = None, max_bodies: int | None = MAX_BODIES,
                 min_body_share: float = MIN_BODY_SHARE, link_bodies: bool = True, **kw: Any) -> PreparedDataset:
    """Open (converting or generating first where needed) the dataset at `root`.

    `layout`: for crossclr/pyskl a layout name, mapping or YAML path (default: the built-in layout with the
    data's joint count); required for 'custom'; for 'prepared' / 'synthetic' it must match the stored one.
    `max_bodies`, `min_body_share`: a pyskl / custom pickle keeps at most `max_bodies` bodies per clip (None: no
    limit), the most seen first, after the first only those seen at least `min_body_share` as much as it
    (`skelcl.data.bodies`); data stored with fixed body slots (prepared, crossclr, synthetic) must not have more
    slots than `max_bodies`. `link_bodies`: a pyskl / custom pickle's body slots are re-linked into one person each
    before that, where a slot jumps between people from frame to frame (`skelcl.data.tracks`).
    `cache_dir`: where converted copies go (default: next to the source); the synthetic dataset's directory
    when `root` is not given. Extra keyword arguments go to the reader (e.g. num_classes, variant, benchmark
    for crossclr; SyntheticConfig fields for synthetic).
    """
    if format not in FORMATS:
        raise ValueError(f"unknown dataset format '{format}'; known: {', '.join(FORMATS)}")
    if format == "synthetic":
        from skelcl.data.synthetic import ensure_synthetic

        base = root or cache_dir
        if not base:
            raise ValueError("synthetic dataset: give root or cache_dir (where it is generated)")
        num_classes = kw.get("num_classes")  # a generator option: it makes that many classes
        ds = load_prepared(ensure_synthetic(base, **kw))
        return _check_bodies(_check_classes(_check_layout(ds, layout), num_classes), max_bodies)
    if not root:
        raise ValueError(f"format '{format}' needs a dataset root (dataset.root)")
    root = Path(root).expanduser()
    if not root.exists():
        raise FileNotFoundError(f"{root}: dataset path not found")
    if format == "auto":
        format = detect_format(root)
    if format == "prepared":
        num_classes = kw.pop("num_classes", None)
        if kw:
            raise TypeError(f"unexpected options for a prepared dataset: {sorted(kw)}")
        return _check_bodies(_check_classes(_check_layout(load_prepared(root), layout), num_classes), max_bodies)
    from skelcl.data import readers

    if format == "crossclr":
        return _check_bodies(load_prepared(readers.convert_crossclr(root, cache_dir=cache_dir, layout=layout, **kw)),
                             max_bodies)
    if format == "custom" and layout is None:
        raise ValueError(f"{root}: format 'custom' needs layout= (a name, a mapping or a YAML file)")
    return load_prepared(readers.convert_pyskl(root, cache_dir=cache_dir, layout=layout,
                                               require_classes=format == "custom", max_bodies=max_bodies,
                                               min_body_share=min_body_share, link_bodies=link_bodies, **kw))


def _check_bodies(ds: PreparedDataset, max_bodies: int | None) -> PreparedDataset:
    slots = ds.data.shape[-1]
    if max_bodies is not None and slots > max_bodies:
        raise DataFormatError(f"{ds.origin}: stores {slots} body slots per clip but dataset.max_bodies={max_bodies}; "
                              "bodies are chosen when a pyskl / custom pickle is converted, not in stored data: "
                              f"set dataset.max_bodies={slots} (or null)")
    return ds


def _check_classes(ds: PreparedDataset, num_classes: int | None) -> PreparedDataset:
    if num_classes is not None and int(num_classes) != ds.num_classes:
        raise DataFormatError(f"{ds.origin}: dataset.num_classes={num_classes} but the dataset has "
                              f"{ds.num_classes} classes")
    return ds


def _check_layout(ds: PreparedDataset, layout: Any) -> PreparedDataset:
    if layout is None:
        return ds
    from skelcl.data.readers import load_layout

    want = load_layout(layout, where=ds.origin) if isinstance(layout, (str, Path, Mapping)) else layout
    if want != ds.layout:
        raise DataFormatError(f"{ds.origin}: stored layout '{ds.layout.name}' differs from the requested "
                              f"layout '{getattr(want, 'name', want)}'")
    return ds
