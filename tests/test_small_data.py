"""The small-data rule: its derivation (pure numbers), where it applies, and what it writes into a run's config."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from skelcl.data.layouts import NTU25
from skelcl.small_data import SmallDataConfig, applies, apply, derive
from tests.conftest import compose_config


def nucla_like(**rule) -> object:
    """N-UCLA's training split (1,019 clips, median 31 frames) under SkeletonCLR's official recipe."""
    return derive(SmallDataConfig(**rule), clips=1019, median_length=31, frames=50, batch_size=128,
                  queue_size=32768, momentum=0.999, projector="mlp")


def ascal_like(median: float, temporal: str = "first", window_length: float | None = None, **rule) -> object:
    """1,019 clips of median length `median` under AS-CAL's recipe (first 150 frames, queue 500, raw embeddings)."""
    return derive(SmallDataConfig(**rule), clips=1019, median_length=median, frames=150, batch_size=32,
                  queue_size=500, momentum=0.999, projector="none", normalized=False, temporal=temporal,
                  window_length=window_length)


def test_derivation_for_a_thousand_clips():
    r = nucla_like()
    assert r.frames == 30  # the median length, not the method's 50
    assert r.batch_size == 32  # 1019 / 16 steps per epoch = 63.7 -> the power of two below
    assert r.epochs == round(40000 / 32 / (1019 // 32)) == 40
    assert r.steps == 40 * 31
    assert r.queue_size == 256  # nearest power of two to a quarter of the clips, far below 1019
    assert r.momentum == pytest.approx(1 - 1 / (0.05 * r.steps), abs=1e-4)
    assert r.warmup_epochs == 2 and r.projector == "mlp_bn_out"
    assert r.lr_scale == 32 / 128  # linear scaling of the method's SGD learning rate


def test_queue_is_always_well_below_the_split_and_at_least_a_batch():
    for clips in (40, 100, 300, 1019, 5000, 19999):
        r = derive(SmallDataConfig(), clips, 60, 50, 128, 32768, 0.999, "mlp")
        assert r.batch_size <= r.queue_size <= max(r.batch_size, clips // 2)
        assert clips // r.batch_size >= min(16, clips // 16)  # enough steps per epoch
        assert r.batch_size >= 16
        assert r.steps >= 40000 // r.batch_size * 0.9  # the budget, rounded to whole epochs


def test_method_values_are_caps_not_targets():
    """A method whose own queue / momentum / batch are already small keeps them."""
    r = derive(SmallDataConfig(), clips=1019, median_length=200, frames=64, batch_size=16, queue_size=128,
               momentum=0.9, projector="none")
    assert (r.frames, r.batch_size, r.queue_size, r.momentum, r.projector) == (64, 16, 128, 0.9, None)


def test_every_projector_without_an_output_batchnorm_gets_one():
    heads = {p: derive(SmallDataConfig(), clips=1019, median_length=40, frames=50, batch_size=128,
                       queue_size=32768, momentum=0.999, projector=p).projector
             for p in ("mlp", "mlp_bn", "mlp_bn_out", "none")}
    assert heads == {"mlp": "mlp_bn_out", "mlp_bn": "mlp_bn_out", "mlp_bn_out": None, "none": None}


def test_hand_fixed_values_win():
    r = nucla_like(batch_size=64, queue_size=512, momentum=0.99, epochs=8, frames=40)
    assert (r.batch_size, r.queue_size, r.momentum, r.epochs, r.frames) == (64, 512, 0.99, 8, 40)


def test_a_large_split_is_drawn_in_shorter_epochs():
    """At 19,000 clips the budget is two passes; AS-CAL's schedule (a queue-filling first epoch, the LR divided at
    half the run) needs finer epochs than that, so the rule draws 20 epochs of part of a pass each."""
    r = derive(SmallDataConfig(), clips=19000, median_length=60, frames=60, batch_size=32, queue_size=500,
               momentum=0.999, projector="none", temporal="first")
    assert (r.epochs, r.epoch_clips, r.steps) == (20, 62 * 32, 20 * 62)  # 40000 / 32 / 20 = 62.5 steps an epoch
    assert "20 epochs of 1984 clips" in r.describe()
    assert nucla_like().epoch_clips is None  # 40 passes over N-UCLA: whole passes, as before
    assert derive(SmallDataConfig(min_epochs=10), 19000, 60, 60, 32, 500, 0.999, "none").epochs == 10
    assert derive(SmallDataConfig(epochs=3), 19000, 60, 60, 32, 500, 0.999, "none").epoch_clips is None  # by hand
    for clips in range(1000, 20000, 700):  # the budget is kept at every size
        r = derive(SmallDataConfig(), clips, 60, 50, 128, 32768, 0.999, "mlp")
        assert r.epochs >= 20 and abs(r.steps * r.batch_size - 40000) <= 0.15 * 40000, (clips, r)


def test_budget_scales_the_steps_not_the_epochs():
    small, large = nucla_like(samples=20000), nucla_like(samples=80000)
    assert large.steps == pytest.approx(4 * small.steps, rel=0.05)
    assert large.momentum > small.momentum  # a longer run may average over more steps


def test_where_it_applies():
    rule = SmallDataConfig()
    assert applies(rule, 1019, "auto") and not applies(rule, 40091, "auto")
    assert not applies(rule, 1019, "paper")  # NTU / PKU presets keep the papers' recipes
    assert applies(SmallDataConfig(enabled="true"), 40091, "paper")
    assert not applies(SmallDataConfig(enabled="false"), 100, "auto")
    with pytest.raises(ValueError, match="small_data.enabled"):
        SmallDataConfig(enabled="sometimes")


def test_paper_datasets_say_so_and_small_ones_do_not():
    for name in ("ntu60_xsub", "ntu60_xview", "ntu120_xsub", "ntu120_xset", "pku1", "pku2"):
        assert compose_config([f"dataset={name}"]).dataset.recipe == "paper"
    for name in ("nucla", "custom", "synthetic"):
        assert compose_config([f"dataset={name}"]).dataset.recipe == "auto"


def test_apply_writes_the_recipe_into_the_config():
    cfg = compose_config(["method=aimclr"])
    assert cfg.protocol.linear.solver == "sgd"
    r = nucla_like()
    apply(cfg, r)
    assert cfg.protocol.linear.solver == "logistic"
    assert cfg.epochs == r.epochs and cfg.method.schedule.batch_size == r.batch_size
    assert cfg.method.clip.frames == 30 and cfg.method.model.queue_size == 256
    assert cfg.method.model.key_init == "copy" and cfg.method.model.projector == "mlp_bn_out"
    assert cfg.method.schedule.optimizer == "adam" and cfg.method.schedule.lr == 1e-3
    assert cfg.method.schedule.weight_decay == 0 and cfg.encoder.dropout == 0 and cfg.method.schedule.warmup_epochs == 2
    own = compose_config(["method=aimclr"])
    apply(own, nucla_like(optimizer="method"))
    assert own.method.schedule.optimizer == "sgd" and own.method.schedule.lr == pytest.approx(0.1 * 32 / 128)
    assert own.encoder.dropout == 0.5
    assert math.isclose(cfg.method.model.momentum, r.momentum)
    # the method's views, losses and mining schedule are left alone
    assert cfg.method.model.mining_epoch == 150


@pytest.mark.parametrize("clips, every", [(20, 250), (150, 28), (1019, 10), (10190, 10)])
def test_about_ten_checkpoints_are_kept_however_many_epochs_the_rule_runs(clips, every):
    """20 clips: 2,500 epochs of one step; a checkpoint every 10 epochs would keep 250 files of ~20 MB."""
    r = derive(SmallDataConfig(), clips, 40, 50, 128, 32768, 0.999, "mlp")
    cfg = compose_config([])
    assert cfg.checkpoint_every is None
    apply(cfg, r)
    assert cfg.checkpoint_every == every and r.epochs // every <= 10
    mine = compose_config(["checkpoint_every=5"])
    apply(mine, r)
    assert mine.checkpoint_every == 5  # the user's value stays


def test_a_method_budget_multiplies_the_clips_drawn():
    """`budget` (a method's `small_data_budget`) scales the clips drawn and the EMA horizon with the steps; an
    explicit epoch count replaces both."""
    one, two = nucla_like(), derive(SmallDataConfig(), clips=1019, median_length=31, frames=50, batch_size=128,
                                    queue_size=32768, momentum=0.999, projector="mlp", budget=2.0)
    assert two.epochs == round(80000 / 32 / 31) == 81 and two.steps == 81 * 31
    assert (two.batch_size, two.queue_size, two.frames) == (one.batch_size, one.queue_size, one.frames)
    assert two.momentum == pytest.approx(1 - 1 / (0.05 * two.steps), abs=1e-4) and two.momentum > one.momentum
    assert "2x the clips drawn" in two.describe() and "x the clips drawn" not in one.describe()
    fixed = derive(SmallDataConfig(epochs=8), clips=1019, median_length=31, frames=50, batch_size=128,
                   queue_size=32768, momentum=0.999, projector="mlp", budget=2.0)
    assert fixed.epochs == 8 and fixed.budget == 1.0
    with pytest.raises(ValueError, match="small_data_budget"):
        derive(SmallDataConfig(), 1019, 31, 50, 128, 32768, 0.999, "mlp", budget=0.0)


def test_skeattnclr_declares_twice_the_budget(tmp_path):
    """SkeAttnCLR's config doubles the rule's budget; the other methods keep it (docs/results.md)."""
    from skelcl.build import build_data
    from tests.conftest import compose_train

    steps = {}
    for method in ("skeletonclr", "skeattnclr"):
        cfg = compose_train(["dataset.options.num_subjects=4", f"method={method}", "encoder=stgcn"], tmp_path,
                            tmp_path / "cache")
        _, _, recipe = build_data(cfg)
        steps[method] = recipe.steps
    assert steps["skeattnclr"] == pytest.approx(2 * steps["skeletonclr"], rel=0.05)


def test_rule_in_a_run_config(tmp_path):
    """Through the entry point's assembly: the tiny synthetic split gets the rule, its recipe is what the method
    is built with, and small_data.enabled=false restores the method's own recipe."""
    from skelcl.build import apply_small_data_rule, build_datamodule, validate
    from tests.conftest import compose_train

    cfg = compose_train(["dataset.options.num_subjects=4", "small_data.frames=null"], tmp_path, tmp_path / "cache")
    typed = validate(cfg)
    dm = build_datamodule(typed.dataset, cfg.cache_dir, typed.schedule.batch_size, 0)
    recipe = apply_small_data_rule(cfg, dm)
    assert recipe is not None and recipe.clips == len(dm.train_idx)
    assert dm.batch_size == recipe.batch_size == validate(cfg).schedule.batch_size
    assert "small dataset" in recipe.describe() and f"{recipe.clips} clips" in recipe.describe()
    lengths = dm.prepared.lengths[dm.train_idx]
    assert recipe.frames == min(50, max(20, int(round(np.median(lengths) / 10)) * 10))

    off = compose_train(["dataset.options.num_subjects=4", "small_data.enabled=false"], tmp_path, tmp_path / "cache")
    assert apply_small_data_rule(off, dm) is None and off.method.model.queue_size == 32768


def test_bad_rule_value_fails_before_data(tmp_path):
    from skelcl.build import validate
    from tests.conftest import compose_train

    cfg = compose_train(["small_data.queue_fraction=2"], tmp_path, tmp_path / "cache")
    with pytest.raises(ValueError, match="queue_fraction"):
        validate(cfg)  # before any data is opened


@pytest.mark.parametrize("key, value, message", [
    ("small_data_budget", "'two'", "a number > 0"), ("small_data_budget", "0", "a number > 0"),
    ("small_data_budget", "-1.5", "a number > 0"), ("small_data_budget", "true", "a number > 0"),
    ("small_data_turn_2d", "'sixty'", r"a number of degrees in \[0, 90\]"),
    ("small_data_turn_2d", "120", r"a number of degrees in \[0, 90\]"),
])
def test_bad_method_declaration_fails_before_data_naming_the_key(tmp_path, key, value, message):
    from skelcl.build import validate
    from skelcl.config import ConfigError
    from tests.conftest import compose_train

    cfg = compose_train([f"+method.{key}={value}"], tmp_path, tmp_path / "cache")
    with pytest.raises(ConfigError, match=f"method.{key} must be {message}"):
        validate(cfg)  # before any data is opened


def test_explicit_epochs_replace_the_budget_and_set_the_momentum(tmp_path):
    """`epochs=3` on the command line: 3 epochs, and the EMA horizon follows those steps, not the budget's."""
    from skelcl.build import build_data
    from tests.conftest import compose_train

    cfg = compose_train(["dataset.options.num_subjects=4", "epochs=3"], tmp_path, tmp_path / "cache")
    _, dm, recipe = build_data(cfg)
    assert recipe.epochs == cfg.epochs == 3 and recipe.steps == 3 * (recipe.clips // recipe.batch_size)
    assert recipe.momentum == 0.9  # 5 % of a few dozen steps is below the fastest allowed key encoder


@pytest.mark.parametrize("method", ["aimclr", "hiclr", "ascal", "skeletonclr"])
def test_rule_fixes_the_buggy_augmentation_ops_and_builds(method):
    """Every blur / flip / noise op of every view gets its fix, AimCLR's method-level flags agree (or the build
    would fail on the conflict), and `augment_fixes=false` leaves the official ops alone."""
    from skelcl.augment.views import build_view
    from skelcl.data.layouts import NTU25
    from skelcl.methods.aimclr import QUIRK_OP_PARAMS, apply_quirk_flags

    fixes = {op: param for op, param in QUIRK_OP_PARAMS.values()}
    cfg = compose_config([f"method={method}", "method.model.views.query=[flip,gaussian_blur,gaussian_noise]"])
    apply(cfg, nucla_like())
    model = cfg.method.model
    seen = 0
    for specs in model.views.values():
        for spec in specs:
            if spec["op"] in fixes:
                assert spec[fixes[spec["op"]]] is True
                seen += 1
    assert seen >= 3
    flags = {f: model[f] for f in QUIRK_OP_PARAMS if f in model}
    assert all(flags.values()) and (method != "aimclr" or len(flags) == 3)
    for specs in apply_quirk_flags(model.views, **flags).values():
        build_view(list(specs), NTU25)
    kept = compose_config([f"method={method}", "method.model.views.query=[flip,gaussian_blur,gaussian_noise]"])
    apply(kept, nucla_like(augment_fixes=False))
    assert list(kept.method.model.views.query) == ["flip", "gaussian_blur", "gaussian_noise"]
    assert method != "aimclr" or kept.method.model.blur_normalize is False


def test_2d_clips_get_a_left_right_flip():
    """Only 2-D clips whose layout pairs left and right joints get the mirror; the rule says so, and it can be
    turned off."""
    def mirror(channels, has_pairs=True, **rule):
        return derive(SmallDataConfig(**rule), clips=1019, median_length=31, frames=50, batch_size=128,
                      queue_size=32768, momentum=0.999, projector="mlp", channels=channels, has_pairs=has_pairs)

    assert mirror(3).mirror == "no" and "flip in every" not in mirror(3).describe()
    assert mirror(2).mirror == "added" and "2-D: left/right flip" in mirror(2).describe()
    assert mirror(2, has_pairs=False).mirror == "no pairs" and "no left/right pairs" in mirror(2, False).describe()
    assert mirror(2, mirror_2d=False).mirror == "no"


@pytest.mark.parametrize("method", ["skeletonclr", "aimclr", "hiclr", "skeattnclr", "ascal"])
def test_turn_goes_before_the_shear_of_views_without_a_rotation(method):
    """A method's 2-D turn is one rotation about the vertical put before the first shear of each view that has a
    shear and no rotation; other views are left exactly as written."""
    from omegaconf import open_dict

    from skelcl.augment.views import op_names
    from skelcl.small_data import add_turn

    model = compose_config([f"method={method}"]).method.model
    before = OmegaConf.to_container(model.views)
    with open_dict(model):
        add_turn(model, 45.0)
    after = OmegaConf.to_container(model.views)
    for name, specs in after.items():
        old = op_names(before[name])
        if "shear" in old and "rotate" not in old:
            at = old.index("shear")
            assert specs[at] == {"op": "rotate", "mode": "single", "axis": 1, "max_angle": 45.0, "symmetric": True}
            assert specs[:at] + specs[at + 1:] == before[name], name
        else:
            assert specs == before[name], name
    assert any("rotate" not in op_names(before[n]) for n in before)  # the method had views to turn


def test_only_2d_clips_get_the_methods_turn():
    def turn(channels, degrees):
        return derive(SmallDataConfig(), clips=1019, median_length=31, frames=50, batch_size=128, queue_size=32768,
                      momentum=0.999, projector="mlp", channels=channels, turn_2d=degrees)

    assert turn(3, 60.0).turn == 0 and "turn" not in turn(3, 60.0).describe()
    assert turn(2, 0.0).turn == 0 and "turn" not in turn(2, 0.0).describe()
    assert turn(2, 60.0).turn == 60 and "2-D: left/right flip in every shear/rotation view, a turn about the " \
        "vertical (±60°) in every shear view" in turn(2, 60.0).describe()


@pytest.mark.parametrize("method", ["skeletonclr", "aimclr", "hiclr", "skeattnclr", "ascal"])
def test_mirror_goes_into_every_geometric_view_once(method):
    """Every view with a shear or rotation ends up with exactly one flip (a mirror that reflects x); views that
    had their own keep it unchanged, and views without geometry (SkeAttnCLR's part-swap mix) get none."""
    from omegaconf import OmegaConf, open_dict

    from skelcl.small_data import add_mirror

    model = compose_config([f"method={method}"]).method.model
    before = OmegaConf.to_container(model.views)
    with open_dict(model):
        add_mirror(model)
    after = OmegaConf.to_container(model.views)
    assert after.keys() == before.keys()
    for name, specs in after.items():
        ops = [s["op"] for s in specs]
        old = [s["op"] for s in before[name]]
        if not {"shear", "rotate"} & set(old):
            assert specs == before[name], name
        elif "flip" in old:
            assert specs == before[name], name
        else:
            assert specs[:-1] == before[name] and specs[-1] == {"op": "flip", "p": 0.5, "reflect_coords": True}
        assert ops.count("flip") == (1 if {"shear", "rotate"} & set(old) else old.count("flip")), name
    assert any("flip" not in [s["op"] for s in before[n]] for n in before)  # the method had views to mend


def test_a_first_frames_method_strides_through_long_clips():
    """AS-CAL takes the first T frames: on a recording at 12x N-UCLA's frame rate (median 372 frames) the rule takes
    every 3rd frame so that its window holds the median clip, as it does at the native rate (without a recurrent
    encoder's window length: AS-CAL on ST-GCN); a resampling method, and clips that already fit, keep every frame."""
    fast = ascal_like(372, "first")
    assert (fast.stride, fast.frames) == (3, 120) and "120 frames (stride 3)" in fast.describe()
    native = ascal_like(31, "first")
    assert (native.stride, native.frames) == (1, 30) and "stride" not in native.describe()
    assert (ascal_like(372, "resize").stride, ascal_like(372, "resize").frames) == (1, 150)
    assert (ascal_like(372, "first", stride=2).stride, ascal_like(372, "first", stride=2).frames) == (2, 150)  # by hand
    cfg = compose_config(["method=ascal"])
    apply(cfg, fast)
    assert (cfg.method.clip.stride, cfg.method.clip.frames, cfg.method.clip.temporal) == (3, 120, "first")


def test_a_recurrent_first_frames_encoder_gets_a_window_of_most_clips():
    """An LSTM taking the first T frames: T stays the median's, the stride grows until T steps hold the length nine in
    ten clips are at most (N-UCLA: median 34, 90th percentile 84 -> 30 steps of every 3rd frame); a 10 fps recording
    of the same clips gets the same window in time; a hand-fixed stride or T wins; without a window length (ST-GCN
    in AS-CAL) the median window as before; a stride never leaves the median clip fewer than `median_steps` steps."""
    def recipe(median, window, **rule):
        return ascal_like(median, window_length=window, **rule)

    native = recipe(34, 84)
    assert (native.frames, native.stride) == (30, 3) and "30 frames (stride 3)" in native.describe()
    assert (recipe(11, 28).frames, recipe(11, 28).stride) == (20, 2)  # 10 fps: 40 frames = 120 at 30 fps
    assert (recipe(408, 1008).frames, recipe(408, 1008).stride) == (150, 7)  # 360 fps
    assert (recipe(34, 30).frames, recipe(34, 30).stride) == (30, 1)  # every clip fits already
    assert (recipe(34, 84, stride=1).frames, recipe(34, 84, stride=1).stride) == (30, 1)
    assert (recipe(34, 84, frames=60).frames, recipe(34, 84, frames=60).stride) == (60, 2)
    assert (recipe(34, None).frames, recipe(34, None).stride) == (30, 1)
    # a long tail of clip lengths: the median clip keeps 5 steps (stride 4, not 10) and T grows to hold the window
    assert (recipe(20, 200).frames, recipe(20, 200).stride) == (50, 4)
    assert (recipe(20, 2000).frames, recipe(20, 2000).stride) == (150, 4)  # up to the method's T
    assert (recipe(20, 200, median_steps=2).frames, recipe(20, 200, median_steps=2).stride) == (20, 10)
    with pytest.raises(ValueError, match="window_share"):
        SmallDataConfig(window_share=1.5)
    with pytest.raises(ValueError, match="median_steps"):
        SmallDataConfig(median_steps=0)


def test_only_a_recurrent_encoder_gets_the_long_window(tmp_path):
    """Through the run's assembly: AS-CAL's LSTM strides to hold `window_share` of the training clips, AS-CAL on
    ST-GCN keeps the median window, and window_share=0.5 gives the LSTM the median window too."""
    from skelcl.build import apply_small_data_rule, build_datamodule, validate
    from tests.conftest import compose_train

    def recipe(*overrides):
        cfg = compose_train(["method=ascal", "dataset.options.num_subjects=4", "small_data.frames=20", *overrides],
                            tmp_path, tmp_path / "cache")
        dm = build_datamodule(validate(cfg).dataset, cfg.cache_dir, 16, 0)
        return apply_small_data_rule(cfg, dm), dm.prepared.lengths[dm.train_idx]

    lstm, lengths = recipe()
    assert lstm.stride == max(1, math.ceil(np.quantile(lengths, 0.9) / 20)) > 1
    assert recipe("encoder=stgcn", "method.model.projector=mlp", "method.model.normalize=true")[0].stride == max(
        1, math.ceil(np.median(lengths) / 150))
    assert recipe("small_data.window_share=0.5")[0].stride == max(1, math.ceil(np.median(lengths) / 20))


def test_unnormalised_embeddings_get_normalised():
    """A method with raw dot-product logits (AS-CAL) gets L2-normalised embeddings and the start line says so;
    a method that already normalises, or the rule's switch turned off, leaves the flag alone."""
    def recipe(normalized, **rule):
        return derive(SmallDataConfig(**rule), clips=1019, median_length=31, frames=60, batch_size=32,
                      queue_size=500, momentum=0.999, projector="none", normalized=normalized)

    assert recipe(False).normalize and "L2-normalised embeddings" in recipe(False).describe()
    assert not recipe(True).normalize and "L2-normalised" not in recipe(True).describe()
    assert not recipe(False, normalize_embeddings=False).normalize
    cfg = compose_config(["method=ascal"])
    assert cfg.method.model.normalize is False
    apply(cfg, recipe(False))
    assert cfg.method.model.normalize is True and cfg.method.model.temperature == 0.06  # the method's tau stays
    kept = compose_config(["method=ascal"])
    apply(kept, recipe(False, normalize_embeddings=False))
    assert kept.method.model.normalize is False


def test_ascal_through_the_rule_trains_on_normalised_embeddings(tmp_path):
    """End to end through the entry point's assembly: the built AS-CAL model normalises its query and key embeddings."""
    import torch

    from skelcl.build import build_data, build_method
    from tests.conftest import compose_train

    cfg = compose_train(["method=ascal", "dataset.options.num_subjects=4"], tmp_path, tmp_path / "cache")
    run, dm, recipe = build_data(cfg)
    assert recipe is not None and recipe.normalize
    model = build_method(run, dm, int(cfg.epochs))
    assert model.normalize
    _, c, _, v, m = dm.prepared.shape
    clips = torch.randn(4, c, int(cfg.method.clip.frames), v, m)
    for z in (model.embed_q(clips), model.embed_k(clips)):
        assert torch.allclose(z.norm(dim=1), torch.ones(4), atol=1e-5)


def test_every_rule_field_can_be_set_from_the_command_line():
    """The packaged config lists every field of the rule (Hydra refuses an override of a key it does not have)."""
    import dataclasses

    cfg = compose_config(["small_data.mirror_2d=false", "small_data.augment_fixes=false",
                          "small_data.normalize_embeddings=false", "small_data.stride=2"])
    assert set(cfg.small_data) == {f.name for f in dataclasses.fields(SmallDataConfig)}
    assert cfg.small_data.mirror_2d is False and cfg.small_data.augment_fixes is False
    assert cfg.small_data.normalize_embeddings is False and cfg.small_data.stride == 2


@pytest.mark.parametrize("median, frames, chunk", [(20, 20, 1), (31, 30, 2), (45, 40, 2), (62, 60, 4), (300, 64, 4)])
def test_part_swap_keeps_its_share_of_a_shorter_clip(median, frames, chunk):
    """SkeAttnCLR swaps 4-7 chunks of 4 frames at its 64 frames (25-44 % of the clip). When the rule shortens the clip
    the chunk shrinks with it (at 20 frames 4-7 chunks of 4 would cover 80-100 %); the start line says so."""
    from skelcl.augment.ops import part_swap_with_params

    cfg = compose_config(["method=skeattnclr"])
    recipe = derive(SmallDataConfig(), clips=1019, median_length=median, frames=64, batch_size=128,
                    queue_size=32768, momentum=0.996, projector="mlp_bn")
    apply(cfg, recipe)
    assert recipe.frames == frames and cfg.method.model.views.mix[0].chunk == chunk
    assert f"{frames} frames (part swap in chunks of {chunk})" in recipe.describe()
    x = torch.zeros(8, 3, frames, 25, 2)
    params = {k: v for k, v in OmegaConf.to_container(cfg.method.model.views.mix[0]).items() if k != "op"}
    swapped = []
    for seed in range(200):  # the swapped frame range covers at most 7 chunks, i.e. under half of the clip
        _, _, r, _ = part_swap_with_params(x, torch.Generator().manual_seed(seed), NTU25, **params)
        swapped.append(int(r.sum()))
    assert 4 * chunk <= min(swapped) and max(swapped) <= 7 * chunk <= 0.5 * frames + 1
    bare = compose_config(["method=skeattnclr", "method.model.views.mix=[part_swap]"])  # the op's defaults
    apply(bare, recipe)
    assert bare.method.model.views.mix[0].chunk == chunk
    other = compose_config(["method=skeletonclr"])  # no part swap: nothing said, nothing written
    apply(other, nucla_like())
    assert "part swap" not in nucla_like().describe() and "mix" not in other.method.model.views
