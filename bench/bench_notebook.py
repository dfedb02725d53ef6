"""animsup against the paper notebook's own batched PyTorch loop, at the paper's sizes, in the same run.

The baseline (:func:`notebook_loop`) is what ``toy_models.ipynb`` runs: W (shape: [K, n, m]) initialised
by ``xavier_normal_`` on the whole 3-D tensor, b = 0, both in one ``torch.optim.AdamW(lr=1e-3)``; every
step a fresh batch [B, K, n] (feature uniform when ``rand <= p``), ``einsum`` forward
``out = ReLU(einsum(einsum(x, W), W) + b)``, loss ``(importance · (x − out)²)`` mean over batch and
features, summed over instances, autograd backward. animsup trains the same sizes with
``animsup.train.loop.train`` (whole call: set-up, sampling, the log header, one snapshot at the end).
Both in this process, interleaved (ours, baseline, ours, ...): the ratio is the median of per-pair
ratios. The baseline runs twice: on one torch thread (the issue's reference) and on every core
(torch's default, what a notebook gets); animsup runs with its default ``--threads auto`` (one
intra-op thread, its blocks on 1 or 2 threads, whichever its recent steps ran faster).

Also measured in the same run:
- the physical limit: GFLOP/s of a 2048² float32 matmul on 1 thread and on every core;
  animsup's GFLOP/s counts 10·K·m·n·B per step (forward W x and Wᵀh, backward W g, h gᵀ and dh xᵀ:
  five [K, m, n] × [n or m, B] products), as a fraction of the one-thread peak;
- the same loss: the mean of each side's last quarter of recorded losses (same init law, same data law;
  different random numbers);
- peak memory of ``animsup train`` at n=200, m=20, 20 instances with ``--snapshots 2`` and the default 200.

``--full`` also times the whole n=2, m=1 phase diagram at the issue's size (20 x 20 cells x 10
trials = 4,000 models, 10,000 steps, batch 1,024; ``animsup.train.loop.train``, one snapshot at the end).
``--device cuda`` runs both sides on the GPU (the ratio there is launch overhead against launch
overhead; the peak is a 8192² float32 matmul).

    python bench/bench_notebook.py [--quick] [--full] [--device cuda]
"""

from __future__ import annotations

import os
import time

import common
import numpy as np

# (n, m, K, steps, steps in --quick, what)
SIZES = [
    (5, 2, 10, 2000, 300, "intro figure"),
    (100, 20, 20, 100, 20, "features across sparsity"),
    (200, 20, 20, 60, 15, "feature geometry"),
    (32, 2, 100, 200, 40, "seed 002's size"),
    (1000, 2, 4, 300, 60, "n=1000, m=2"),
    (2, 1, 4000, 40, 10, "phase grid 20x20x10"),
]
BATCH = 1024
# the notebook's init (xavier on the whole [K, n, m] tensor) when animsup has it (--init notebook), else
# animsup's per-instance xavier (std sqrt(2/(n+m)) instead of sqrt(2/(m(n+K))): the loss curves then differ early)
from animsup.train.config import INITS  # noqa: E402

INIT = "notebook" if "notebook" in INITS else "xavier"


def probabilities(K: int) -> list[float]:
    """The notebook's feature probabilities 20^−linspace(0, 1, K) (phase grid: its log grid over [0.01, 1])."""
    if K == 4000:
        return [float(v) for v in np.repeat(np.geomspace(0.01, 1, 20), 200)]
    return [float(v) for v in 20.0 ** -np.linspace(0, 1, K)]


def importance(n: int, K: int) -> np.ndarray:
    """0.9^i; ones for the phase grid (its r axis costs nothing extra)."""
    return np.ones(n, np.float32) if K == 4000 else (0.9 ** np.arange(n)).astype(np.float32)


def notebook_loop(n, m, K, steps, batch=BATCH, device="cpu", threads=1):
    """The notebook's training loop on ``threads`` torch threads; returns (seconds, losses per step
    (shape: [steps, K]))."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    W = torch.nn.Parameter(torch.empty((K, n, m), device=device))
    torch.nn.init.xavier_normal_(W)
    b = torch.nn.Parameter(torch.zeros((K, n), device=device))
    opt = torch.optim.AdamW([W, b], lr=1e-3)
    p = torch.tensor(probabilities(K), device=device).view(K, 1)
    imp = torch.from_numpy(importance(n, K)).to(device)
    zero = torch.zeros((), device=device)
    losses = []
    sync()
    t0 = time.perf_counter()
    for _ in range(steps):
        feat = torch.rand((batch, K, n), device=device)
        x = torch.where(torch.rand((batch, K, n), device=device) <= p, feat, zero)
        hidden = torch.einsum("...if,ifh->...ih", x, W)
        out = torch.relu(torch.einsum("...ih,ifh->...if", hidden, W) + b)
        per_instance = (imp * (x - out) ** 2).mean((0, 2))  # [K]
        loss = per_instance.sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(per_instance.detach())
    sync()
    dt = time.perf_counter() - t0
    torch.set_num_threads(old)
    return dt, torch.stack(losses).cpu().numpy()


def sync():
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def animsup_run(tmp, n, m, K, steps, batch=BATCH, device="cpu"):
    """Seconds of one animsup.train.loop.train call and its loss curve (shape: [steps + 1, K])."""
    from animsup.train.config import TrainConfig
    from animsup.log.reader import read_log
    from animsup.train.loop import train

    probs = probabilities(K)
    if K == 4000:  # the phase grid as the phase script runs it: r × density × trials
        cfg = TrainConfig(n_features=n, n_hidden=m, init=INIT, importance="constant", feature_probability=sorted(set(probs)),
                          seeds=list(range(200)), steps=steps, batch_size=batch, device=device, every=steps,
                          checkpoint=False)
    else:
        cfg = TrainConfig(n_features=n, n_hidden=m, init=INIT, importance=0.9, feature_probability=probs, seeds=[0],
                          steps=steps, batch_size=batch, device=device, every=steps, checkpoint=False)
    path = os.path.join(tmp, "nb.jsonl")
    t0 = time.perf_counter()
    res = train(cfg.validate(), path, force=True)
    dt = time.perf_counter() - t0
    assert res.status == "completed"
    return dt, read_log(path).loss_curve


def peak_gflops(threads: int, device: str = "cpu") -> float:
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    size = 2048 if device == "cpu" else 8192
    a, b = torch.randn(size, size, device=device), torch.randn(size, size, device=device)
    torch.mm(a, b)
    best = np.inf
    for _ in range(5):
        sync()
        t0 = time.perf_counter()
        torch.mm(a, b)
        sync()
        best = min(best, time.perf_counter() - t0)
    torch.set_num_threads(old)
    return 2 * size**3 / best / 1e9


def phase_full(device: str) -> dict:
    """The whole n=2, m=1 phase diagram at the issue's size: one animsup.train.loop.train call."""
    with common.tmpdir() as tmp:
        dt, _ = animsup_run(tmp, 2, 1, 4000, 10_000, device=device)
    return common.row(f"phase diagram n=2 m=1, 20x20 cells x 10 trials, 10,000 steps, batch 1024 ({device})",
                      "seconds", round(dt, 1), "s", note="whole train() call, 4,000 models, one snapshot at the end")


def memory_rows(quick: bool) -> list:
    rows = []
    steps = 300 if quick else 2000
    for snaps in (2, 200):
        with common.tmpdir() as tmp:
            wall, rss, _ = common.run_child(
                [common.PYTHON, "-m", "animsup", "train", "--n-features", "200", "--n-hidden", "20", "-p",
                 *[f"{v:.6g}" for v in probabilities(20)], "--importance", "constant", "--steps", str(steps),
                 "--snapshots", str(snaps), "--quiet", "--no-checkpoint", "--out", os.path.join(tmp, "m.jsonl")])
        rows.append(common.row(f"train n=200 m=20 x20, --snapshots {snaps}", "peak RSS", rss, "MiB",
                               note=f"{steps} steps, {wall:.1f} s (whole process)"))
    return rows


def run(quick: bool = False, full: bool = False, device: str = "cpu"):
    import torch

    torch.set_num_threads(1)
    cores = os.cpu_count() or 1
    rows = []
    peak1 = peak_gflops(1, device)
    peak_all = peak_gflops(cores, device) if device == "cpu" else peak1
    rows.append(common.row(f"peak: {'2048' if device == 'cpu' else '8192'}² float32 matmul ({device})", "GFLOP/s",
                           round(peak1, 1), "GFLOP/s", note=f"1 thread; {peak_all:.1f} on {cores} threads"))
    repeat = 1 if quick else 3
    for n, m, K, steps, qsteps, what in SIZES:
        steps = qsteps if quick else steps
        ours, one, every, ours_loss, their_loss = [], [], [], None, None
        with common.tmpdir() as tmp:
            for _ in range(repeat):
                dt, curve = animsup_run(tmp, n, m, K, steps, device=device)
                ours.append(dt)
                ours_loss = curve
                dt, losses = notebook_loop(n, m, K, steps, device=device, threads=1)
                one.append(dt)
                their_loss = losses
                if device == "cpu" and cores > 1:
                    every.append(notebook_loop(n, m, K, steps, threads=cores)[0])
        ratio = common.paired_ratio(one, ours)  # baseline time / our time: > 1 means animsup is faster
        ratio_all = common.paired_ratio(every, ours) if every else None
        q = max(1, steps // 4)
        flops = 10 * K * m * n * BATCH * (steps + 1)
        gf = flops / common.median(ours) / 1e9
        rows.append(common.row(
            f"train n={n} m={m} x{K} ({what})", "steps/s", round((steps + 1) / common.median(ours), 1), "steps/s",
            baseline=round(steps / common.median(one), 1), baseline_name="notebook batched loop, 1 thread",
            ratio=round(ratio, 2), target=10.0, met=ratio >= 10.0,
            baseline_all_threads=round(steps / common.median(every), 1) if every else None,
            ratio_all_threads=round(ratio_all, 2) if every else None,
            gflops=round(gf, 2), peak_fraction_1thread=round(gf / peak1, 3), peak_fraction_all=round(gf / peak_all, 3),
            loss_last_quarter=float(np.mean(ours_loss[-q:].sum(1))),
            baseline_loss_last_quarter=float(np.mean(their_loss[-q:].sum(1))),
            note=f"{steps} steps; loss = mean over the last quarter of the steps of the sum over instances; init {INIT}; {device}"))
        extra = f", {ratio_all:.2f} against {cores} threads" if every else ""
        print(f"  n={n} m={m} K={K}: ratio {ratio:.2f}{extra}, {gf:.2f} GFLOP/s ({gf / peak_all:.0%} of peak)", flush=True)
    if device == "cpu":
        rows += memory_rows(quick)
    if full:
        rows.append(phase_full(device))
        print(f"  {rows[-1]['path']}: {rows[-1]['value']} s", flush=True)
    return rows


if __name__ == "__main__":
    common.bench_main("notebook", run)
