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
    assert model.training and all(m.training for m in model.modules())  # the caller's mode is restored


def test_finetune_trains_the_encoder_in_the_configured_mode(tmp_path):
    """Lightning keeps submodules in the mode they arrive in: an encoder copied after BN calibration or feature
    extraction (eval mode) must still train with batch statistics unless bn_frozen (the ceiling run was at chance)."""
    from skelcl.config import FinetuneConfig
    from skelcl.eval.finetune import Classifier

    enc = OmegaConf.create({"_target_": "skelcl.encoders.stgcn.STGCN", "hidden_channels": 4, "hidden_dim": 16})
    model = SkeletonCLR(layout=NTU25, num_classes=3, bodies=1, encoder=enc, views={"query": [], "key": []},
                        queue_size=8, clip={"frames": 12})
    model.eval()
    for frozen in (False, True):
        clf = Classifier(model, FinetuneConfig(bn_frozen=frozen), seed=0)
        clf.on_train_epoch_start()
        bns = [m for m in clf.encoder.modules() if isinstance(m, torch.nn.BatchNorm2d)]
        assert bns and all(m.training is (not frozen) for m in bns)
