"""The paper-size runs of issue 25 (items 2 and 3) on a GPU: the feature-geometry census at n=400, m=30
(20 sparsities, 10,000 steps; "Toy Models of Superposition", "Uniform Superposition") and the learning
dynamics at n=400, m=30, 1 − S = 0.4 and 0.3 (2 seeds each, 10,000 steps) — too slow for the shared CPUs.

    python bench/gpu/paper_size_geometry.py --device cuda --out results.json
    python bench/gpu/paper_size_geometry.py --tiny --out /tmp/check.json     # the quick sizes, on the CPU

Writes one JSON: {"feature_geometry": <the census, as docs/results/feature_geometry_census.json>,
"learning_dynamics": <as docs/results/learning_dynamics.json>, "seconds": {...}}; the logs go to a
folder beside it. Copy the two parts to docs/results/ and run scripts/update_docs_tables.py.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.path.insert(0, ROOT)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="auto")
    p.add_argument("--out", required=True, help="the JSON file to write")
    p.add_argument("--tiny", action="store_true", help="the scripts' --quick sizes (a CPU check of this script)")
    args = p.parse_args(argv)
    import feature_geometry
    import learning_dynamics

    from animsup.log.reader import read_log
    from animsup.train.loop import train

    logs = os.path.splitext(os.path.abspath(args.out))[0] + "_logs"
    os.makedirs(logs, exist_ok=True)
    out, seconds = {}, {}
    size = "quick" if args.tiny else "paper"
    cfg = feature_geometry.config(size, args.device)
    t0 = time.time()
    train(cfg, os.path.join(logs, "feature_geometry.jsonl"), force=True)
    seconds["feature_geometry"] = round(time.time() - t0, 1)
    run = read_log(os.path.join(logs, "feature_geometry.jsonl"))
    out["feature_geometry"] = {"source": f"bench/gpu/paper_size_geometry.py ({size} size, --device {args.device})",
                               "n_features": cfg.n_features, "n_hidden": cfg.n_hidden, "steps": cfg.steps,
                               **feature_geometry.census_summary(run.W[-1], run.header.instance_probability)}
    cfg = learning_dynamics.config(args.tiny, None, None, args.device)
    t0 = time.time()
    train(cfg, os.path.join(logs, "learning_dynamics.jsonl"), force=True)
    seconds["learning_dynamics"] = round(time.time() - t0, 1)
    run = read_log(os.path.join(logs, "learning_dynamics.jsonl"))
    result = {"config": cfg.to_dict(), "status": run.status, "last_snapshot": int(run.steps[-1]),
              "instances": [learning_dynamics.analyse(run, k) for k in range(len(run.instances))]}
    out["learning_dynamics"] = learning_dynamics.small_result(result)
    out["seconds"] = seconds
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
