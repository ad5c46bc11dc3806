"""bf16 on a CPU without bf16 units is warned about at start; with them, or in fp32, nothing is said."""

import logging

import pytest
import torch

from skelcl.cpu_precision import cpu_has_bf16_units, warn_if_bf16_emulated


@pytest.mark.parametrize("units", [False, True])
def test_bf16_warning_follows_the_cpu(monkeypatch, caplog, units):
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: units)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    assert cpu_has_bf16_units() is units
    with caplog.at_level(logging.WARNING, logger="skelcl"):
        assert warn_if_bf16_emulated("bf16-mixed", on_cpu=True) is not units
        assert not warn_if_bf16_emulated("32-true", on_cpu=True)
        assert not warn_if_bf16_emulated("bf16-mixed", on_cpu=False)  # a GPU run
    assert ("without bf16 units" in caplog.text) is not units


def test_amx_alone_counts_as_bf16_units(monkeypatch):
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: True)
    assert cpu_has_bf16_units()


def test_a_torch_without_the_checks_is_not_warned_about(monkeypatch):
    monkeypatch.delattr(torch.cpu, "_is_avx512_bf16_supported")
    monkeypatch.delattr(torch.cpu, "_is_amx_tile_supported")
    assert cpu_has_bf16_units() and not warn_if_bf16_emulated("bf16-mixed", on_cpu=True)
