"""The baseline trainer: the toy model trained one instance at a time, notebook style.

What a user without instance batching writes (the paper's Colab and ARENA's exercises
in spirit): for each (feature_probability, seed) a fresh ``W``/``b``, an AdamW
optimiser, and a Python loop of steps with a freshly sampled sparse batch,
``einsum`` forward, autograd backward. Same model as animsup's tied model:
``y = ReLU(W^T W x + b)``, loss = mean over batch of sum_i I_i (x_i - y_i)^2.

    python bench/naive_train.py --n-features 5 --n-hidden 2 --instances 4 --steps 500
"""

from __future__ import annotations

import argparse
import time

import torch


def train_one(n_features, n_hidden, feature_probability, importance, *, steps, batch_size, lr, seed):
    """Train one model; returns (W [n_hidden, n_features], b [n_features], last loss)."""
    torch.manual_seed(seed)
    W = torch.nn.Parameter(torch.empty(n_hidden, n_features))
    torch.nn.init.xavier_normal_(W)
    b = torch.nn.Parameter(torch.zeros(n_features))
    opt = torch.optim.AdamW([W, b], lr=lr)
    for _ in range(steps):
        # sparse batch: each feature present with probability p, uniform on [0, 1) when present
        feat = torch.rand(batch_size, n_features)
        present = torch.rand(batch_size, n_features) < feature_probability
        x = torch.where(present, feat, torch.zeros(()))
        h = torch.einsum("bf,hf->bh", x, W)
        out = torch.relu(torch.einsum("bh,hf->bf", h, W) + b)
        loss = (importance * (x - out) ** 2).sum(-1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return W.detach(), b.detach(), loss.item()


def train_loop(n_features, n_hidden, feature_probabilities, seeds, *, importance=0.9, steps=1000, batch_size=1024, lr=1e-3):
    """One model per (feature_probability, seed), trained one after another.

    :return: list of (W, b, loss), feature_probability-major like animsup's instances
    """
    imp = importance ** torch.arange(n_features, dtype=torch.float32)
    return [
        train_one(n_features, n_hidden, p, imp, steps=steps, batch_size=batch_size, lr=lr, seed=s)
        for p in feature_probabilities
        for s in seeds
    ]


def main(argv=None):
    a = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    a.add_argument("--n-features", type=int, default=5)
    a.add_argument("--n-hidden", type=int, default=2)
    a.add_argument("--instances", type=int, default=1)
    a.add_argument("--feature-probability", type=float, default=0.1)
    a.add_argument("--importance", type=float, default=0.9)
    a.add_argument("--steps", type=int, default=1000)
    a.add_argument("--batch-size", type=int, default=1024)
    a.add_argument("--lr", type=float, default=1e-3)
    a.add_argument("--threads", type=int, default=1)
    args = a.parse_args(argv)
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    out = train_loop(
        args.n_features,
        args.n_hidden,
        [args.feature_probability],
        list(range(args.instances)),
        importance=args.importance,
        steps=args.steps,
        batch_size=args.batch_size,
        lr=args.lr,
    )
    dt = time.perf_counter() - t0
    model_steps = args.instances * args.steps
    print(f"{model_steps} model-steps in {dt:.3f} s: {model_steps / dt:.0f} model-steps/s; "
          f"final losses {[round(o[2], 5) for o in out]}")


if __name__ == "__main__":
    main()
