"""Linear evaluation on cached frozen features: Linear(D, C) with the method's schedule (e.g. AimCLR:
SGD lr 3.0, 100 epochs, x0.1 after 80, init N(0, 0.02^2)).

Training on cached features is exactly the official protocol (frozen encoder in eval mode, no augmentation),
only faster. The headline is the final epoch; the best test epoch (what official code reports) is returned
separately and labelled as test-set model selection.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from skelcl.config import LinearConfig
from skelcl.eval.metrics import accuracies, topk_accuracy
from skelcl.progress import progress as progress_bar
from skelcl.schedules import lr_factor


def train_linear(train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor, test_y: torch.Tensor,
                 num_classes: int, cfg: LinearConfig, seed: int = 0, device: str | torch.device = "cpu",
                 eval_every: int = 5, progress: bool = False) -> dict:
    if cfg.standardize:  # the training split's statistics only; the test split never informs the probe
        mean, std = train_x.mean(0), train_x.std(0).clamp(min=1e-6)
        train_x, test_x = (train_x - mean) / std, (test_x - mean) / std
    g = torch.Generator().manual_seed(seed)
    head = nn.Linear(train_x.shape[1], num_classes)
    with torch.no_grad():
        head.weight.normal_(0.0, cfg.init_std, generator=g)
        head.bias.zero_()
    head.to(device)
    train_x, train_y = train_x.to(device), train_y.to(device)
    test_x, test_y = test_x.to(device), test_y.to(device)
    opt = torch.optim.SGD(head.parameters(), lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov,
                          weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda e: lr_factor(e, cfg.milestones, cfg.gamma, 0))
    n = train_x.shape[0]
    best = (-1.0, 0)
    for epoch in progress_bar(range(cfg.epochs), "linear probe (epochs)", enabled=progress):
        perm = torch.randperm(n, generator=g).to(device)
        for i in range(0, n, cfg.batch_size):
            idx = perm[i : i + cfg.batch_size]
            loss = F.cross_entropy(head(train_x[idx]), train_y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        sched.step()
        if (epoch + 1) % eval_every == 0 or epoch + 1 == cfg.epochs:
            with torch.no_grad():
                top1 = topk_accuracy(head(test_x), test_y, num_classes, 1)
            if top1 > best[0]:
                best = (top1, epoch + 1)
    with torch.no_grad():
        scores = head(test_x)
    return {
        **accuracies(scores, test_y, num_classes),
        "best_on_test_top1": best[0],
        "best_on_test_epoch": best[1],
        "logits": scores.cpu(),
    }
