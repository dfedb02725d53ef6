"""animsup.analysis.ranking: one final loss, groups of comparable instances, and the same best everywhere."""

import json

import numpy as np
import pytest

from animsup.rendering import frames as fr
from animsup.rendering import plan as rp
from animsup.analysis import minima, ranking
from animsup.cli import main
from animsup.errors import AnimsupError
from animsup.log.reader import read_header, read_log
from animsup.log.schema import make_header
from animsup.log.writer import LogWriter


def test_final_loss_is_the_mean_of_the_last_five_percent_of_the_steps():
    steps = np.arange(0, 2001)
    curve = np.stack([steps * 1.0, -steps * 2.0], axis=1)
    # steps >= 2000 - 0.05 * 2000 = 1900: the mean of 1900..2000 is 1950
    np.testing.assert_allclose(ranking.final_loss(steps, curve), [1950.0, -3900.0])
    # a sparse curve: at least the last point counts
    np.testing.assert_allclose(ranking.final_loss([0, 1000], [[5.0], [3.0]]), [3.0])
    assert ranking.final_loss([], np.zeros((0, 2))) is None


def test_streaming_final_loss_equals_the_whole_curve():
    rng = np.random.default_rng(0)
    steps = np.cumsum(rng.integers(1, 4, 20_000))
    curve = rng.random((len(steps), 3))
    tracker = ranking.FinalLoss()
    cuts = np.sort(rng.choice(np.arange(1, len(steps)), 40, replace=False))
    for a, b in zip(np.r_[0, cuts], np.r_[cuts, len(steps)]):
        tracker.add(steps[a:b], curve[a:b])
    np.testing.assert_allclose(tracker.value(), ranking.final_loss(steps, curve), rtol=1e-12)
    assert tracker._n < 0.1 * len(steps)  # it kept only (about) the tail


def test_nan_ranks_last():
    assert ranking.argbest([np.nan, 0.3, np.inf, 0.2]) == 3
    assert ranking.argbest([np.nan, np.nan]) == 0


def write_sweep(path, *, loss_every=1, steps=1000):
    """Two sparsities x 3 seeds. The final loss (last 5%) ranks seed 1 best in the first group and
    seed 2 in the second, but the last logged batch ranks them otherwise (seed 0 has a lucky
    last batch), and the sparser group's losses are all lower."""
    header = make_header(n_features=5, n_hidden=2, model="tied", feature_probability=[0.1] * 3 + [0.05] * 3,
                         seed=[0, 1, 2] * 2, importance=0.9 ** np.arange(5), config={"steps": steps})
    base = np.array([0.050, 0.040, 0.045, 0.020, 0.025, 0.018])
    s = np.arange(0, steps + 1, loss_every)
    curve = base[None, :] * (1 + 2.0 / (1 + s[:, None] / 50))
    curve[-1, 0] = 0.001  # one lucky batch at the very end
    curve[-1, 3] = 0.001
    W = np.zeros((6, 2, 5), np.float32)
    W[:, 0, 0] = 1.0
    with LogWriter(path, header) as w:
        w.losses(0, loss_every, curve)
        w.snapshot(0, curve[0], W * 0.1, np.zeros((6, 5)))
        w.snapshot(steps, curve[-1], W, np.zeros((6, 5)))
        w.end("completed", steps, 1.0)
    return path


def test_groups_and_resolve(tmp_path):
    log = write_sweep(tmp_path / "s.jsonl")
    h = read_header(log)
    gs = ranking.groups(h)
    assert [(g.name, g.label, g.instances) for g in gs] == [("g0", "1-S=0.1", (0, 1, 2)), ("g1", "1-S=0.05", (3, 4, 5))]
    run = read_log(log)
    final = ranking.final_loss(run.loss_steps, run.loss_curve)
    assert ranking.resolve("best:g0", gs, final, 6) == [1]
    assert ranking.resolve("best:p=0.05", gs, final, 6) == [5]
    assert ranking.resolve("best:1-S=0.1", gs, final, 6) == [1]
    assert ranking.resolve("best", gs, final, 6, one=False) == [1, 5]
    assert ranking.resolve(4, gs, final, 6) == [4]
    with pytest.raises(AnimsupError, match=r"ambiguous.*best:g0 \(1-S=0.1\), best:g1 \(1-S=0.05\)"):
        ranking.resolve("best", gs, final, 6)
    with pytest.raises(AnimsupError, match="no group has 1-S=0.2"):
        ranking.resolve("best:p=0.2", gs, final, 6)
    with pytest.raises(AnimsupError, match="no loss per instance"):
        ranking.resolve("best:g0", gs, None, 6)
    # one instance (e.g. an imported checkpoint without loss) is the best of its one group
    assert ranking.resolve("best", gs[:1], None, 1) == [0]
    with pytest.raises(AnimsupError, match="instance 1 does not exist"):
        ranking.resolve(1, gs[:1], None, 1)


def test_importance_differences_make_groups():
    class H:  # a v2-style header: per-instance importance
        n_instances, n_features = 4, 3
        feature_probability = np.array([0.1, 0.1, 0.1, 0.1])
        importance = np.array([[1, 1, 1], [1, 1, 1], [1, 0.5, 0.25], [1, 0.5, 0.25]])
    gs = ranking.groups(H)
    assert [(g.label, g.instances) for g in gs] == [("1-S=0.1, importance constant", (0, 1)),
                                                   ("1-S=0.1, importance 0.5^i", (2, 3))]
    with pytest.raises(AnimsupError, match="several groups have 1-S=0.1"):
        ranking.resolve("best:p=0.1", gs, np.arange(4.0), 4)


def test_best_is_the_same_instance_in_every_command(tmp_path, capsys):
    log = write_sweep(tmp_path / "s.jsonl")
    # render (pass 1 of the pipeline)
    summary = fr.scan_log(log)
    assert [rp.choose_instances(summary, f"best:g{g}")[0] for g in (0, 1)] == [1, 5]
    # inspect --json: per group the best and every final loss
    assert main(["inspect", str(log), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert [g["best"] for g in r["groups"]] == [1, 5]
    np.testing.assert_allclose([r["groups"][0]["final_loss"][str(i)] for i in range(3)], summary.final_loss[:3], rtol=1e-6)
    assert main(["inspect", str(log), "--json", "--instance", "best"]) == 0
    assert [row["index"] for row in json.loads(capsys.readouterr().out)["instances"]] == [1, 5]
    # events
    assert main(["events", str(log), "--json", "--instance", "best:p=0.05"]) == 0
    assert [row["index"] for row in json.loads(capsys.readouterr().out)["instances"]] == [5]
    # minima: the best instance of each group is in its best class
    outcomes = minima.analyse_logs([log])
    by_group = {}
    for o in outcomes:
        by_group.setdefault(o.feature_probability, []).append(o)
    assert [min(v, key=lambda o: o.final_loss).index for v in by_group.values()] == [1, 5]
    np.testing.assert_allclose([o.final_loss for o in outcomes], summary.final_loss, rtol=1e-6)


def test_no_library_module_imports_the_cli():
    """Data flows one way: library modules never reach into animsup.cli (minima.py once
    imported the final loss from cli/inspect.py)."""
    import ast
    import pathlib

    import animsup

    root = pathlib.Path(animsup.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        if "cli" in path.relative_to(root).parts or path.name == "__main__.py":  # the entry point
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            offenders += [f"{path.name}: {n}" for n in names if n == "animsup.cli" or n.startswith("animsup.cli.")]
    assert not offenders, offenders


def test_a_staged_runs_groups_carry_the_last_stages_density():
    """Seed 000's recipe ends at 1-S = 0.001; its final loss is measured there, so its group says so
    (the header's own feature_probability is stage 0's)."""
    from types import SimpleNamespace

    from animsup.analysis import ranking

    stages = [{"start_step": 0, "feature_probability": [[1.0] * 3] * 2},
              {"start_step": 50, "feature_probability": [[0.001] * 3] * 2}]
    h = SimpleNamespace(n_instances=2, n_features=3, feature_probability=[1.0, 1.0], importance=[1.0, 0.7, 0.49],
                        stages=stages)
    (g,) = ranking.groups(h)
    assert g.label == "1-S=0.001 (last stage)" and g.instances == (0, 1)
    np.testing.assert_allclose(g.feature_probability, 0.001)
    h.stages = stages[:1]  # one stage: the header's own
    assert ranking.groups(h)[0].label == "1-S=1"


def test_finite_data_runs_of_different_training_set_sizes_are_not_compared():
    """A double-descent log trains instances on T = 3 and T = 300 examples: the T = 3 models memorise
    their set (training loss near 0), so a best over both sizes would always pick one of them."""
    from types import SimpleNamespace

    h = SimpleNamespace(n_instances=4, n_features=3, feature_probability=[0.1] * 4, importance=[1.0, 1.0, 1.0],
                        raw={"train_set": {"recipe": "animsup.finite/1", "sizes": [3, 3, 300, 300], "test_size": 1000}})
    gs = ranking.groups(h)
    assert [(g.label, g.instances) for g in gs] == [("1-S=0.1, T=3", (0, 1)), ("1-S=0.1, T=300", (2, 3))]
    losses = np.array([1e-6, 2e-6, 0.05, 0.04])
    assert ranking.resolve("best:g1", gs, losses, 4) == [3]  # the best of the T=300 models, not a memoriser
    h.raw["train_set"]["sizes"] = [300] * 4  # one size: one group, no T in the label
    assert [(g.label, g.instances) for g in ranking.groups(h)] == [("1-S=0.1", (0, 1, 2, 3))]
    assert ranking.train_set_sizes(SimpleNamespace(n_instances=2, raw={})) is None
