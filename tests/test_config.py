import pytest

from animsup.train.config import TrainConfig
from animsup.errors import AnimsupError


def test_instances_are_probability_major():
    cfg = TrainConfig(feature_probability=[1.0, 0.1], seeds=[3, 4, 5])
    assert cfg.n_instances == 6
    assert cfg.instance_probabilities() == [1.0, 1.0, 1.0, 0.1, 0.1, 0.1]
    assert cfg.instance_seeds() == [3, 4, 5, 3, 4, 5]


def test_dict_round_trip_and_resolved_weight_decay():
    cfg = TrainConfig(importance=[1, 0.5, 0.25, 0.1, 0.1], optimizer="sgd")
    d = cfg.to_dict()
    assert d["weight_decay"] == 0.0 and TrainConfig(optimizer="adamw").to_dict()["weight_decay"] == 0.01
    back = TrainConfig.from_dict({**d, "some_future_key": 1})
    assert back.to_dict() == d


@pytest.mark.parametrize(
    "changes, words",
    [
        (dict(feature_probability=[0.0]), "(0, 1]"),
        (dict(feature_probability=[1.5]), "(0, 1]"),
        (dict(n_hidden=0), "n-hidden"),
        (dict(steps=0), "steps"),
        (dict(model="quadratic"), "unknown model"),
        (dict(seeds=[1, 1]), "distinct"),
        (dict(importance=[1.0, 2.0]), "n-features is 5"),
        (dict(importance="steep"), "constant"),
        (dict(lr=0.0), "lr"),
        (dict(backend="numpy", model="untied"), "tied"),
        (dict(gradient="blog", backend="torch"), "numpy"),
        (dict(gradient="blog", model="untied"), "tied"),
        (dict(every=0), "every"),
        (dict(init_scale=0.0), "init-scale"),
        (dict(init_scale=float("nan")), "init-scale"),
    ],
)
def test_validate_rejects_with_one_line(changes, words):
    with pytest.raises(AnimsupError) as e:
        TrainConfig(**changes).validate()
    assert words in str(e.value) and "\n" not in str(e.value)


def test_auto_backend_picks_numpy_only_for_small_tied_cpu_runs():
    small = TrainConfig(n_features=5, seeds=[0, 1, 2, 3], batch_size=1024)  # 20k entries a batch
    assert small.resolved_backend() == "numpy"
    assert small.replace(model="untied").resolved_backend() == "torch"
    assert small.replace(device="cuda").resolved_backend() == "torch"
    assert small.replace(backend="torch").resolved_backend() == "torch"
    assert TrainConfig(n_features=32, seeds=list(range(100))).resolved_backend() == "torch"
    assert TrainConfig(n_features=32, seeds=list(range(100)), gradient="blog").resolved_backend() == "numpy"
