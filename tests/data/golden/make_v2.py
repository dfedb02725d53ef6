"""Write the hand-made version-2 golden logs in this folder (committed; this documents them).

    .venv/bin/python tests/data/golden/make_v2.py

Written with the stdlib json module, independently of animsup.log, so the reader is
tested against files it did not write. Every number is exact in float32.
"""

from __future__ import annotations

import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))

W0 = [[[0.5, 0.0, -0.5], [0.0, 0.5, 0.25]], [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]]
W1 = [[[1.0, 0.0, -1.0], [0.0, 1.0, 1.0]], [[1.5, 0.0, -1.5], [1.0, 1.5, 0.0]]]
B0 = [[0.0, 0.0, 0.0], [0.125, 0.0, -0.125]]
B1 = [[-0.125, 0.0, 0.0], [0.375, 0.0, -0.375]]


def header(**changes) -> dict:
    h = {
        "type": "header", "schema": "animsup.log", "version": 2, "animsup_version": "0.1.0",
        "n_features": 3, "n_hidden": 2, "n_instances": 2, "model": "tied",
        "feature_probability": [[0.5, 0.25, 0.125], [1.0, 1.0, 1.0]],
        "seed": [7, None],
        "importance": [[1.0, 0.5, 0.25], [1.0, 1.0, 1.0]],
        "config": {"steps": 4},
        "loss_scope": "instance",
        "data": {"kind": "presence_value"},
    }
    h.update(changes)
    return h


def write(name: str, records: list) -> None:
    with open(os.path.join(HERE, name), "w", encoding="utf-8", newline="\n") as f:
        for r in records:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")


def main() -> None:
    # per-instance loss, every v2 header field, a curve per instance and an aggregate curve
    write("hand_tied_v2.jsonl", [
        header(model_label="ReLU output model", model_formula="ReLU(WᵀWx+b)", curves=["test_loss", "lr"],
               stages=[{"start_step": 0, "feature_probability": None, "note": "first"},
                       {"start_step": 2, "feature_probability": [[0.25, 0.25, 0.25], [0.5, 0.5, 0.5]], "note": "sparser"}]),
        {"type": "loss", "step": 0, "every": 2, "loss": [[2.0, 1.5], [1.0, 0.75]]},
        {"type": "snapshot", "step": 0, "loss": [2.0, 1.5], "W": W0, "b": B0},
        {"type": "curve", "name": "test_loss", "step": 0, "values": [2.5, 1.75]},
        {"type": "curve", "name": "lr", "step": 0, "values": [0.001]},
        {"type": "loss", "step": 4, "every": 1, "loss": [[0.25, 0.125]]},
        {"type": "snapshot", "step": 4, "loss": [0.25, 0.125], "W": W1, "b": B1},
        {"type": "curve", "name": "test_loss", "step": 4, "values": [0.5, 0.25]},
        {"type": "curve", "name": "lr", "step": 4, "values": [0.0005]},
        {"type": "end", "status": "completed", "step": 4, "wall_seconds": 0.5},
    ])
    # one loss for all instances (a JAX port's summed loss), as imported: provenance recorded
    write("hand_aggregate_v2.jsonl", [
        header(loss_scope="aggregate", seed=[None, None],
               provenance={"source": "jax_port.safetensors", "given": {"importance": "0.5^i"},
                           "inferred": {"layout": "knm"}}),
        {"type": "loss", "step": 0, "every": 1, "loss": [[3.5], [3.0], [2.0]]},
        {"type": "snapshot", "step": 0, "loss": 3.5, "W": W0, "b": B0},
        {"type": "snapshot", "step": 2, "loss": 2.0, "W": W1, "b": B1},
    ])
    # no loss at all (a single published checkpoint), untied neuron-style model
    write("hand_noloss_v2.jsonl", [
        header(loss_scope="none", model="untied", data={"kind": "uniform", "normalise": "l2"}),
        {"type": "snapshot", "step": 1000, "W": W1, "b": B1, "W_dec": W0},
        {"type": "end", "status": "failed", "step": 1000, "wall_seconds": 0.0},
    ])


if __name__ == "__main__":
    main()
