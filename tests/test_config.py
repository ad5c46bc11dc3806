"""Config composition for every group option, and strictness: typos fail before any data is touched."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
from hydra.errors import ConfigCompositionException, MissingConfigException
from omegaconf import OmegaConf

from skelcl.build import validate
from tests.conftest import compose_train

CONF = Path(str(resources.files("skelcl") / "conf"))
GROUPS = ["method", "encoder", "dataset", "stream", "protocol", "trainer", "logger", "experiment"]


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF / group).glob("*.yaml"))


@pytest.mark.parametrize("group", GROUPS)
def test_every_group_has_options(group):
    assert options(group), f"config group '{group}' is empty"


@pytest.mark.parametrize("group,option", [(g, o) for g in GROUPS for o in options(g)])
def test_every_option_composes_and_validates(group, option, tmp_path):
    override = f"protocol=[{option}]" if group == "protocol" else f"{group}={option}"
    cfg = compose_train([override], tmp_path, tmp_path)
    for key, value in {"root": str(tmp_path), "split": "train", "layout": "ntu25"}.items():
        if OmegaConf.is_missing(cfg.dataset, key):  # datasets that need the user's files
            cfg.dataset[key] = value
    validate(cfg)


def test_missing_dataset_root_is_a_clear_error(tmp_path):
    cfg = compose_train(["dataset=ntu60_xsub"], tmp_path, tmp_path)
    with pytest.raises(ValueError, match=r"dataset.*root"):
        validate(cfg)


def test_unknown_key_fails_at_once(tmp_path):
    with pytest.raises(ConfigCompositionException, match="bogus"):
        compose_train(["method.bogus=1"], tmp_path, tmp_path)


def test_misspelt_group_option_fails(tmp_path):
    with pytest.raises(MissingConfigException, match="hiclrr"):
        compose_train(["method=hiclrr"], tmp_path, tmp_path)


def test_unknown_model_kwarg_fails_in_validation(tmp_path):
    cfg = compose_train(["+method.model.temperatur=0.1"], tmp_path, tmp_path)
    with pytest.raises(ValueError, match=r"method.model.*temperatur"):
        validate(cfg)


def test_unknown_schedule_field_fails(tmp_path):
    cfg = compose_train(["+method.schedule.lr_stepz=[1]"], tmp_path, tmp_path)
    with pytest.raises(ValueError, match="method.schedule"):
        validate(cfg)


def test_bad_augmentation_op_fails_before_data(tmp_path):
    from tests.conftest import run_train

    with pytest.raises(Exception, match="sheer"):
        run_train(["method.model.views.query=[{op: sheer}]"], tmp_path, tmp_path / "never-created")
    assert not (tmp_path / "never-created").exists()


def test_no_per_dataset_recipe_files_remain(tmp_path):
    """The small-data rule (skelcl.small_data) replaced the budget/ and quick/ groups: the composed config is the
    method's own recipe everywhere; the rule changes it only at run time, from the data."""
    assert not (CONF / "budget").exists() and not (CONF / "quick").exists()
    for overrides in ([], ["method=hiclr"], ["dataset=nucla"], ["dataset=ntu60_xsub"]):
        cfg = compose_train(overrides, tmp_path, tmp_path)
        assert cfg.epochs is None and cfg.method.model.key_init == "independent", overrides
        assert cfg.method.model.momentum == 0.999 and cfg.small_data.enabled == "auto", overrides
