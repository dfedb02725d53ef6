"""animsup's SAE metrics against SAELens's on one shared case (issue 24).

The case: SAELens's own synthetic data — a ``FeatureDictionary`` whose 5 feature vectors are the
toy's regular pentagon in m = 2 (the Elhage et al. 2022 toy at 1 − S = 0.05) and an
``ActivationGenerator`` (each feature fires with probability 0.05, magnitude mean 0.5, std 0.29) —
and one ReLU + L1 SAE with 8 latents trained by animsup (``animsup.train.sae.train_saes``, toy's
law), two of its latents switched off (b_enc = −10: dead latents to count). Its weights are loaded
into a SAELens ``StandardSAE``; both libraries then score the same
weights on the same activations (SAELens's ``encode``/``decode``; animsup's forward is checked
equal to it). Compared (SAELens 6.x, ``sae_lens/synthetic/evals.py``):

- L0: ``L0Calculator`` (counts ``!= 0``) vs ``sae_metrics.l0`` (``> 0``): equal for ReLU latents;
- dead latents: ``DeadLatentsCalculator`` (a count) vs ``sae_metrics.score().dead`` (a fraction × L);
- shrinkage: ``ShrinkageCalculator`` (mean over samples of ‖ĥ‖/‖h‖, samples with ‖h‖ <= 1e-6
  skipped; 0.0 when none) vs ``sae_metrics.shrinkage`` (mean of the same ratios, ‖h‖ = 0 skipped;
  NaN when none): both the mean of ratios (not the ratio of means);
- matched cosine: SAELens's ``mean_correlation_coefficient`` (MCC: Hungarian on 1 − |cos|, mean of
  |cos| over the min(L, n) matched pairs) and ``sae_metrics.matched_cosine`` (Hungarian on −cos,
  signed cos summed over the matched pairs / n true features) differ by definition: |cos| lets a
  latent pointing *against* a feature count, which a ReLU latent (a >= 0) cannot use to write that
  feature. Both numbers are reported (not compared); SAELens's definition computed with animsup's
  Hungarian (:func:`mcc_by_animsup`) is compared, with 8 and with 3 (< n) latents;
- MMCS: SAELens 6.x has no SAE-vs-ground-truth MMCS function (its synthetic evals report the MCC
  above; ``stats.py``'s ``mean_max_abs_cos_sim`` is among a dictionary's own features), so animsup's
  MMCS is compared with the max-over-latents, mean-over-features of SAELens's ``util.cosine_similarities``;
- the end-to-end ``eval_sae_on_synthetic_data`` on the same samples (torch seeded alike) must
  report the calculators' numbers.

    python bench/sae_lens_check.py [--quick] [--json docs/results/sae_lens_check.json]

Needs the bench extra (``pip install -e '.[bench]'``: sae-lens); tests/analysis/test_sae_lens_check.py
runs ``--quick`` and skips without it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DOCS_JSON = ROOT / "docs" / "results" / "sae_lens_check.json"
TOL = 1e-5


def pentagon() -> np.ndarray:
    """(shape: [2, 5]) the toy's W: five unit columns at 72° apart."""
    a = 2 * np.pi * np.arange(5) / 5
    return np.stack([np.cos(a), np.sin(a)]).astype(np.float32)


def run(quick: bool = False, seed: int = 0) -> dict[str, Any]:
    """Both libraries' numbers on the shared case; every row has "agree"."""
    import sae_lens
    import torch
    from sae_lens import StandardSAE, StandardSAEConfig
    from sae_lens.synthetic import ActivationGenerator, FeatureDictionary
    from sae_lens.synthetic.evals import (DeadLatentsCalculator, L0Calculator, ShrinkageCalculator,
                                          eval_sae_on_synthetic_data, mean_correlation_coefficient)
    from sae_lens.util import cosine_similarities

    from animsup.analysis import sae_metrics
    from animsup.train.data import DataSpec
    from animsup.train.sae import SaeConfig, train_saes

    W = pentagon()
    n, m, L, p = 5, 2, 8, 0.05
    steps, n_samples = (300, 4096) if quick else (3000, 65536)
    res = train_saes(W[None], np.full(n, p, np.float32), DataSpec(), SaeConfig(n_latents=L, l1=[0.05], steps=steps,
                                                                                 batch_size=1024, eval_samples=1024), seed=seed)
    P = {k: v[0].copy() for k, v in res.params.items()}
    P["b_enc"][-2:] = -10.0  # two latents switched off, so the shared case has dead latents to count
    sae = StandardSAE(StandardSAEConfig(d_in=m, d_sae=L))
    with torch.no_grad():
        for name in ("W_enc", "b_enc", "W_dec", "b_dec"):
            getattr(sae, name).copy_(torch.from_numpy(P[name]))
    fd = FeatureDictionary(n, m, initializer=None)
    with torch.no_grad():
        fd.feature_vectors.copy_(torch.from_numpy(W.T.copy()))
    gen = ActivationGenerator(n, p, std_firing_magnitudes=0.29, mean_firing_magnitudes=0.5)
    torch.manual_seed(seed)
    with torch.no_grad():
        feats = gen.sample(n_samples)
        h = fd(feats)
        a = sae.encode(h)
        h_hat = sae.decode(a)
    # animsup's forward (train/sae.py: a = ReLU((h - b_dec) W_enc + b_enc), ĥ = a W_dec + b_dec) on the same h
    a_ours = np.maximum((h.numpy() - P["b_dec"]) @ P["W_enc"] + P["b_enc"], 0)
    forward_gap = float(np.abs(a_ours - a.numpy()).max())
    dec, truth = P["W_dec"], W.T
    ours = sae_metrics.score(dec, truth, a.numpy(), h.numpy(), h_hat.numpy())
    l0c, deadc, shrc = L0Calculator(), DeadLatentsCalculator(L), ShrinkageCalculator()
    l0c.add_batch(a)
    deadc.add_batch(a)
    shrc.add_batch(h_hat, h)
    mcc = mean_correlation_coefficient(torch.from_numpy(dec), torch.from_numpy(truth))
    cos = cosine_similarities(torch.from_numpy(dec), torch.from_numpy(truth))
    few = 3  # fewer latents than features: SAELens averages over the min(L, n) matched pairs
    mcc_few = mean_correlation_coefficient(torch.from_numpy(dec[:few]), torch.from_numpy(truth))
    torch.manual_seed(seed)
    e2e = eval_sae_on_synthetic_data(sae, fd, gen, num_samples=n_samples)
    rows = [
        ("L0 (active latents per sample)", ours.l0, l0c.compute(), "L0Calculator", "!= 0 vs > 0: equal for ReLU"),
        ("dead latents (count)", ours.dead * L, deadc.compute(), "DeadLatentsCalculator", "animsup reports the fraction"),
        ("shrinkage, mean of ‖ĥ‖/‖h‖", ours.shrinkage, shrc.compute(), "ShrinkageCalculator",
         "skips ‖h‖ = 0 vs ‖h‖ <= 1e-6"),
        ("MCC, SAELens's definition, with animsup's Hungarian (L = 8)", mcc_by_animsup(dec, truth), mcc,
         "mean_correlation_coefficient", "|cos| / min(L, n); numpy Hungarian vs scipy's"),
        (f"MCC, SAELens's definition, with animsup's Hungarian (L = {few} < n)", mcc_by_animsup(dec[:few], truth), mcc_few,
         "mean_correlation_coefficient", "|cos| / min(L, n); numpy Hungarian vs scipy's"),
        ("animsup's matched cosine vs SAELens's MCC (L = 8)", ours.matched, mcc, "mean_correlation_coefficient",
         "differ by definition: signed cos / n vs |cos| / min(L, n)"),
        ("MMCS (max over latents, mean over features)", ours.mmcs, float(cos.max(dim=0).values.mean()),
         "util.cosine_similarities", "SAELens has no MMCS metric"),
        ("end-to-end: eval_sae_on_synthetic_data L0", l0c.compute(), e2e.sae_l0, "eval_sae_on_synthetic_data", "same samples"),
        ("end-to-end: dead latents", deadc.compute(), e2e.dead_latents, "eval_sae_on_synthetic_data", "same samples"),
        ("end-to-end: shrinkage", shrc.compute(), e2e.shrinkage, "eval_sae_on_synthetic_data", "same samples"),
        ("end-to-end: true L0 (features on per sample)", float((feats > 0).sum(1).float().mean()), e2e.true_l0,
         "eval_sae_on_synthetic_data", "same samples"),
    ]
    return {"sae_lens": sae_lens.__version__, "torch": torch.__version__.split("+")[0],
            "case": {"n_features": n, "n_hidden": m, "n_latents": L, "feature_probability": p, "l1": 0.05,
                     "sae_steps": steps, "samples": n_samples, "quick": quick, "switched_off": 2},
            "forward_gap": forward_gap,
            "rows": [{"metric": name, "animsup": float(x), "sae_lens": float(y), "function": fn, "note": note,
                      "compared": not note.startswith("differ by definition"),
                      "agree": bool(abs(float(x) - float(y)) <= TOL * max(1.0, abs(float(y))))}
                     for name, x, y, fn, note in rows]}


def mcc_by_animsup(decoder: np.ndarray, truth: np.ndarray) -> float:
    """SAELens's MCC (``mean_correlation_coefficient``: Hungarian on 1 − |cos|, mean |cos| over the
    min(L, n) matched pairs) computed with animsup's cosine matrix and Hungarian assignment."""
    from animsup.analysis import sae_metrics

    A = np.abs(sae_metrics.cosine_matrix(decoder, truth))
    rows, cols = sae_metrics.linear_assignment(1 - A)
    return float(A[rows, cols].mean())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="300 SAE steps, 4,096 samples (a smoke test)")
    ap.add_argument("--json", type=Path, default=None, help="write the result here (docs/results/sae_lens_check.json)")
    args = ap.parse_args(argv)
    out = run(quick=args.quick)
    text = json.dumps(out, indent=1)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0 if all(r["agree"] for r in out["rows"] if r["compared"]) and out["forward_gap"] <= TOL else 1


def docs_table(path: Path = DOCS_JSON) -> str:
    """The agreement table of the committed result (docs/figures.md, §14)."""
    res = json.loads(path.read_text(encoding="utf-8"))
    c = res["case"]
    lines = [f"SAELens {res['sae_lens']}, torch {res['torch']}; {c['n_features']} features (the pentagon) in m = "
             f"{c['n_hidden']}, 1 − S = {c['feature_probability']:g}; a ReLU + L1 SAE (l1 = {c['l1']:g}, "
             f"{c['n_latents']} latents of which {c['switched_off']} switched off, {c['sae_steps']:,} steps) scored on {c['samples']:,} samples of SAELens's "
             f"ActivationGenerator; largest |latent activation| gap between the two forwards {res['forward_gap']:.1e}.", "",
             "| metric | animsup | SAELens | SAELens function | definitions | agree |", "|---|---:|---:|---|---|---|"]
    for r in res["rows"]:
        agree = ("yes" if r["agree"] else "no") if r["compared"] else "not compared"
        cell = lambda t: t.replace("|", "\\|")  # noqa: E731  (|cos| inside a table cell)
        lines.append(f"| {cell(r['metric'])} | {r['animsup']:.5f} | {r['sae_lens']:.5f} | `{r['function']}` | {cell(r['note'])} | "
                     f"{agree} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
