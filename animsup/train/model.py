"""The toy models in torch, batched over instances, with a hand-written backward pass.

Shapes: x (shape: [n_instances, n_features, batch]) — samples are columns (h = W x), so
every matmul is one ``bmm`` over contiguous rows (faster here than einsum or a
[instances, batch, features] layout); W (shape: [n_instances, n_hidden, n_features]).

- tied:   y = ReLU(W^T W x + b)          (the paper, seed 002)
- untied: y = ReLU(W_dec^T W_enc x + b)  (seed 000's TwoWeightLinearNet; W is the encoder)
- linear: y = W^T W x + b                (the paper's control)
- neuron: y = ReLU(W^T ReLU(W x) + b)    (the paper's privileged-basis model: ReLU hidden neurons)

Importance is (shape: [n_features]) shared by every instance or (shape: [n_instances, n_features]).

:func:`forward` is plain torch (autograd works through it: the tests use it as the
oracle); :func:`loss_and_grad` computes the same loss and its exact gradient by hand,
~2x faster than autograd at these tiny sizes (docs/benchmarks.md).
"""

from __future__ import annotations

import itertools
import os
import time
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor

from animsup import models
from animsup.train.data import UNIFORM_BITS, Batches, CudaBatches, inverse_probability, probability_array
from animsup.train.numpy_model import init_params, loss_scale
from animsup.train.optim import FlatOptimizer

if TYPE_CHECKING:
    from animsup.train.config import TrainConfig

UNIFORM_MASK = (1 << UNIFORM_BITS) - 1


def forward(x: Tensor, W: Tensor, b: Tensor, W_dec: Tensor | None = None, model: str = "tied") -> Tensor:
    """:return: y (shape: [k, n, B]) for x (shape: [k, n, B]); ``model``: a row of :data:`animsup.models.MODELS`"""
    spec = models.get(model)
    dec = W if W_dec is None else W_dec
    h = torch.bmm(W, x)                                      # [k, m, B]
    if spec.hidden_relu:
        h = torch.relu(h)
    z = torch.baddbmm(b.unsqueeze(2), dec.transpose(1, 2), h)  # [k, n, B]
    return torch.relu(z) if spec.output_relu else z


def _col(importance: Tensor) -> Tensor:
    """Importance shaped to multiply a [k, n, B] tensor: (shape: [n, 1]) or (shape: [k, n, 1])."""
    return importance.unsqueeze(-1)


def _row(importance: Tensor) -> Tensor:
    """Importance shaped to multiply a [k, m, n] tensor: (shape: [n]) or (shape: [k, 1, n])."""
    return importance if importance.dim() == 1 else importance.unsqueeze(1)


def loss_fn(y: Tensor, x: Tensor, importance: Tensor, reduction: str = "mean") -> Tensor:
    """Importance-weighted squared error per instance (shape: [k]); summing over instances
    gives the notebook's total loss. ``importance``: (shape: [n]) or (shape: [k, n])."""
    err = _col(importance) * (y - x) ** 2    # [k, n, B]
    return err.mean((1, 2)) if reduction == "mean" else 0.5 * err.sum(1).mean(1)


def l1_penalty(l1: float, *params: Tensor | None) -> Tensor | float:
    """l1 * (sum of |p|) per instance (shape: [k])."""
    return l1 * sum(p.abs().flatten(1).sum(1) for p in params if p is not None)


def loss_and_grad(x, W, b, W_dec, importance, *, model="tied", reduction="mean", l1=0.0, out=None,
                  negated=False, need_loss=True, deferred=False, accumulate=False):
    """Loss per instance and its exact gradient, without autograd.

    :param x: (shape: [k, n, B]) the batch, or ``-x`` when ``negated`` (the sampler's
        cheapest output: one multiply and one threshold, see :func:`negated_sparse_`)
    :param importance: (shape: [n]) or (shape: [k, n]) already multiplied by 2c (see :func:`grad_weight`)
    :param out: dict of gradient buffers "W", "b" (and "W_dec") to write into
    :param need_loss: False skips the loss (returns None) on steps whose loss is not recorded
    :param deferred: return the per-feature sums of squared errors sum_b d_i^2 (shape: [k, n])
        instead of the loss; :func:`loss_from_sq` finishes the loss later, for many steps at
        once (the l1 penalty is then not included)
    :param accumulate: add to ``out`` instead of overwriting it (a batch processed in blocks)
    :return: loss (shape: [k])
    """
    spec = models.get(model)
    dec = W if W_dec is None else W_dec
    sign = -1.0 if negated else 1.0
    if spec.hidden_relu:
        return _neuron_loss_and_grad(sign * x if negated else x, W, b, importance, out=out, need_loss=need_loss,
                                     deferred=deferred, accumulate=accumulate, l1=l1)
    h = torch.bmm(W, x)                                        # [k, m, B]  (sign * h)
    z = torch.baddbmm(b.unsqueeze(2), dec.transpose(1, 2), h, alpha=sign)   # [k, n, B]  W^T h + b
    d = z.clamp_min(0) if spec.output_relu else z.clone()
    d.add_(x, alpha=-sign)                                     # d = y - x
    g = d * _col(importance)                                   # 2c I d
    # loss = c sum_i I_i sum_b d^2: a row norm is the cheapest reduction here (one read of d)
    loss = torch.linalg.vector_norm(d, dim=2).square_() if need_loss else None
    if loss is not None and not deferred:
        loss = loss_from_sq(loss, importance)
        if l1:
            loss += l1_penalty(l1, W, b, W_dec)
    if spec.output_relu:
        g = torch.ops.aten.threshold_backward(g, z, 0)          # zero where z <= 0 (the ReLU's gradient)
    dh = torch.bmm(dec, g)                                     # [k, m, B]
    gT, xT = g.transpose(1, 2), x.transpose(1, 2)
    if accumulate:
        out["b"].add_(g.sum(2))
        out["W_dec" if W_dec is not None else "W"].baddbmm_(h, gT, alpha=sign)
        out["W"].baddbmm_(dh, xT, alpha=sign)
    else:
        torch.sum(g, 2, out=out["b"])
        if W_dec is None:  # tied: W is the decoder (h g^T) and the encoder (dh x^T)
            torch.bmm(h, gT, out=out["W"])
            out["W"].baddbmm_(dh, xT, beta=sign, alpha=sign)   # = sign*(sign h g^T + dh (sign x)^T)
        else:
            torch.bmm(h, gT, out=out["W_dec"])
            torch.bmm(dh, xT, out=out["W"])
            if negated:
                out["W_dec"].neg_()
                out["W"].neg_()
    if l1:
        for name, p in (("W", W), ("b", b), ("W_dec", W_dec)):
            if p is not None:
                out[name].add_(p.sign(), alpha=l1)
    return loss


def sparse_block_loss_and_grad(x, W_enc, dec_aug, dec_imp, buf: dict, out: dict, *, model="tied", need_loss=True,
                               negated=False):
    """One block of columns of the CPU training step, in the fewest passes over the block.

    The importance is folded into the small matrices instead of the [k, n, c] tensors: with
    u = (y - x) 1[z > 0] and g = 2c I u the gradient's pieces are
    ``dh = (W_dec I) u``, ``[h; 1] u^T = [sum_b h u, sum_b u]`` (then times I: decoder and bias
    gradients) and ``dh x^T`` (encoder gradient), so a block costs two bmm's forward, a clamp,
    a subtraction, the row norms (loss), the ReLU mask and three thin bmm's backward.

    :param x: (shape: [k, n, c]) the block (dense; mostly zeros), or ``-x`` when ``negated`` (the
        dense sampler's cheapest output, :func:`negated_sparse_`)
    :param W_enc: (shape: [k, m, n]) the encoder (W)
    :param dec_aug: (shape: [k, n, m + 1]) [W_dec^T | b]
    :param dec_imp: (shape: [k, m, n]) W_dec times 2c I
    :param buf: scratch tensors "haug" (shape: [k, m + 1, c], last row ones), "y", "v" (shape: [k, n, c])
    :param out: where this block's pieces go: "G" (shape: [k, m + 1, n]) = [h; 1] u^T,
        "E" (shape: [k, m, n]) = dh x^T, "sq" (shape: [k, n]) = sum_b (y - x)^2 (when ``need_loss``)
    """
    output_relu = models.get(model).output_relu
    m = W_enc.shape[1]
    haug, y, v = buf["haug"], buf["y"], buf["v"]
    torch.bmm(W_enc, x, out=buf["h"])
    if negated:
        torch.neg(buf["h"], out=haug[:, :m])
    else:
        haug[:, :m].copy_(buf["h"])
    torch.bmm(dec_aug, haug, out=y)                           # z = W_dec^T h + b
    if output_relu:
        y.clamp_min_(0)                                       # y = ReLU(z)
    if negated:
        torch.add(y, x, out=v)                                # y - x
    else:
        torch.sub(y, x, out=v)
    if need_loss:
        torch.linalg.vector_norm(v, dim=2, out=out["sq"]).square_()
    if output_relu:
        _threshold_backward(v, y, 0, grad_input=v)            # u = (y - x) 1[z > 0]
    dh = torch.bmm(dec_imp, v, out=buf["h"])                   # [k, m, c]
    torch.bmm(haug, v.transpose(1, 2), out=out["G"])
    torch.bmm(dh, x.transpose(1, 2), out=out["E"])
    if negated:
        out["E"].neg_()


_threshold_backward = torch.ops.aten.threshold_backward.grad_input


def _neuron_loss_and_grad(x: Tensor, W: Tensor, b: Tensor, importance: Tensor, *, out: dict[str, Tensor],
                          need_loss: bool = True, deferred: bool = False, accumulate: bool = False,
                          l1: float = 0.0) -> Tensor | None:
    """:func:`loss_and_grad` for the neuron model y = ReLU(W^T ReLU(W x) + b) (tied W).

    With a = W x, h = ReLU(a), z = W^T h + b, g = 2c I (y - x) 1[z > 0]:
    dL/dW = h g^T (decoder use) + (1[a > 0] * (W g)) x^T (encoder use); dL/db = sum_b g.
    """
    a = torch.bmm(W, x)                                        # [k, m, B]
    h = a.clamp_min(0)
    z = torch.baddbmm(b.unsqueeze(2), W.transpose(1, 2), h)    # [k, n, B]
    d = z.clamp_min(0).sub_(x)                                 # y - x
    loss = torch.linalg.vector_norm(d, dim=2).square_() if need_loss else None
    if loss is not None and not deferred:
        loss = loss_from_sq(loss, importance)
        if l1:
            loss += l1_penalty(l1, W, b)
    g = torch.ops.aten.threshold_backward(d.mul_(_col(importance)), z, 0)
    dh = torch.ops.aten.threshold_backward(torch.bmm(W, g), a, 0)   # back through the hidden ReLU
    gT, xT = g.transpose(1, 2), x.transpose(1, 2)
    if accumulate:
        out["b"].add_(g.sum(2))
        out["W"].baddbmm_(h, gT).baddbmm_(dh, xT)
    else:
        torch.sum(g, 2, out=out["b"])
        torch.bmm(h, gT, out=out["W"])
        out["W"].baddbmm_(dh, xT)
    if l1:
        out["W"].add_(W.sign(), alpha=l1)
        out["b"].add_(b.sign(), alpha=l1)
    return loss


def loss_from_sq(sq: Tensor, importance: Tensor) -> Tensor:
    """Loss (shape: [...]) from per-feature sums of squared errors (shape: [..., n]) and 2c I
    (shape: [n], or [k, n] when sq is (shape: [..., k, n]))."""
    if importance.dim() == 1:
        return (sq @ importance).mul_(0.5)
    return (sq * importance).sum(-1).mul_(0.5)


def negated_sparse_(u: Tensor, neg_inv_p: Tensor) -> Tensor:
    """``-x`` from uniform draws, in place: ``-u/p`` where ``u/p < 1``, else 0 — one multiply
    and one threshold (masking with a boolean tensor was 3-4x slower here).

    :param u: (shape: [k, n, B]) uniform [0, 1) draws, overwritten
    :param neg_inv_p: (shape: [k, 1, 1]) or (shape: [k, n, 1]) -1/p per instance (or per feature)
    """
    return torch.threshold_(u.mul_(neg_inv_p), -1.0, 0.0)


def grad_weight(importance: np.ndarray, reduction: str, batch: int, n_features: int) -> np.ndarray:
    """2c I, the per-feature factor of the error in the gradient (c from the loss reduction); any shape."""
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

    def __init__(self, cfg: TrainConfig, device: str = "cpu"):
        k, m, n = cfg.n_instances, cfg.n_hidden, cfg.n_features
        self.cfg, self.k, self.device = cfg, k, device
        untied = models.get(cfg.model).has_decoder
        init = init_params(n, m, cfg.instance_seeds(), cfg.init, untied=untied, scale=cfg.init_scale,
                           fan_instances=cfg.init_instances)
        names = ["W", "b"] + (["W_dec"] if untied else [])
        flat = np.concatenate([init[name].ravel() for name in names])
        # padded with zeros to a multiple of PAD: the element-wise kernels (the fused AdamW, the L1 sign)
        # then take every parameter through their vectorised loop, never the scalar tail (which rounds
        # differently: no FMA), so an instance's numbers do not depend on where its parameters sit
        # in the flat array, i.e. on the other instances of the run (issue 22)
        flat = np.concatenate([flat, np.zeros(-flat.size % PAD, flat.dtype)])
        self.params = torch.from_numpy(flat).to(device)
        self.grad = torch.zeros_like(self.params)
        self.views, self.grads = {}, {}
        start = 0
        for name in names:
            size = init[name].size
            self.views[name] = self.params[start : start + size].view(init[name].shape)
            self.grads[name] = self.grad[start : start + size].view(init[name].shape)
            start += size
        imp = grad_weight(cfg.importance_matrix(), cfg.loss_reduction, cfg.batch_size, n)   # [k, n]
        self.importance = torch.from_numpy(imp).to(device)
        probs = cfg.probability_matrix()
        spec, allow_sparse = cfg.data_spec(), not cfg.stages
        self.data: Batches | CudaBatches
        self.cpu_data: Batches | None = None  # the CPU sampler, whose blocks the block step draws
        if device == "cpu":
            self.data = self.cpu_data = Batches(probs, n, cfg.batch_size, cfg.instance_seeds(), dataset_size=cfg.dataset_size,
                                                spec=spec, allow_sparse=allow_sparse)
        else:
            self.data = CudaBatches(probs, n, cfg.batch_size, cfg.instance_seeds(), device=device, dataset_size=cfg.dataset_size,
                                    spec=spec, allow_sparse=allow_sparse)
        self._set_neg_inv_p(probs)
        # the neuron model's hidden ReLU breaks the block step's algebra: it takes the plain path
        block_step = models.get(cfg.model).block_step
        cpu = self.cpu_data
        self.sparse = cpu is not None and cpu.sparse and block_step
        self.blockwise = False
        self._pool: ThreadPoolExecutor | None = None
        self._tuner: ThreadTuner | None = None
        if cpu is not None and cpu.blocks is not None and block_step:
            self.blockwise = True
            self._block_buffers(cpu.blocks, cfg.threads)
        self.opt = FlatOptimizer(self.params, cfg.optimizer, cfg.resolved_weight_decay())
        self._loss_buf: torch.Tensor | None = None

    def _set_neg_inv_p(self, probs) -> None:
        self.neg_inv_p = torch.from_numpy(-inverse_probability(probability_array(probs, self.cfg.n_features)))

    def set_stage(self, stage: int, new_optimizer: bool) -> None:
        """Switch to stage ``stage`` of a staged run: its feature probabilities and, when
        ``new_optimizer``, a fresh optimiser (seed 000: a new AdamW per stage, weights carried over)."""
        probs = self.cfg.probability_matrix(stage)
        self.data.set_probability(probs)
        self._set_neg_inv_p(probs)
        if new_optimizer:
            self.opt = FlatOptimizer(self.params, self.cfg.optimizer, self.cfg.resolved_weight_decay())

    def loss_and_grad(self, need_loss: bool = True) -> Tensor | None:
        """Draw the next batch, fill ``grad``, and return this step's loss record (on the device; turn a
        list of them into losses with :meth:`losses_to_numpy`). On the CPU a large batch is processed in
        blocks of columns (:func:`animsup.train.data.block_columns`); the result is the same up to rounding."""
        if self.blockwise:
            return self._block_loss_and_grad(need_loss)
        cfg, v = self.cfg, self.views
        kw = dict(model=cfg.model, reduction=cfg.loss_reduction, out=self.grads, need_loss=need_loss, deferred=True)
        blocks = self._blocks()
        if len(blocks) > 1:
            self.grad.zero_()
        sq = None
        for x, negated in blocks:
            part = loss_and_grad(x, v["W"], v["b"], v.get("W_dec"), self.importance, negated=negated,
                                 accumulate=len(blocks) > 1, **kw)
            sq = part if sq is None else (sq.add_(part) if need_loss else None)
        if cfg.l1:
            self.grad.add_(self.params.sign(), alpha=cfg.l1)
            if sq is not None:
                return loss_from_sq(sq, self.importance) + l1_penalty(cfg.l1, v["W"], v["b"], v.get("W_dec"))
        return sq

    def _block_loss_and_grad(self, need_loss: bool) -> Tensor | None:
        """The CPU step in blocks (:attr:`Batches.blocks`): a sparse block (:attr:`Batches.block_sparse`,
        every block of the sparse stream) is drawn as its non-zero entries and scattered into a zeroed
        buffer; a dense one (:func:`animsup.train.data.dense_blocks`) is drawn as raw bits and turned into ``-x``
        in its buffer (:meth:`Batches.raw_block`). Each block then runs through :func:`sparse_block_loss_and_grad`
        into its own slot of the per-column-range pieces, which are summed in order at the end. With
        ``threads`` T > 1, T threads take the blocks as they come free (each block has its own
        generator, each thread its own buffers), so the result does not depend on T or on the
        scheduling. Nothing is allocated per block."""
        cfg, v, m = self.cfg, self.views, self.cfg.n_hidden
        W = v["W"]
        dec = v.get("W_dec", W)
        dec_aug = torch.cat([dec.transpose(1, 2), v["b"].unsqueeze(2)], 2)
        imp_row = _row(self.importance)
        dec_imp = dec * imp_row
        data = self.cpu_data
        if data is None:
            raise RuntimeError("the block step draws from the CPU sampler")
        blocks, block_sparse = self._blocks_ij, data.block_sparse
        data.begin_batch()  # (the raw bits of seeds several instances share: once, before the blocks)
        neg_inv_p_raw = self.neg_inv_p * 2.0**-UNIFORM_BITS  # exact: a power of two
        queue = itertools.count()  # blocks go to whichever thread is free (next() is atomic under the GIL)

        def work(t: int) -> None:
            while (j := next(queue)) < len(blocks):
                i0, i1, c0, c1 = blocks[j]
                buf = self._bufs[t][(i1 - i0, c1 - c0)]
                sparse = block_sparse[j]
                if sparse:
                    if buf.dirty:
                        buf.x.zero_()  # (a memset: cheaper than scattering zeros back)
                    idx, vals = data.sparse_block(j)
                    buf.xn.reshape(-1)[idx] = vals
                else:
                    raw = torch.from_numpy(data.raw_block(j)).bitwise_and_(UNIFORM_MASK)
                    negated_sparse_(buf.x.copy_(raw), neg_inv_p_raw[i0:i1])   # -x from the raw bits
                part = self._parts[self._part_of[j]]
                out = {name: t_[i0:i1] for name, t_ in part.items()}
                sparse_block_loss_and_grad(buf.x, W[i0:i1], dec_aug[i0:i1], dec_imp[i0:i1], buf.scratch, out,
                                           model=cfg.model, need_loss=need_loss, negated=not sparse)
                buf.dirty = True

        threads = self._tuner.pick() if self._tuner is not None else len(self._bufs)
        t0 = time.perf_counter()
        if threads == 1:
            work(0)
        else:
            pool = self._pool
            if pool is None:
                raise RuntimeError("no block threads")
            futures = [pool.submit(work, t) for t in range(1, threads)]
            work(0)
            for f in futures:
                f.result()
        if self._tuner is not None:
            self._tuner.record(threads, time.perf_counter() - t0)
        parts = self._parts
        G, E = parts[0]["G"], parts[0]["E"]
        sq = parts[0]["sq"].clone() if need_loss else None
        if len(parts) > 1:
            G, E = G.clone(), E.clone()
            for part in parts[1:]:
                G += part["G"]
                E += part["E"]
                if sq is not None:
                    sq += part["sq"]
        g = self.grads
        torch.mul(G[:, m], self.importance, out=g["b"])
        if "W_dec" in g:
            torch.mul(G[:, :m], imp_row, out=g["W_dec"])
            g["W"].copy_(E)
        else:
            torch.addcmul(E, G[:, :m], imp_row, out=g["W"])
        if cfg.l1:
            self.grad.add_(self.params.sign(), alpha=cfg.l1)
            if sq is not None:
                return loss_from_sq(sq, self.importance) + l1_penalty(cfg.l1, W, v["b"], v.get("W_dec"))
        return sq

    def _block_buffers(self, blocks, threads) -> None:
        """Per thread and block shape: a numpy x the sampler writes into (shared with torch; zeroed for
        the sparse sampler) and scratch tensors; per range of columns: the output pieces, each block
        writing its instances' rows. ``threads="auto"``: up to one thread per core, chosen step by step
        by a :class:`ThreadTuner`.

        :param blocks: [(i0, i1, c0, c1)] instances i0..i1-1 and columns c0..c1-1 of each block
        """
        k, m, n = self.k, self.cfg.n_hidden, self.cfg.n_features
        self._blocks_ij = list(blocks)
        starts = sorted({c0 for _, _, c0, _ in self._blocks_ij})
        self._part_of = [starts.index(c0) for _, _, c0, _ in self._blocks_ij]
        shapes = sorted({(i1 - i0, c1 - c0) for i0, i1, c0, c1 in self._blocks_ij})
        self._tuner = None
        if threads == "auto" or not isinstance(threads, int):
            threads = min(os.cpu_count() or 1, len(self._blocks_ij))
            if threads > 1:
                self._tuner = ThreadTuner([1, threads])
        threads = max(1, min(threads, len(self._blocks_ij)))
        self._bufs: list[dict[tuple[int, int], _BlockBuffer]] = []
        for _ in range(threads):
            by_shape = {}
            for kb, cols in shapes:
                xn = np.zeros((kb, n, cols), np.float32)
                by_shape[(kb, cols)] = _BlockBuffer(xn, torch.from_numpy(xn), {
                    "haug": torch.ones(kb, m + 1, cols), "h": torch.empty(kb, m, cols),
                    "y": torch.empty(kb, n, cols), "v": torch.empty(kb, n, cols)})
            self._bufs.append(by_shape)
        self._parts = [{"G": torch.empty(k, m + 1, n), "E": torch.empty(k, m, n), "sq": torch.empty(k, n)}
                       for _ in starts]
        self._pool = None
        if threads > 1:
            self._pool = ThreadPoolExecutor(threads - 1, thread_name_prefix="animsup-block")

    def close(self) -> None:
        """Stop the block threads (if any)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def _blocks(self) -> list:
        """The batch as (x or -x, negated) blocks of columns."""
        data, B = self.data, self.cfg.batch_size
        drawn = data.next()
        x = torch.from_numpy(drawn) if isinstance(drawn, np.ndarray) else drawn
        cols = data.block
        return [(x[:, :, c : c + cols], False) for c in range(0, B, cols)]

    def keep_loss(self, row: int, record: torch.Tensor, capacity: int) -> None:
        """Copy this step's loss record into the preallocated buffer, so the step's own small tensor
        is freed at once: hundreds of small long-lived tensors between the step's large temporaries
        fragmented the allocator (1.1 GB peak at n=200, m=20, 20 instances, --snapshots 2, against
        ~0.3 GB; docs/benchmarks.md)."""
        if self._loss_buf is None:
            self._loss_buf = record.new_empty((capacity, *record.shape))
        self._loss_buf[row] = record

    def kept_losses(self, rows: int) -> list[torch.Tensor]:
        buf = self._loss_buf
        return [] if buf is None else [buf[i] for i in range(rows)]

    def update_(self, lr: float) -> None:
        self.opt.step_(self.grad, lr)

    def param_copy(self) -> torch.Tensor:
        """A copy of all parameters on the device (no sync); see :meth:`params_to_numpy`."""
        return self.params.clone()

    def params_to_numpy(self, copies: list) -> list[dict]:
        """One transfer for many :meth:`param_copy` results: a dict per copy with "flat" and the
        named arrays ("W", "b", "W_dec") as numpy views."""
        if not copies:
            return []
        flat = torch.stack(copies).cpu().numpy()
        return [_split(row, self.views) for row in flat]

    def losses_to_numpy(self, losses: list) -> np.ndarray:
        """[L, k] losses from what :meth:`loss_and_grad` returned (squared-error sums, or losses)."""
        stacked = torch.stack(losses)
        if stacked.dim() == 3:
            stacked = loss_from_sq(stacked, self.importance)
        return stacked.cpu().numpy()

    def rng_state(self) -> str | np.ndarray:
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


@dataclass
class _BlockBuffer:
    """One thread's buffers for blocks of one shape: x as numpy (the sampler writes it) and as a
    tensor (the same memory), and the scratch tensors of :func:`sparse_block_loss_and_grad`."""

    xn: np.ndarray  # (shape: [instances of the block, n_features, columns])
    x: torch.Tensor
    scratch: dict[str, torch.Tensor]  # "haug", "h", "y", "v"
    dirty: bool = False  # x holds a sparse block's non-zeros (zero it before the next one)


class ThreadTuner:
    """Chooses how many threads run the next step, from the wall times of recent steps.

    Two threads on two idle cores ran the n=32, 100-instance step 1.7x faster; on a busy machine
    they were up to 2x slower than one. The step's result does not depend on the choice, so the
    tuner just measures: it alternates the options until each has ``window`` samples, then runs the
    one with the lowest median of its last ``window`` steps, and every ``reprobe`` steps forgets
    half of every option's samples so a change in load is noticed.
    """

    def __init__(self, options: Iterable[int], window: int = 4, reprobe: int = 200):
        self.options = list(options)
        self.window, self.reprobe = window, reprobe
        self.times: dict[int, list[float]] = {o: [] for o in self.options}
        self.steps = 0

    def pick(self) -> int:
        self.steps += 1
        if self.steps % self.reprobe == 0:
            for t in self.times.values():
                del t[: self.window // 2]
        short = [o for o in self.options if len(self.times[o]) < self.window]
        if short:
            return min(short, key=lambda o: len(self.times[o]))
        return min(self.options, key=lambda o: float(np.median(self.times[o])))

    def record(self, option, seconds: float) -> None:
        t = self.times[option]
        t.append(seconds)
        del t[: -self.window]


PAD = 64  # the flat parameter array's length is a multiple of this (see TorchEngine.__init__)


def _split(flat: np.ndarray, views: dict) -> dict:
    out, start = {"flat": flat}, 0
    for name, v in views.items():
        out[name] = flat[start : start + v.numel()].reshape(tuple(v.shape))
        start += v.numel()
    return out
