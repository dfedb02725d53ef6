"""The chance baseline and warnings of a trained SAE through the CLI (animsup sae): many latents in
few dimensions (the newcomer's 600 → 3) are warned about. (A clean toy beating its baseline:
tests/train/test_sae.py::test_topk_recovers_a_pentagon_and_l1_shrinks.)"""

import json


def test_many_latents_in_three_dimensions_are_warned_about(tmp_path, capsys):
    """The newcomer's case: a toy with 600 features in n_hidden = 3 (here 60 latents and 2 SAE steps,
    to be quick): any 60 directions in 3-D lie close to every column, so MMCS is at chance; the
    barely trained SAE's reconstructions overshoot (shrinkage far above 1)."""
    from animsup.cli import main
    from animsup.log.sae_file import read_sae
    from animsup.train.config import TrainConfig
    from animsup.train.loop import train

    log = tmp_path / "big.jsonl"
    train(TrainConfig(n_features=600, n_hidden=3, steps=20, snapshots=2), log)
    assert main(["sae", str(log), "--steps", "2", "--batch-size", "64", "--n-latents", "60"]) == 0
    cap = capsys.readouterr()
    assert "MMCS (chance)" in cap.out.splitlines()[1]
    warns = cap.err.splitlines()
    assert any(w.startswith("animsup: warning: MMCS is less than 0.1 above chance for 1 of 1 SAEs") for w in warns), warns
    assert any(w.startswith("animsup: warning: shrinkage ‖ĥ‖/‖h‖ is far from 1") for w in warns), warns
    side = json.loads((tmp_path / "big.sae.json").read_text())
    assert side["scores"][0]["mmcs_chance"] > 0.9 and side["notes"] == [w.removeprefix("animsup: warning: ") for w in warns]
    sf = read_sae(tmp_path / "big.sae.json")
    assert sf.mmcs_chance[0, 0, 0] == side["scores"][0]["mmcs_chance"]
