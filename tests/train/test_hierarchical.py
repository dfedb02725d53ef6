"""The hierarchical (parent/child) data recipe: a child is never on without its parent and is on with
probability child_probability when the parent is; the header records it; the config refuses bad sets."""

import numpy as np
import pytest

from animsup.errors import AnimsupError
from animsup.train.config import TrainConfig
from animsup.train.data import Batches, CudaBatches, DataSpec

B = 20_000


def _close(rate, p, n):
    return abs(rate - p) < 5 * np.sqrt(p * (1 - p) / n) + 1e-9


@pytest.mark.parametrize("cuda_api", [False, True])
def test_children_fire_only_with_their_parent(cuda_api):
    spec = DataSpec(hierarchical_sets=[[0, 1, 2], [4, 5]], child_probability=0.3)
    if cuda_api:
        x = CudaBatches([0.2], 6, B, [0], device="cpu", spec=spec).next().numpy()[0]
    else:
        x = Batches([0.2], 6, B, [0], spec=spec).next()[0]
    on = x > 0
    for parent, children in ((0, [1, 2]), (4, [5])):
        assert _close(on[parent].mean(), 0.2, B)  # the parent keeps its own law
        for c in children:
            assert not (on[c] & ~on[parent]).any()  # never without the parent
            assert _close(on[c][on[parent]].mean(), 0.3, on[parent].sum())
    assert _close(on[3].mean(), 0.2, B)  # a free feature is untouched
    both = on[1][on[0]] & on[2][on[0]]  # siblings independent given the parent
    assert _close(both.mean(), 0.09, on[0].sum())
    assert abs(x[1][on[1]].mean() - 0.5) < 0.03  # children keep their own U[0, 1) values


def test_header_records_the_recipe_and_config_round_trips():
    cfg = TrainConfig(n_features=5, n_hidden=2, hierarchical_sets=[[0, 1, 2]], child_probability=0.25, steps=2).validate()
    head = cfg.data_spec().header()
    assert head["hierarchical_sets"] == [[0, 1, 2]] and head["child_probability"] == 0.25
    assert head["hierarchy_version"] == 1
    assert TrainConfig.from_dict(cfg.to_dict()).data_spec() == cfg.data_spec()
    assert "hierarchical_sets" not in DataSpec().header()  # older recipes write the header they always wrote


@pytest.mark.parametrize("kw, msg", [
    ({"hierarchical_sets": [[0]]}, "a parent and at least one child"),
    ({"hierarchical_sets": [[0, 9]]}, "not in 0..4"),
    ({"hierarchical_sets": [[0, 1], [1, 2]]}, "more than one set"),
    ({"hierarchical_sets": [[0, 1]], "correlated_sets": [[1, 2]]}, "more than one set"),
    ({"hierarchical_sets": [[0, 1]], "child_probability": 0.0}, "child-probability"),
])
def test_bad_sets_are_refused(kw, msg):
    with pytest.raises(AnimsupError, match=msg):
        TrainConfig(n_features=5, n_hidden=2, **kw).validate()
