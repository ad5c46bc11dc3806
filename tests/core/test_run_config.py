"""One typed RunConfig per run: protocol settings come from the method's blocks with the protocol's own node on
top, and the arguments the framework gives a method are one list that `method.model` cannot set."""

from __future__ import annotations

import inspect

import pytest

from skelcl.build import FRAMEWORK_KWARGS, validate
from skelcl.config import ConfigError, RunConfig
from skelcl.methods.base import ContrastiveMethod
from tests.conftest import compose_config


def test_validate_returns_the_config_with_its_typed_nodes():
    cfg = compose_config(["method=aimclr", "protocol=[linear,knn]"])
    run = validate(cfg)
    assert isinstance(run, RunConfig) and run.cfg is cfg
    assert run.method_name == "aimclr" and run.seed == 0
    assert list(run.protocols) == ["linear", "knn"]
    assert run.schedule.batch_size == cfg.method.schedule.batch_size and run.clip.frames == cfg.method.clip.frames


def test_a_protocol_reads_the_methods_recipe_and_its_own_node_wins():
    run = validate(compose_config(["method=ascal", "protocol=[linear,finetune]", "method.linear.epochs=7",
                                   "protocol.linear.solver=logistic", "+protocol.finetune.epochs=3"]))
    lin, ft = run.protocols["linear"], run.protocols["finetune"]
    assert (lin.epochs, lin.lr, lin.milestones, lin.solver) == (7, 1.0, [15, 35, 60, 75], "logistic")
    assert (ft.epochs, ft.lr, ft.subset, ft.label_fraction) == (3, 0.01, "first_k", 1.0)


def test_semi_takes_the_finetune_block_under_the_semi_block():
    hiclr = validate(compose_config(["method=hiclr", "protocol=[finetune,semi]"])).protocols
    assert (hiclr["semi"].epochs, hiclr["semi"].label_fraction) == (60, 0.1)
    assert hiclr["finetune"].epochs == 70
    assert hiclr["semi"].bn_frozen == hiclr["finetune"].bn_frozen  # not in HiCLR's semi block: from finetune
    plain = validate(compose_config(["method=skeletonclr", "protocol=[finetune,semi]"])).protocols
    assert plain["semi"].epochs == plain["finetune"].epochs and plain["semi"].label_fraction == 0.1


def test_a_bad_recipe_value_is_reported_where_it_was_set():
    with pytest.raises(ConfigError, match="'method.finetune.lr' = -1"):
        validate(compose_config(["protocol=[semi]", "method.finetune.lr=-1"]))


def test_framework_arguments_are_base_constructor_parameters_the_model_node_cannot_set():
    params = inspect.signature(ContrastiveMethod.__init__).parameters
    assert FRAMEWORK_KWARGS <= set(params)
    assert all(params[k].kind == inspect.Parameter.KEYWORD_ONLY for k in FRAMEWORK_KWARGS)
    with pytest.raises(ConfigError, match=r"\['seed'\] are set by the framework"):
        validate(compose_config(["+method.model.seed=3"]))
