"""Build the small checkpoint fixtures in this folder from the layouts seen in public
replication repos (docs/importing.md). Committed; this script documents how they were made:

    .venv/bin/python tests/data/checkpoints/make_fixtures.py      # needs torch, safetensors;
                                                                 # pandas for devinterp_runs.pkl

Every W is a pentagon of n=5 features in m=2 dimensions (scaled per instance/step) so
the imports render as something recognisable. EXPECTED (below) is what tests check against.
"""

from __future__ import annotations

import io
import os
import pickle
import sys
import types
import zipfile
from collections import OrderedDict

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
N, M = 5, 2


def pentagon(scale=1.0, phase=0.0) -> np.ndarray:
    """[m=2, n=5] float32."""
    a = phase + 2 * np.pi * np.arange(N) / N
    return (scale * np.stack([np.cos(a), np.sin(a)])).astype(np.float32)


def kmn(K, scale=1.0) -> np.ndarray:
    return np.stack([pentagon(scale * (1 + 0.25 * k), 0.1 * k) for k in range(K)])  # [K, m, n]


def bias(K) -> np.ndarray:
    return (-0.01 * np.arange(K * N, dtype=np.float32)).reshape(K, N)


def _path(name):
    return os.path.join(HERE, name)


def main() -> None:
    import torch
    from safetensors.numpy import save_file as save_np
    from safetensors.torch import save_file as save_pt

    # 1. safetensors under a .pt name: W as [n, m] (x @ w_3t @ w_3t.T), bias b_1t [n]
    save_np({"w_3t": np.ascontiguousarray(pentagon().T), "b_1t": bias(1)[0]}, _path("safetensors_named.pt"))

    # 2. torch zip named .pkl, saved "on cuda:0" (the location tag rewritten): ARENA [K, m, n] + b_final [K, n]
    buf = io.BytesIO()
    torch.save({"W": torch.from_numpy(kmn(2)), "b_final": torch.from_numpy(bias(2))}, buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    with zipfile.ZipFile(_path("torch_cuda_saved.pkl"), "w") as out:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.endswith("data.pkl"):
                assert b"X\x03\x00\x00\x00cpu" in data or b"\x8c\x03cpu" in data
                data = data.replace(b"X\x03\x00\x00\x00cpu", b"X\x06\x00\x00\x00cuda:0").replace(b"\x8c\x03cpu", b"\x8c\x06cuda:0")
            out.writestr(info, data)

    # 3. the notebook's layout in a torch zip: W [K, n, m], bias [K, 1, n]
    torch.save({"W": torch.from_numpy(kmn(3).transpose(0, 2, 1).copy()), "b_final": torch.from_numpy(bias(3)[:, None, :])},
               _path("notebook_knm.pt"))

    # 4. untied npz: encoder w1_2t [n, m] (x @ w1), decoder w2_2t [m, n] differing from w1.T
    enc = pentagon()
    np.savez(_path("untied.npz"), w1_2t=enc.T, w2_2t=0.5 * enc, b_final=bias(1)[0])

    # 5. an untied-looking pair whose decoder is the encoder's transpose: tied
    torch.save(OrderedDict([("embedding.weight", torch.from_numpy(pentagon())),
                            ("unembedding.weight", torch.from_numpy(pentagon().T.copy())),
                            ("unembedding.bias", torch.from_numpy(bias(1)[0]))]), _path("tied_pair.pt"))

    # 6. a 4-D history [T=6, K=2, m, n] (ARENA's 2-D feature plots)
    np.save(_path("history.npy"), np.stack([kmn(2, s) for s in (0.1, 0.2, 0.4, 0.6, 0.8, 1.0)]))

    # 7. ARENA-style data_log dict, pickled with numpy arrays only
    steps = [0, 10, 50, 200]
    with open(_path("data_log.pkl"), "wb") as f:
        pickle.dump({"steps": steps, "W": [kmn(2, 0.25 * (i + 1)) for i in range(4)],
                     "b_final": [bias(2) for _ in steps], "loss": [np.float32([0.4, 0.5]) / (i + 1) for i in range(4)]}, f)

    # 8. a directory of checkpoints with the step in the name (lexical order != step order; mixed containers, bf16)
    os.makedirs(_path("ckpts"), exist_ok=True)
    save_pt({"W": torch.from_numpy(kmn(1, 0.3)).to(torch.bfloat16)}, _path("ckpts/model_step_2.safetensors"))
    save_np({"W": kmn(1, 0.6)}, _path("ckpts/model_step_10.safetensors"))
    torch.save({"W": torch.from_numpy(kmn(1, 1.0))}, _path("ckpts/model_step_100.pt"))

    # 9. a JAX port: w [K, n, m], b_final [K, n], losses [steps] summed over instances, config as a string
    losses = (1.0 / (1 + np.arange(50))).astype(np.float32)
    save_np({"w": np.ascontiguousarray(kmn(4).transpose(0, 2, 1)), "b_final": bias(4), "losses": losses},
            _path("jax_port.safetensors"),
            metadata={"config": "Config(n_instances=4, n_features=5, n_hidden=2, feature_probability=0.05, "
                                "importance_base=0.9, steps=50, name='tms')"})

    # 10. devinterp/aisf: a pickled list of runs; parameters m = features, n = hidden (reversed);
    #     logs a DataFrame with no step-0 row; weights len(logs) + 1 state dicts, weights[0] = step 0;
    #     and an object of the authors' own dataset class
    try:
        import pandas as pd
    except ImportError:
        print("pandas missing: devinterp_runs.pkl not rebuilt", file=sys.stderr)
        return
    mod = types.ModuleType("toy_models.datasets")

    class SyntheticBinaryDataset:  # the authors' class; never importable by animsup
        def __init__(self, n):
            self.n = n

    SyntheticBinaryDataset.__module__ = "toy_models.datasets"
    SyntheticBinaryDataset.__qualname__ = "SyntheticBinaryDataset"
    mod.SyntheticBinaryDataset = SyntheticBinaryDataset
    sys.modules["toy_models"] = types.ModuleType("toy_models")
    sys.modules["toy_models.datasets"] = mod
    log_steps = [1, 3, 10, 30, 100]
    runs = []
    for r, sparsity in enumerate((0.9, 0.95)):
        weights = []
        for t in range(len(log_steps) + 1):
            W = torch.from_numpy(pentagon(0.2 + 0.15 * t, 0.1 * r))
            weights.append(OrderedDict([("embedding.weight", W.clone()), ("unembedding.weight", W.T.clone()),
                                        ("unembedding.bias", torch.from_numpy(bias(1)[0] * (r + 1)))]))
        logs = pd.DataFrame({"step": log_steps, "loss": [0.3 / (i + 1) + 0.01 * r for i in range(5)],
                             "test_loss": [0.31 / (i + 1) + 0.01 * r for i in range(5)], "acc": [0.5 + 0.1 * i for i in range(5)]})
        runs.append({"parameters": {"m": N, "n": M, "sparsity": sparsity, "dataset": SyntheticBinaryDataset(N)},
                     "logs": logs, "weights": weights})
    with open(_path("devinterp_runs.pkl"), "wb") as f:
        pickle.dump(runs, f)


if __name__ == "__main__":
    main()
