"""The neuron model at the paper's size on a GPU: n=10, m=5, importance 0.75^i, 7 sparsities x 1,000
models (7,000 instances in one batched run), AdamW lr 1e-3, batch 1024, 10,000 steps — the lowest-loss
model per sparsity against the paper's regimes ("Superposition in a Privileged Basis").

Runs scripts/neuron_model.py and writes its result JSON (the same format as
docs/results/neuron_model.json, plus the wall time) to ``--out``. To put it in the docs: copy that file
to docs/results/neuron_model.json, then ``python scripts/update_docs_tables.py`` and re-draw the figure
with ``python scripts/neuron_model.py`` on the log (or copy outputs' neurons.png).

    python bench/gpu/neuron_model.py --device cuda --out neuron_model_gpu.json   # ~1 min on one H100 (estimate)
    python bench/gpu/neuron_model.py --device cpu --tiny --out /tmp/n.json       # the CPU check (--quick size)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cuda")
    p.add_argument("--out", required=True, help="result JSON")
    p.add_argument("--tiny", action="store_true", help="the script's --quick size (a CPU check)")
    p.add_argument("--steps", type=int, default=10_000)
    p.add_argument("--models", type=int, default=1000)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, os.path.join(ROOT, "scripts", "neuron_model.py"), "--no-video", "--out", tmp,
               "--device", args.device]
        cmd += ["--quick"] if args.tiny else ["--models", str(args.models), "--steps", str(args.steps)]
        t0 = time.time()
        env = dict(os.environ, PYTHONPATH=ROOT, MPLBACKEND="Agg")
        r = subprocess.run(cmd, capture_output=True, text=True, env=env)
        wall = time.time() - t0
        sys.stdout.write(r.stdout[-4000:])
        if r.returncode != 0:
            sys.stderr.write(r.stderr[-4000:])
            return r.returncode
        with open(os.path.join(tmp, "neuron_model.json"), encoding="utf-8") as f:
            res = json.load(f)
    res["script_wall_seconds"] = wall
    res["command"] = " ".join(cmd[1:])
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(res, f, indent=1)
    print(f"wrote {args.out} ({wall:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
