"""The encoder contract, stated once and checked where a method builds its encoders.

Every encoder is an `nn.Module` built from its YAML node as `factory(layout=, in_channels=, frames=, bodies=,
**node)` and has
- `out_dim: int`, the width of its pooled feature, and
- `forward(x)`: clips (N, C, T, V, M) -> features (N, out_dim).

On top of that an encoder declares, in its class attribute `CAPABILITIES`, what else it offers; a method that
needs a capability asks for it with `require`, so a mismatch fails when the method is built, naming both sides:
- `feature_map`: `forward_map(x)` -> (N·M, out_dim, T', V), the map before pooling, and `pool(fmap, bodies)` ->
  (N, out_dim), with `forward(x) == pool(forward_map(x), M)` (AimCLR's EADM drops map entries, SkeAttnCLR pools
  attended tokens);
- `graph`: an adjacency buffer `A` (K, V, V), graph blocks `st_gcn_networks` called as `block(x, a)` and
  `edge_importance` (a list of K×V×V masks or None): what HiCLR's edge perturbation rewrites.
"""

from __future__ import annotations

from torch import nn

#: capability -> attributes an encoder must have to declare it
CAPABILITIES: dict[str, tuple[str, ...]] = {
    "feature_map": ("forward_map", "pool"),
    "graph": ("A", "st_gcn_networks", "edge_importance"),
}


def capabilities(encoder: nn.Module) -> frozenset[str]:
    return frozenset(getattr(encoder, "CAPABILITIES", ()))


def check_encoder(encoder: nn.Module) -> None:
    """The base contract and every declared capability's attributes; raise TypeError naming what is missing."""
    name = type(encoder).__name__
    if not isinstance(encoder, nn.Module):
        raise TypeError(f"encoder {name} is not a torch.nn.Module")
    out_dim = getattr(encoder, "out_dim", None)
    if not isinstance(out_dim, int) or isinstance(out_dim, bool) or out_dim < 1:
        raise TypeError(f"encoder {name} must set `out_dim` (the pooled feature width) to a positive int, "
                        f"got {out_dim!r}")
    unknown = capabilities(encoder) - set(CAPABILITIES)
    if unknown:
        raise TypeError(f"encoder {name} declares unknown capabilities {sorted(unknown)}; known: "
                        f"{sorted(CAPABILITIES)}")
    for cap in capabilities(encoder):
        missing = [a for a in CAPABILITIES[cap] if not hasattr(encoder, a)]
        if missing:
            raise TypeError(f"encoder {name} declares '{cap}' but lacks {missing}")


def has(encoder: nn.Module, capability: str) -> bool:
    if capability not in CAPABILITIES:
        raise KeyError(f"unknown encoder capability {capability!r}; known: {sorted(CAPABILITIES)}")
    return capability in capabilities(encoder)


def require(encoder: nn.Module, capability: str, who: str, why: str) -> None:
    """Fail with an actionable message unless `encoder` declares `capability` (e.g. AimCLR needs 'feature_map')."""
    if not has(encoder, capability):
        offer = sorted(capabilities(encoder)) or "none"
        raise ValueError(f"{who} needs an encoder with '{capability}' ({why}); {type(encoder).__name__} offers "
                         f"{offer}. Use encoder=stgcn (or another encoder that declares it).")
