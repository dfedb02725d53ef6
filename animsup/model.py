"""The toy models in torch, batched over instances, with a hand-written backward pass.

Shapes: x (shape: [n_instances, batch, n_features]) — instances first, so every matmul
is one ``bmm`` (measured faster than einsum here); W (shape: [n_instances, n_hidden, n_features]).

- tied:   y = ReLU(W^T W x + b)          (the paper, seed 002)
- untied: y = ReLU(W_dec^T W_enc x + b)  (seed 000's TwoWeightLinearNet; W is the encoder)
- linear: y = W^T W x + b                (the paper's control)

:func:`forward` is plain torch (autograd works through it: the tests use it as the
oracle); :func:`loss_and_grad` computes the same loss and its exact gradient by hand,
~2x faster than autograd at these tiny sizes (docs/benchmarks.md).
"""

from __future__ import annotations

import numpy as np
import torch

from animsup.data import Batches, CudaBatches, importance_vector
from animsup.numpy_model import init_params, loss_scale
from animsup.optim import FlatOptimizer


def forward(x, W, b, W_dec=None, model: str = "tied"):
    """:return: y (shape: [k, B, n]) for x (shape: [k, B, n])"""
    dec = W if W_dec is None else W_dec
    h = torch.bmm(x, W.transpose(1, 2))          # [k, B, m]
    z = torch.baddbmm(b.unsqueeze(1), h, dec)    # [k, B, n]
    return z if model == "linear" else torch.relu(z)


def loss_fn(y, x, importance, reduction: str = "mean"):
    """Importance-weighted squared error per instance (shape: [k]); summing over instances
    gives the notebook's total loss."""
    err = importance * (y - x) ** 2
    return err.mean((1, 2)) if reduction == "mean" else 0.5 * err.sum(2).mean(1)


def l1_penalty(l1: float, *params):
    """l1 * (sum of |p|) per instance (shape: [k])."""
    return l1 * sum(p.abs().flatten(1).sum(1) for p in params if p is not None)


def loss_and_grad(x, W, b, W_dec, importance, *, model="tied", reduction="mean", l1=0.0, out=None):
    """Loss per instance and its exact gradient, without autograd.

    :param importance: (shape: [n]) already multiplied by 2c (see :func:`grad_weight`)
    :param out: dict of gradient buffers "W", "b" (and "W_dec") to write into
    :return: loss (shape: [k])
    """
    dec = W if W_dec is None else W_dec
    h = torch.bmm(x, W.transpose(1, 2))                # [k, B, m]
    z = torch.baddbmm(b.unsqueeze(1), h, dec)          # [k, B, n]
    d = (z.clamp_min(0) if model != "linear" else z.clone()).sub_(x)   # y - x
    g = d * importance                                 # 2c I d
    loss = torch.linalg.vecdot(g.flatten(1), d.flatten(1)).mul_(0.5)
    if model != "linear":
        g = torch.ops.aten.threshold_backward(g, z, 0)  # zero where z <= 0 (the ReLU's gradient)
    dh = torch.bmm(g, dec.transpose(1, 2))             # [k, B, m]
    torch.sum(g, 1, out=out["b"])
    if W_dec is None:  # tied: W is used as decoder and as encoder
        torch.bmm(h.transpose(1, 2), g, out=out["W"])
        out["W"].baddbmm_(dh.transpose(1, 2), x)
    else:
        torch.bmm(h.transpose(1, 2), g, out=out["W_dec"])
        torch.bmm(dh.transpose(1, 2), x, out=out["W"])
    if l1:
        loss += l1_penalty(l1, W, b, W_dec)
        for name, p in (("W", W), ("b", b), ("W_dec", W_dec)):
            if p is not None:
                out[name].add_(p.sign(), alpha=l1)
    return loss


def grad_weight(importance: np.ndarray, reduction: str, batch: int, n_features: int) -> np.ndarray:
    """2c I, the per-feature factor of the error in the gradient (c from the loss reduction)."""
    return (importance * (2.0 * loss_scale(reduction, batch, n_features))).astype(np.float32)


def resolve_device(device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        from animsup.errors import AnimsupError

        raise AnimsupError("--device cuda: no CUDA device is available here (use --device cpu or auto)")
    return device


class TorchEngine:
    """Parameters, data stream and optimiser of one run, on one device.

    All parameters live in one flat tensor (views W, b, W_dec), and so do their gradients,
    so the optimiser touches every instance in a few element-wise passes.
    """

    def __init__(self, cfg, device: str = "cpu"):
        k, m, n = cfg.n_instances, cfg.n_hidden, cfg.n_features
        self.cfg, self.k, self.device = cfg, k, device
        untied = cfg.model == "untied"
        init = init_params(n, m, cfg.instance_seeds(), cfg.init, untied=untied)
        names = ["W", "b"] + (["W_dec"] if untied else [])
        flat = np.concatenate([init[name].ravel() for name in names])
        self.params = torch.from_numpy(flat).to(device)
        self.grad = torch.zeros_like(self.params)
        self.views, self.grads = {}, {}
        start = 0
        for name in names:
            size = init[name].size
            self.views[name] = self.params[start : start + size].view(init[name].shape)
            self.grads[name] = self.grad[start : start + size].view(init[name].shape)
            start += size
        imp = grad_weight(importance_vector(cfg.importance, n), cfg.loss_reduction, cfg.batch_size, n)
        self.importance = torch.from_numpy(imp).to(device)
        kw = dict(dataset_size=cfg.dataset_size, normalize=cfg.normalize)
        if device == "cpu":
            self.data = Batches(cfg.instance_probabilities(), n, cfg.batch_size, cfg.seeds, **kw)
        else:
            self.data = CudaBatches(cfg.instance_probabilities(), n, cfg.batch_size, cfg.seeds, device=device, **kw)
        self.opt = FlatOptimizer(self.params, cfg.optimizer, cfg.resolved_weight_decay())

    def loss_and_grad(self):
        x = self.data.next()
        if isinstance(x, np.ndarray):
            x = torch.from_numpy(x)
        v = self.views
        return loss_and_grad(x, v["W"], v["b"], v.get("W_dec"), self.importance, model=self.cfg.model,
                             reduction=self.cfg.loss_reduction, l1=self.cfg.l1, out=self.grads)

    def update_(self, lr: float) -> None:
        self.opt.step_(self.grad, lr)

    def snapshot(self) -> dict:
        return {name: t.detach().cpu().numpy().copy() for name, t in self.views.items()}

    @staticmethod
    def losses_to_numpy(losses: list) -> np.ndarray:
        return torch.stack(losses).cpu().numpy()

    def rng_state(self):
        return self.data.get_state()

    def state(self, rng_state) -> dict:
        st = {"params": self.params.cpu().numpy().copy(), "rng": np.asarray(rng_state)}
        st.update({f"opt_{k}": v for k, v in self.opt.state().items()})
        return st

    def load_state(self, state: dict) -> None:
        self.params.copy_(torch.from_numpy(np.asarray(state["params"], dtype=np.float32)))
        rng = state["rng"]
        self.data.set_state(str(rng) if self.device == "cpu" else rng)
        self.opt.load_state({k[4:]: v for k, v in state.items() if k.startswith("opt_")})
