"""Per-view augmentation pipelines built from config.

A view is an ordered list of op specs, each a mapping with the op name under ``op`` and its parameters beside it::

    - {op: temporal_crop, pad_ratio: 6}
    - {op: shear, amplitude: 0.5}

Everything is checked when the view is built: an unknown op or parameter fails before any work starts, with the valid
names in the message. Ops that take ``layout`` get the view's layout. YAML lists are accepted for tuple parameters.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import torch
from torch import Tensor

from skelcl.augment.ops import OPS
from skelcl.data.layouts import Layout

__all__ = ["View", "ViewConfigError", "build_view", "op_names", "op_spec", "to_plain"]

# positional arguments every op takes; not configurable
_RESERVED = ("x", "g")


class ViewConfigError(ValueError):
    """An augmentation pipeline definition that names an unknown op or parameter, or is malformed."""


def to_plain(obj: Any) -> Any:
    """OmegaConf containers -> plain dict/list (resolved); anything else unchanged."""
    try:
        from omegaconf import DictConfig, ListConfig, OmegaConf
    except ImportError:  # pragma: no cover - omegaconf ships with hydra
        return obj
    if isinstance(obj, (DictConfig, ListConfig)):
        return OmegaConf.to_container(obj, resolve=True)
    return obj


def op_spec(spec: Any) -> Any:
    """An op spec as written in a view's list, as a mapping: a bare op name (`flip`) is `{op: flip}`."""
    return {"op": spec} if isinstance(spec, str) else spec


def op_names(specs: Iterable[Any]) -> list[Any]:
    """The op names of a view's specs, whether written as mappings or bare names."""
    return [op_spec(spec).get("op") for spec in specs]


def _tupled(v: Any) -> Any:
    """YAML lists -> tuples (recursively), so tuple-typed parameters accept them."""
    if isinstance(v, list):
        return tuple(_tupled(i) for i in v)
    return v


def _op_params(fn: Callable) -> dict[str, inspect.Parameter]:
    return {k: p for k, p in inspect.signature(fn).parameters.items() if k not in _RESERVED}


class View(torch.nn.Module):
    """An ordered augmentation pipeline: ``view(x, g)`` applies its ops in turn on the batch (N, C, T, V, M).

    Keyword arguments given at call time go to every op that has a parameter of that name (e.g. HiCLR's learnable
    ``fill`` for ``joint_mask``); a keyword no op accepts is an error."""

    def __init__(self, specs: Iterable[Mapping[str, Any]] | None, layout: Layout | None = None) -> None:
        super().__init__()
        self.layout = layout
        self.specs: list[dict[str, Any]] = []
        self._ops: list[tuple[str, Callable[..., Tensor], frozenset[str]]] = []
        specs = to_plain(specs)
        if specs is None:
            specs = []
        if isinstance(specs, Mapping) or not isinstance(specs, Sequence) or isinstance(specs, str):
            raise ViewConfigError(f"a view is a list of op specs like {{op: shear, amplitude: 0.5}}, got {specs!r}")
        for i, spec in enumerate(specs):
            name, fn, params = self._resolve(i, spec)
            self.specs.append({"op": name, **params})
            self._ops.append((name, functools.partial(fn, **params), frozenset(_op_params(fn))))

    def _resolve(self, i: int, spec: Any) -> tuple[str, Callable[..., Tensor], dict[str, Any]]:
        spec = op_spec(to_plain(spec))
        if not isinstance(spec, Mapping):
            raise ViewConfigError(f"op spec #{i} must be a mapping with an 'op' key, got {spec!r}")
        spec = dict(spec)
        if "op" not in spec:
            raise ViewConfigError(f"op spec #{i} {spec} has no 'op' key; valid ops: {sorted(OPS)}")
        name = spec.pop("op")
        if name not in OPS:
            raise ViewConfigError(f"op spec #{i}: unknown augmentation op '{name}'; valid ops: {sorted(OPS)}")
        fn = OPS[name]
        allowed = _op_params(fn)
        settable = sorted(k for k in allowed if k != "layout")
        unknown = sorted(k for k in spec if k not in allowed or k == "layout")
        if unknown:
            raise ViewConfigError(
                f"op spec #{i} ('{name}'): unknown parameter(s) {unknown}; valid parameters of '{name}': {settable}"
            )
        params = {k: _tupled(v) for k, v in spec.items()}
        if "layout" in allowed:
            if self.layout is None:
                raise ViewConfigError(f"op spec #{i} ('{name}') needs a joint layout; build the view with layout=...")
            params["layout"] = self.layout
        # bind now so a missing required parameter also fails at construction
        try:
            inspect.signature(fn).bind_partial(None, None, **params)
        except TypeError as e:  # pragma: no cover - guarded by the checks above
            raise ViewConfigError(f"op spec #{i} ('{name}'): {e}") from e
        return name, fn, params

    @property
    def op_names(self) -> list[str]:
        return [name for name, _, _ in self._ops]

    def forward(self, x: Tensor, g: torch.Generator | None = None, **runtime: Any) -> Tensor:
        if runtime:
            accepted = set().union(*(names for _, _, names in self._ops)) if self._ops else set()
            stray = sorted(set(runtime) - accepted)
            if stray:
                raise TypeError(f"View: no op in {self.op_names} takes the call-time argument(s) {stray}")
        for _, fn, names in self._ops:
            extra = {k: v for k, v in runtime.items() if k in names}
            x = fn(x, g, **extra)
        return x

    def __len__(self) -> int:
        return len(self._ops)

    def extra_repr(self) -> str:
        parts = []
        for spec in self.specs:
            args = ", ".join(f"{k}={v}" for k, v in spec.items() if k not in ("op", "layout"))
            parts.append(f"{spec['op']}({args})")
        return " -> ".join(parts) if parts else "identity"


def build_view(specs: Iterable[Mapping[str, Any]] | None, layout: Layout | None = None) -> View:
    """Build a :class:`View` from a list of op specs (dicts or OmegaConf) and the dataset's joint layout."""
    return View(specs, layout)
