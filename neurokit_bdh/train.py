"""Backpropagation through time with surrogate gradients: train loop, evaluation, checkpoints, loss curve.

Deterministic for a given seed on one device and thread count: the model's initialisation, the batch
order and any Poisson encoding use their own generators (this module never seeds torch's global RNG).

>>> from neurokit_bdh.data import load_digits
>>> from neurokit_bdh.models.snn import SNNConfig
>>> cfg = SNNConfig(hidden=(32,), n_steps=6)
>>> model, hist = train_snn(cfg, TrainConfig(epochs=1, batch_size=64), load_digits("train"), progress=False)
>>> len(hist["loss"]) == 23 and hist["loss"][-1] < hist["loss"][0]
True
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import torch
import torch.nn.functional as F

from neurokit_bdh.data.digits import Dataset, batches
from neurokit_bdh.models.snn import SNNClassifier, SNNConfig

CHECKPOINT_FORMAT = "neurokit_bdh.snn/1"


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 30
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 0.0
    lr_schedule: str = "cosine"   # cosine decay to 0 over all steps, or "constant"
    seed: int = 0                 # batch order
    device: str = "cpu"
    # torch.set_num_threads during training (None: leave as is). One thread is the default: the per-step
    # tensors are small, and on the shared 2-core machine 2 threads measured 0.15 -> 6 s/epoch (digits, 256 LIF).
    num_threads: int | None = 1

    def __post_init__(self):
        for name in ("epochs", "batch_size"):
            v = getattr(self, name)
            if not (isinstance(v, int) and v > 0):
                raise ValueError(f"{name}: expected a positive int, got {v!r}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"lr: expected a finite number > 0, got {self.lr!r}")
        if self.lr_schedule not in ("cosine", "constant"):
            raise ValueError(f"lr_schedule: expected 'cosine' or 'constant', got {self.lr_schedule!r}")
        if self.device not in ("cpu", "cuda") and not str(self.device).startswith("cuda:"):
            raise ValueError(f"device: expected 'cpu' or 'cuda', got {self.device!r}")


def _device(name: str) -> torch.device:
    if str(name).startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device: {name!r} requested but CUDA is not available")
    return torch.device(name)


@torch.no_grad()
def evaluate(model: SNNClassifier, ds: Dataset, batch_size: int = 256) -> float:
    """Classification accuracy of ``model`` on ``ds`` (fraction in [0, 1])."""
    was = model.training
    model.eval()
    dev = next(model.parameters()).device
    correct = 0
    for x, y in batches(ds, batch_size):
        correct += int((model(x.to(dev)).argmax(1).cpu() == y).sum())
    model.train(was)
    return correct / max(len(ds), 1)


def train(model: SNNClassifier, train_ds: Dataset, cfg: TrainConfig = TrainConfig(), test_ds: Dataset | None = None,
          progress: bool = True) -> dict:
    """Train ``model`` in place with Adam and cross-entropy on its readout scores (BPTT).

    Returns the history: ``loss`` (per batch), ``epoch_loss``, ``train_acc`` (running, per epoch),
    ``test_acc`` (per epoch, if ``test_ds``), ``wall_s``.
    """
    from tqdm.auto import tqdm

    dev = _device(cfg.device)
    model.to(dev).train()
    old_threads = torch.get_num_threads()
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    try:
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        n_batches = math.ceil(len(train_ds) / cfg.batch_size)
        total = cfg.epochs * n_batches
        sched = (torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total) if cfg.lr_schedule == "cosine"
                 else None)
        g = torch.Generator().manual_seed(cfg.seed)
        hist = {"loss": [], "epoch_loss": [], "train_acc": [], "test_acc": []}
        t0 = time.perf_counter()
        bar = tqdm(total=total, disable=not progress, unit="batch", desc="train", dynamic_ncols=True)
        for epoch in range(cfg.epochs):
            s_loss, s_correct, s_n = 0.0, 0, 0
            for x, y in batches(train_ds, cfg.batch_size, shuffle=True, generator=g):
                x, y = x.to(dev), y.to(dev)
                scores = model(x)                        # (B, n_out)
                loss = F.cross_entropy(scores, y)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                if sched is not None:
                    sched.step()
                lv = float(loss.detach())
                hist["loss"].append(lv)
                s_loss += lv * len(y)
                s_correct += int((scores.argmax(1) == y).sum())
                s_n += len(y)
                bar.update(1)
                bar.set_postfix(epoch=epoch + 1, loss=f"{lv:.3f}", refresh=False)
            hist["epoch_loss"].append(s_loss / s_n)
            hist["train_acc"].append(s_correct / s_n)
            if test_ds is not None:
                hist["test_acc"].append(evaluate(model, test_ds))
                bar.set_postfix(epoch=epoch + 1, loss=f"{hist['epoch_loss'][-1]:.3f}", test=f"{hist['test_acc'][-1]:.3f}")
        bar.close()
        hist["wall_s"] = time.perf_counter() - t0
    finally:
        torch.set_num_threads(old_threads)
    return hist


def train_snn(cfg: SNNConfig, tcfg: TrainConfig, train_ds: Dataset, test_ds: Dataset | None = None,
              progress: bool = True) -> tuple[SNNClassifier, dict]:
    """Build an ``SNNClassifier`` from ``cfg`` and train it: returns ``(model, history)``."""
    model = SNNClassifier(cfg)
    return model, train(model, train_ds, tcfg, test_ds, progress=progress)


def save_checkpoint(path, model: SNNClassifier, train_config: TrainConfig | None = None, history: dict | None = None
                    ) -> Path:
    """``torch.save`` of the state_dict plus the configs as plain dicts (loadable with ``weights_only=True``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"format": CHECKPOINT_FORMAT,
                "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
                "config": model.cfg.to_dict(),
                "train_config": asdict(train_config) if train_config is not None else None,
                "history": history or {}}, path)
    return path


def load_checkpoint(path, device: str = "cpu") -> tuple[SNNClassifier, dict]:
    """Rebuild the model from a checkpoint written by ``save_checkpoint``: returns ``(model, checkpoint)``."""
    path = Path(path)
    if not path.exists():
        raise OSError(f"{path}: no such checkpoint")
    ck = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(ck, dict) or ck.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path}: not a neurokit SNN checkpoint (format {ck.get('format') if isinstance(ck, dict) else None!r})")
    model = SNNClassifier(SNNConfig.from_dict(ck["config"]))
    model.load_state_dict(ck["state_dict"])
    return model.to(_device(device)), ck


def train_config_from_dict(d: dict) -> TrainConfig:
    known = {f.name for f in fields(TrainConfig)}
    return TrainConfig(**{k: v for k, v in d.items() if k in known})


def loss_curve_png(history: dict, path, title: str = "training") -> Path:
    """Loss per batch (and test accuracy per epoch, if recorded) as a PNG."""
    try:
        import matplotlib
        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError as e:  # pragma: no cover
        raise ImportError("loss curves need matplotlib: pip install 'neurokit-bdh[plots]'") from e
    path = Path(path)
    fig, ax = plt.subplots(figsize=(7, 4))
    loss = history["loss"]
    n_ep = max(len(history.get("epoch_loss", [])), 1)
    per_ep = len(loss) / n_ep
    ax.plot([k / per_ep for k in range(len(loss))], loss, lw=0.7, alpha=0.6, label="batch loss")
    if history.get("epoch_loss"):
        ax.plot(range(1, n_ep + 1), history["epoch_loss"], "o-", ms=3, label="epoch mean loss")
    ax.set(xlabel="epoch", ylabel="cross-entropy", yscale="log", title=title)
    if history.get("test_acc"):
        ax2 = ax.twinx()
        ax2.plot(range(1, len(history["test_acc"]) + 1), history["test_acc"], "C3s-", ms=3, label="test accuracy")
        ax2.set(ylabel="test accuracy", ylim=(0, 1))
        ax2.legend(loc="center right")
    ax.legend(loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
