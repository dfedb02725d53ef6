"""animsup's SAE metrics (animsup.analysis.sae_metrics) against SAELens's on one shared case
(bench/sae_lens_check.py --quick): L0, dead latents, shrinkage, MMCS and SAELens's MCC computed
with animsup's Hungarian agree with SAELens's functions on the same weights and activations; the
end-to-end eval_sae_on_synthetic_data reports the same. Skips without sae-lens (the bench extra)."""

import pytest


def test_metrics_agree_with_sae_lens():
    pytest.importorskip("sae_lens", reason="sae-lens (pip install animsup[bench]) is the reference")
    from bench.sae_lens_check import TOL, run

    out = run(quick=True)
    assert out["forward_gap"] <= TOL  # animsup's SAE forward = SAELens's StandardSAE encode
    compared = [r for r in out["rows"] if r["compared"]]
    assert len(compared) == 10 and all(r["agree"] for r in compared), [r for r in compared if not r["agree"]]
    dead = next(r for r in compared if r["metric"] == "dead latents (count)")
    assert dead["sae_lens"] == 2  # the two latents the case switches off
    # the one definitional difference is reported, not hidden: |cos| / min(L, n) >= signed cos / n
    (diff,) = [r for r in out["rows"] if not r["compared"]]
    assert diff["sae_lens"] >= diff["animsup"]
