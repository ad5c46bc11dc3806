"""Strict config everywhere: `+key=value` cannot add unknown keys at any level, and out-of-range or mistyped
values fail with one line naming the key and the allowed range, before any run directory exists."""

from __future__ import annotations

import pytest

from skelcl.build import validate
from tests.conftest import TINY, compose_train, run_cli, run_train


@pytest.mark.parametrize("override,key", [
    ("+encoder_typo=3", "encoder_typo"),
    ("+method.bogus=1", "bogus"),
    ("+method.linear.lrr=1", "lrr"),
    ("+stream.nme=bone", "nme"),
    ("+logger.projekt=x", "projekt"),
])
def test_unknown_key_anywhere_fails(tmp_path, override, key):
    cfg = compose_train([override], tmp_path, tmp_path)
    with pytest.raises(ValueError, match=rf"unknown key\(s\) \['{key}'\]"):
        validate(cfg)


@pytest.mark.parametrize("override,message", [
    ("epochs=abc", "config 'epochs' = 'abc': must be null"),
    ("epochs=-1", "config 'epochs' = -1: must be null"),
    ("epochs=0", "config 'epochs' = 0: .*pretrain=false skips pretraining"),
    ("epochs=2.5", "config 'epochs' = 2.5"),
    ("seed=-1", "config 'seed' = -1"),
    ("checkpoint_every=0", "config 'checkpoint_every' = 0"),
    ("floor=maybe", "config 'floor' = 'maybe': choose auto, true or false"),
    ("method.schedule.batch_size=0", r"config 'method.schedule.batch_size' = 0: must be an integer >= 1"),
    ("method.schedule.batch_size=abc", r"'method.schedule.batch_size': Value 'abc' .* could not be converted"),
    ("method.schedule.lr=-0.1", r"'method.schedule.lr' = -0.1: must be a number > 0"),
    ("method.schedule.momentum=1.5", r"'method.schedule.momentum' = 1.5: must lie in \[0, 1\)"),
    ("method.schedule.optimizer=adamw", r"'method.schedule.optimizer' = 'adamw': choose 'sgd' or 'adam'"),
    ("method.clip.frames=0", r"'method.clip.frames' = 0"),
    ("protocol.knn.k=0", r"'protocol.knn.k' = 0"),
    ("protocol.linear.cv_score=auc",
     r"'protocol.linear.cv_score' = 'auc': choose one of \['accuracy', 'auto', 'log_loss'\]"),
    ("method.linear.epochs=0", r"'method.linear.epochs' = 0"),
])
def test_out_of_range_value_names_key_and_range(tmp_path, cache_dir, override, message):
    run_dir = tmp_path / "run"
    with pytest.raises(ValueError, match=message) as err:
        run_train([override], run_dir, cache_dir)
    assert "\n" not in str(err.value)
    assert not run_dir.exists()


@pytest.mark.slow
def test_cli_bad_value_is_one_line_and_leaves_no_run_dir(tmp_path, cache_dir):
    proc = run_cli("skelcl.train", [*TINY, "method.schedule.batch_size=0", f"hydra.run.dir={tmp_path}/run"],
                   tmp_path, cache_dir, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.strip() == "error: config 'method.schedule.batch_size' = 0: must be an integer >= 1"
    assert not (tmp_path / "run").exists()


def test_unknown_trainer_argument_fails_before_data(tmp_path, cache_dir):
    with pytest.raises(ValueError, match=r"config 'trainer': unknown or reserved key\(s\) \['max_epoch'\]"):
        run_train(["+trainer.max_epoch=3"], tmp_path / "run", cache_dir)
    assert not (tmp_path / "run").exists()


def test_unknown_dataset_option_fails_with_the_config(tmp_path):
    cfg = compose_train(["+dataset.options.num_subject=4"], tmp_path, tmp_path)
    with pytest.raises(ValueError, match=r"'dataset.options': unknown key\(s\) \['num_subject'\] for format"):
        validate(cfg)
