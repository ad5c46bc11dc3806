import numpy as np
import torch
from omegaconf import OmegaConf

from skelcl.data.datamodule import SkeletonDataModule
from skelcl.data.formats import PreparedWriter, load_prepared
from skelcl.data.layouts import NTU25
from skelcl.eval.features import calibrate_batchnorm, extract_features
from skelcl.methods.skeletonclr import SkeletonCLR


def test_bn_calibration_rescues_random_encoder_features(tmp_path):
    rng = np.random.default_rng(0)
    with PreparedWriter(tmp_path / "ds", 12, 20, NTU25, 1) as w:
        for i in range(12):
            w.write(i, rng.normal(size=(3, 20, 25, 1)).astype(np.float32), label=i % 3, name=f"s{i}")
        w.commit({"a_train": np.arange(8), "a_test": np.arange(8, 12)}, num_classes=3)
    dm = SkeletonDataModule(load_prepared(tmp_path / "ds"), "a_train", "a_test", batch_size=4)
    torch.manual_seed(0)
    enc = OmegaConf.create({"_target_": "skelcl.encoders.stgcn.STGCN", "hidden_channels": 4, "hidden_dim": 16})
    views = {"query": [], "key": []}
    model = SkeletonCLR(layout=NTU25, num_classes=3, bodies=1, encoder=enc, views=views, queue_size=8,
                        clip={"frames": 12})
    before, _ = extract_features(model, dm.feature_loader("train"), "cpu")
    calibrate_batchnorm(model, dm.feature_loader("train"), "cpu")
    after, _ = extract_features(model, dm.feature_loader("train"), "cpu")
    assert before.abs().mean() < 1e-4  # untrained running stats: activations collapse in eval mode
    assert after.abs().mean() > 1e-2
    assert not model.training  # left in eval mode, dropout untouched
