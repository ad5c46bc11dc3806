"""Checkpoints named on the command line: read and checked before any data or model is built, refused when
they come from a different setting, and reported with the epochs they really completed."""

from __future__ import annotations

import json

import pytest

from tests.conftest import TINY, compose_config, run_cli, run_train

pytestmark = pytest.mark.slow  # end-to-end runs / entry-point subprocesses


@pytest.fixture(scope="module")
def trained(tmp_path_factory, cache_dir):
    """One tiny 1-epoch SkeletonCLR run with epoch000.ckpt and last.ckpt."""
    run = tmp_path_factory.mktemp("trained")
    run_train(["checkpoint_every=1", "protocol=[knn]"], run, cache_dir)
    return run / "checkpoints"


def test_resume_with_another_method_is_refused_before_any_work(tmp_path, cache_dir, trained):
    with pytest.raises(ValueError, match=r"method.name: 'skeletonclr' in the checkpoint, 'aimclr' now") as e:
        run_train(["method=aimclr", f"ckpt_path={trained / 'last.ckpt'}", "epochs=2"], tmp_path / "run", cache_dir)
    assert "ckpt_allow_changed=[method" in str(e.value)
    assert not (tmp_path / "run").exists()


def test_changed_stream_needs_an_explicit_allowance(tmp_path, cache_dir, trained):
    args = ["stream=bone", f"ckpt_path={trained / 'last.ckpt'}", "epochs=2", "protocol=[knn]"]
    with pytest.raises(ValueError, match=r"stream.name: 'joint' in the checkpoint, 'bone' now"):
        run_train(args, tmp_path / "refused", cache_dir)
    records = run_train([*args, "ckpt_allow_changed=[stream]"], tmp_path / "allowed", cache_dir)
    assert records[0].stream == "bone" and records[0].epochs == 2


@pytest.mark.parametrize("case", ["empty", "missing", "zero_bytes", "truncated"])
def test_unusable_ckpt_path_fails_up_front(tmp_path, cache_dir, trained, case):
    path = {"empty": "", "missing": tmp_path / "nope.ckpt", "zero_bytes": tmp_path / "zero.ckpt",
            "truncated": tmp_path / "cut.ckpt"}[case]
    if case == "zero_bytes":
        path.write_bytes(b"")
    if case == "truncated":
        data = (trained / "last.ckpt").read_bytes()
        path.write_bytes(data[: len(data) // 2])
    message = {"empty": "ckpt_path is empty", "missing": "no such file", "zero_bytes": "the file is empty",
               "truncated": "truncated or not a PyTorch checkpoint"}[case]
    with pytest.raises(ValueError, match=message):
        run_train([f"ckpt_path={path}", "epochs=2"], tmp_path / "run", cache_dir)
    assert not (tmp_path / "run").exists()  # nothing was built or written


def test_evaluate_truncated_checkpoint_is_a_clear_error(tmp_path, cache_dir, trained):
    data = (trained / "last.ckpt").read_bytes()
    (tmp_path / "cut.ckpt").write_bytes(data[: len(data) // 3])
    proc = run_cli("skelcl.evaluate", [f"ckpt={tmp_path / 'cut.ckpt'}", f"hydra.run.dir={tmp_path}/eval"], tmp_path,
                   cache_dir, timeout=120)
    assert proc.returncode == 1
    assert "error: ckpt=" in proc.stderr and "truncated" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "eval").exists()


def test_evaluate_reports_completed_epochs_of_an_epoch_checkpoint(tmp_path, cache_dir, trained):
    from skelcl.evaluate import evaluate

    cfg = compose_config([f"ckpt={trained / 'epoch000.ckpt'}", f"+run_dir={tmp_path}", f"cache_dir={cache_dir}",
                          "protocol=[knn]", "progress_bar=false", "trainer=cpu"], config="evaluate")
    evaluate(cfg)
    assert json.loads((tmp_path / "results.json").read_text())[0]["epochs"] == 1


def test_stale_checkpoint_temporaries_are_removed_on_start(tmp_path, cache_dir):
    ckpts = tmp_path / "checkpoints"
    ckpts.mkdir(parents=True)
    stale = ckpts / ".last.ckpt.tmp-999999999"  # no such process
    stale.write_bytes(b"half a checkpoint")
    run_train(["protocol=[knn]", *TINY[:1]], tmp_path, cache_dir)
    assert not stale.exists() and (ckpts / "last.ckpt").is_file()


def test_a_moved_dataset_is_the_same_dataset(tmp_path, trained):
    from omegaconf import OmegaConf

    from skelcl.checkpoint import identity_differences, read_checkpoint

    saved = read_checkpoint(trained / "last.ckpt")["skelcl_config"]
    moved = OmegaConf.create(saved)
    moved.cache_dir = moved.dataset.root = str(tmp_path / "elsewhere")  # generated data in another cache
    assert identity_differences(saved, moved) == {}
    fold = OmegaConf.create(saved)
    fold.dataset.format, fold.dataset.root = "custom", "/data/fold2.pkl"
    saved_fold = OmegaConf.to_container(fold)
    saved_fold["dataset"]["root"] = "/old/place/fold1.pkl"
    assert identity_differences(saved_fold, fold)["dataset"] == [
        "dataset.root: 'fold1.pkl' in the checkpoint, 'fold2.pkl' now"]
    fold.dataset.link_bodies = True  # as dataset=custom sets it
    before_linking = OmegaConf.to_container(fold)
    del before_linking["dataset"]["link_bodies"]  # written before body slots were re-linked: it read them as stored
    assert identity_differences(before_linking, fold)["dataset"] == [
        "dataset.link_bodies: False in the checkpoint, True now"]


def test_a_second_run_into_a_used_run_directory_is_refused(tmp_path, cache_dir, trained):
    """Lightning would silently resume the earlier run's last.ckpt and report it as this run's result."""
    import shutil

    run = tmp_path / "run"
    shutil.copytree(trained.parent, run)
    with pytest.raises(ValueError, match=r"already holds an earlier run's checkpoints.*ckpt_path=.*last\.ckpt"):
        run_train(["protocol=[knn]", "small_data.lr=0.01"], run, cache_dir)
    records = run_train(["protocol=[knn]", "epochs=2", f"ckpt_path={run / 'checkpoints' / 'last.ckpt'}"], run,
                        cache_dir)  # resuming it on purpose still works
    assert records[0].epochs == 2


@pytest.mark.parametrize("epochs", [1, 60, 1000, 2500])
def test_checkpoint_names_sort_in_epoch_order(epochs):
    """Small-data runs of a few clips last thousands of epochs: the names are padded to the last one, so a listing
    sorts as the run went (`epoch059` of a 60-epoch run keeps its name)."""
    from lightning.pytorch.callbacks import ModelCheckpoint

    from skelcl.build import checkpoint_filename

    cb = ModelCheckpoint(filename=checkpoint_filename(epochs), auto_insert_metric_name=False)
    names = [cb.format_checkpoint_name({"epoch": e}) for e in range(epochs)]
    assert names == sorted(names) and names[0].endswith("epoch" + "0" * max(3, len(str(epochs - 1))) + ".ckpt")
    if epochs == 60:
        assert names[59].endswith("epoch059.ckpt")
