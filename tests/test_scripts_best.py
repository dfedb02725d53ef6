"""scripts/_common.best_per_probability: the reproduction scripts' "best seed per 1 - S" is
animsup.analysis.ranking's (groups of comparable instances, final loss = mean of the last 5 % of steps)."""

import os
import sys

import numpy as np

from animsup.analysis import ranking
from animsup.log.reader import read_log
from animsup.log.schema import make_header
from animsup.log.writer import LogWriter

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts"))
import _common  # noqa: E402

sys.path.pop(0)


def test_best_seed_per_probability_is_the_lowest_final_loss_of_its_group(tmp_path):
    # 2 densities x 3 seeds; at 1-S=0.1 seed 2 has the lowest last loss but seed 1 the lowest tail mean
    fp = [0.1, 0.1, 0.1, 0.05, 0.05, 0.05]
    steps = np.arange(0, 1001, 10)
    curve = np.tile([0.5, 0.3, 0.4, 0.2, 0.25, 0.1], (len(steps), 1))
    curve[-1, 2] = 0.05  # one lucky last batch
    log = str(tmp_path / "r.jsonl")
    with LogWriter(log, make_header(n_features=3, n_hidden=2, model="tied", feature_probability=fp,
                                    seed=[0, 1, 2] * 2, importance=1.0, config={})) as w:
        w.losses_at(steps, curve)
        w.snapshot(1000, curve[-1], np.zeros((6, 2, 3)), np.zeros((6, 3)))
        w.end("completed", 1000, 1.0)
    best = _common.best_per_probability(log, [0.1, 0.05])
    assert best[0.1][0].index == 1 and best[0.05][0].index == 5
    assert [o.index for o in best[0.1][1]] == [0, 1, 2] and [o.index for o in best[0.05][1]] == [3, 4, 5]
    run = read_log(log)
    losses = ranking.final_loss(run.loss_steps, run.loss_curve)
    for p, (b, _) in best.items():
        assert [b.index] == ranking.resolve(f"best:p={p}", ranking.groups(run.header), losses, 6)
        assert b.final_loss == losses[b.index]
