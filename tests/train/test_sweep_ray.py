"""Sweeps on Ray (issue 22): a local Ray with 2 CPUs (module fixture: started once, shut down after).
The same grid in 3 shards on Ray gives the arrays of 1 shard locally; a worker killed mid-shard is
retried by Ray and the shard resumes from its checkpoint."""

import os

import numpy as np
import pytest

from animsup.cli.train import spec_configs as spec_groups
from animsup.log.reader import open_log, read_log
from animsup.train.sweep import run_sweep

ray = pytest.importorskip("ray", reason="the [ray] extra is not installed")

SPEC = {"n-features": 5, "n-hidden": 2, "feature-probability": [1.0, 0.1, 0.05], "importance": [0.9, 0.7],
        "seeds": 2, "steps": 40, "batch-size": 128, "snapshots": 6, "lr": 0.01, "backend": "torch"}


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()


def groups():
    return [cfg for _, cfg in spec_groups(SPEC, "spec")]


def test_three_shards_on_ray_equal_one_local_shard_and_a_killed_worker_is_retried(tmp_path, local_ray):
    """One sweep on Ray whose second shard's worker dies (os._exit) after step 20 (past a checkpoint) on its
    first attempt: Ray retries it, it resumes from the checkpoint, and every array equals the local
    one-shard run's."""
    local = run_sweep(groups(), tmp_path / "local")

    def killer(task, progress=None):  # (pickled by value into the Ray worker)
        import os as _os

        from animsup.train.sweep import run_shard

        marker = task["log"] + ".killed"
        if task["id"] != "shard-0001" or _os.path.exists(marker):
            return run_shard(task, progress=progress)

        def die(step, total):
            if step >= 20:
                open(marker, "w").close()
                _os._exit(1)

        return run_shard(task, progress=die)

    res = run_sweep(groups(), tmp_path / "ray", engine="ray", shard_size=4, runner=killer, checkpoint_seconds=0.0)
    assert [s["status"] for s in res.manifest["shards"]] == ["completed"] * 3 and res.merged
    log = str(tmp_path / "ray" / "shards" / "shard-0001.jsonl")
    assert os.path.exists(log + ".killed")  # the first attempt did die
    with open_log(log) as r:
        for _ in r.snapshots():
            pass
        assert r.resumes and r.resumes[0]["from_step"] > 0  # resumed from its checkpoint, not from step 0
    a, b = read_log(local.folder), read_log(res.folder)
    for x, y in ((a.W, b.W), (a.b, b.b), (a.loss_curve, b.loss_curve)):
        np.testing.assert_array_equal(x, y)
