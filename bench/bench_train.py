"""Training throughput against the two baselines, in the same run.

* vs the C reference (bench/c/seed002.c, gcc -O2, N and M compile-time constants as
  in the post; per-sample loops, batch 1024, plain SGD, fixed data set):
  n=32 m=2, 100 instances: model-steps/s, target >= 10x; n=5 m=2, one instance:
  steps/s, target >= 1x. The targets are judged on animsup's defaults (backend auto,
  threads auto: at n=32 the sparse step runs on 1 or 2 threads, whichever its last steps ran
  faster); report-only rows pin 1 and 2 threads (n=32) and the torch backend (n=5). The C time is its training loop alone (it prints it);
  animsup's is the whole ``animsup.train.loop.train`` call (set-up, sampling, the log
  header and one snapshot included), so the ratio is conservative.
* vs the per-instance notebook loop (bench/naive_train.py, same model, AdamW):
  model-steps/s at 1, 16 and 256 instances (n=5, m=2, batch 1024).

The two sides run interleaved (ours, baseline, ours, ...); the ratio is the median of
the per-pair ratios, so a load spike from other processes hits a pair, not the result.

One torch intra-op thread everywhere (``torch.set_num_threads(1)``; the trainer's "auto" is 1 too).
"""

from __future__ import annotations

import os
import time

import common


def _trainer():
    from animsup.train.config import TrainConfig
    from animsup.train.loop import train

    return TrainConfig, train


def animsup_seconds(tmp, *, n, m, k, steps, batch_size=1024, **cfg):
    """Wall seconds of one ``train()`` call (logging one snapshot, at the end)."""
    TrainConfig, train = _trainer()
    cfg.setdefault("feature_probability", [0.1])
    config = TrainConfig(
        n_features=n, n_hidden=m, seeds=list(range(k)), steps=steps,
        batch_size=batch_size, device="cpu", every=steps, **cfg,
    )
    path = os.path.join(tmp, "train.jsonl")
    t0 = time.perf_counter()
    res = train(config, path, force=True)
    dt = time.perf_counter() - t0
    if res.status != "completed":
        raise RuntimeError(f"train() ended {res.status} at step {res.step}")
    return dt


def vs_c(tmp, quick):
    """Default settings (backend auto, one thread) against the C program, plus report-only variants:
    the other backend, and two block threads for the sparse CPU step (both cores)."""
    from animsup.train.config import TrainConfig

    rows = []
    repeat = 3 if quick else 5
    cases = [
        # n, m, instances, animsup steps, C steps, target, report-only variants
        (32, 2, 100, 30 if quick else 100, 300 if quick else 1000, 10.0,
         {"1 thread": dict(threads=1), "2 threads": dict(threads=2)}),
        (5, 2, 1, 1000 if quick else 3000, 1000 if quick else 3000, 1.0, {"torch backend": dict(backend="torch")}),
    ]
    for n, m, k, steps, c_steps, target, variants in cases:
        common.build_c(n, m)
        cfg = TrainConfig(n_features=n, n_hidden=m, seeds=list(range(k)), batch_size=1024)
        default = f"defaults: {cfg.resolved_backend()} backend, threads {cfg.threads}"
        animsup_seconds(tmp, n=n, m=m, k=k, steps=max(2, steps // 10))  # warm up
        ours, theirs, other = [], [], {name: [] for name in variants}
        for _ in range(repeat):  # interleaved
            ours.append(k * steps / animsup_seconds(tmp, n=n, m=m, k=k, steps=steps))
            theirs.append(c_steps / common.run_c(n, m, steps=c_steps))
            for name, kw in variants.items():
                other[name].append(k * steps / animsup_seconds(tmp, n=n, m=m, k=k, steps=steps, **kw))
        what = "model-steps/s" if k > 1 else "steps/s"
        c = common.median(theirs)
        for name, samples, is_target in [(default, ours, True)] + [(nm, s, False) for nm, s in other.items()]:
            ratio = common.paired_ratio(samples, theirs)
            rows.append(
                common.row(
                    f"train n={n} m={m} batch 1024, {k} inst", f"{what} ({name}) vs C", common.median(samples), what,
                    baseline=c, baseline_name="seed002.c -O2", ratio=ratio,
                    target=f">= {target:g}x" if is_target else "(report)", met=ratio >= target if is_target else None,
                    samples=samples, baseline_samples=theirs,
                )
            )
    return rows


def vs_loop(tmp, quick):
    import torch

    import naive_train

    rows = []
    repeat = 2 if quick else 3
    n, m = 5, 2
    for k in (1, 16, 256):
        steps_ours = {1: 500, 16: 200, 256: 30}[k] // (2 if quick else 1)
        steps_loop = {1: 200, 16: 30, 256: 4}[k] // (2 if quick else 1)
        naive_train.train_loop(n, m, [0.1], [0], steps=5)  # warm up
        animsup_seconds(tmp, n=n, m=m, k=k, steps=5)
        ours, loop = [], []
        for _ in range(repeat):
            ours.append(k * steps_ours / animsup_seconds(tmp, n=n, m=m, k=k, steps=steps_ours))
            t0 = time.perf_counter()
            naive_train.train_loop(n, m, [0.1], list(range(k)), steps=steps_loop)
            loop.append(k * steps_loop / (time.perf_counter() - t0))
        a, b = common.median(ours), common.median(loop)
        rows.append(
            common.row(
                f"train n={n} m={m} batch 1024, {k} inst", "model-steps/s, batched vs per-instance loop", a,
                "model-steps/s", baseline=b, baseline_name="naive_train.py (einsum+autograd+AdamW)",
                ratio=common.paired_ratio(ours, loop), target="(report)", samples=ours, baseline_samples=loop,
            )
        )
    torch.set_num_threads(common.THREADS)
    return rows


def run(quick=False):
    try:
        _trainer()
    except ImportError as e:
        return [common.row("train", "model-steps/s", None, "", note=f"trainer not available: {e}")]
    import torch

    torch.set_num_threads(common.THREADS)
    with common.tmpdir() as tmp:
        return vs_c(tmp, quick) + vs_loop(tmp, quick)


if __name__ == "__main__":
    common.bench_main("train", run)
