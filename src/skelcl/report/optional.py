"""Optional plotting libraries (the `report` extra): imported on use, with one clear message when missing."""

from __future__ import annotations

import importlib

_PIP_NAMES = {"matplotlib": "matplotlib", "sklearn": "scikit-learn"}


class MissingExtra(ImportError):
    pass


def require(module: str):
    try:
        mod = importlib.import_module(module)
    except ImportError:
        raise MissingExtra(f"{module} is needed for skelcl's figures: pip install 'skelcl[report]' "
                           f"(or pip install {_PIP_NAMES.get(module.split('.')[0], module)})") from None
    return mod


def pyplot():
    """matplotlib.pyplot on the non-interactive Agg backend (files only, works without a display)."""
    matplotlib = require("matplotlib")
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt
