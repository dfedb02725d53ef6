"""The summary view of a large model on a trained scaling-law run (Liu, Liu, Gore, NeurIPS 2025).

Trains the paper's toy (y = ReLU(x W Wᵀ + b), p_i ∝ i^-1.2, Σ p_i = 1, values U(0, 2)) at reduced
size, n = 2,048, m = 64, for both regimes at once — weight decay γ = +1 (weak superposition: few
features kept) and γ = −1 (strong: every norm pulled towards 1) — with the pieces of
:mod:`animsup.train.scaling` (``frequencies``, ``lr_factor``, ``decay_``: their schedule and their
decay), 400 steps of 1,024 samples, recording 30 log-spaced snapshots of both models as two
instances of one log. Then renders it: with 2,048 > 512 features the video and the poster show the
summary view (:mod:`animsup.rendering.draw.summary`), one panel per γ.

Writes outputs/large_view/large_view.jsonl, .mp4, .png; the full run also copies the poster to
docs/img/large_view.png (docs/scaling.md). --quick: n = 520, m = 4, 12 steps of 32 samples.

    .venv/bin/python scripts/large_view.py [--quick]
"""

from __future__ import annotations

import math
import os
import shutil

import numpy as np

import _common as c


def train_log(path: str, *, n: int, m: int, steps: int, batch: int, snapshots: int, gammas=(-1.0, 1.0), seed: int = 0,
              lr: float = 0.02) -> str:
    """Train every γ of ``gammas`` together and record ``snapshots`` log-spaced snapshots (instances: γ)."""
    import torch

    from animsup.log.recorder import Recorder
    from animsup.train.scaling import decay_, frequencies, lr_factor

    torch.manual_seed(seed)
    torch.set_num_threads(1)
    G = len(gammas)
    p_np = frequencies(n, "power", 1.2)
    p = torch.tensor(p_np, dtype=torch.float32)
    W = (torch.randn(G, n, m) / math.sqrt(m)).requires_grad_(True)
    b = torch.randn(G, 1, n).requires_grad_(True)
    lr_w, lr_b = lr * (8 / m) ** 0.25, 2.0 / m
    opt = torch.optim.Adam([{"params": [W], "lr": lr_w}, {"params": [b], "lr": lr_b}])
    gam = torch.tensor(gammas)
    at = set(np.unique(np.round(np.geomspace(1, steps, snapshots - 1))).astype(int).tolist()) | {0}
    # importance: the paper's loss weighs every feature alike (plain MSE); per_instance: γ is what tells
    # the instances apart (titles and `animsup inspect` say "γ=-1")
    with Recorder(path, n_features=n, n_hidden=m, n_instances=G, feature_probability=[p_np] * G, overwrite=True,
                  importance=np.ones(n), per_instance={"γ": [float(g) for g in gammas]},
                  seed=[seed] * G, config={"gammas": list(gammas), "alpha": 1.2, "batch_size": batch, "steps": steps,
                                           "source": "scripts/large_view.py (Liu, Liu, Gore 2025 toy)"}) as rec:
        for s in range(steps + 1):
            u = torch.rand(batch, n)
            x = torch.where(u < p, u * (2.0 / p), 0.0)
            y = torch.relu(torch.matmul(torch.matmul(x, W), W.transpose(1, 2)) + b)
            loss = ((y - x) ** 2).mean(dim=(1, 2))
            if s in at:  # the parameters after s updates, and the loss of this batch under them
                rec.snapshot(s, W=W.detach().transpose(1, 2).numpy(), b=b.detach()[:, 0].numpy(),
                             loss=loss.detach().numpy())
            if s == steps:
                break
            f = lr_factor(s, steps)
            opt.param_groups[0]["lr"], opt.param_groups[1]["lr"] = lr_w * f, lr_b * f
            opt.zero_grad(set_to_none=True)
            loss.sum().backward()
            decay_(W, gam, lr_w * f)
            opt.step()
    return path


def main() -> int:
    args = c.parser("large_view", __doc__).parse_args()
    os.makedirs(args.out, exist_ok=True)
    size = dict(n=520, m=4, steps=12, batch=32, snapshots=5) if args.quick else \
        dict(n=2048, m=64, steps=400, batch=1024, snapshots=30)
    log = train_log(os.path.join(args.out, "large_view.jsonl"), **size)
    from animsup.rendering.video import render

    outs = [os.path.join(args.out, "large_view.png")] + ([] if args.no_video else [os.path.join(args.out, "large_view.mp4")])
    render(log, outs, grid=True, duration=None if args.quick else 6.0, time=None if args.quick else "log")
    print(f"wrote {log} and {', '.join(outs)}")
    if not args.quick:
        shutil.copyfile(outs[0], os.path.join(c.ROOT, "docs", "img", "large_view.png"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
