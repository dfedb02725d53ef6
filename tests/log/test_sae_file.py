"""The SAE file (animsup.log.sae_file, format animsup.sae v1): its sidecar name beside a log, what
animsup sae writes reads back (decoders in [T, V, S] order, the best-matched SAE), a file of
another log refused by its header digest, bad files named in one line."""

import json

import numpy as np
import pytest

from animsup.errors import LogFormatError
from animsup.log import sae_file as sf


@pytest.mark.parametrize("log, side", [("runs/a.jsonl", "runs/a.sae.json"), ("runs/a.jsonl.gz", "runs/a.sae.json"),
                                       ("a.json", "a.sae.json"), ("runs/sweep", "runs/sweep.sae.json")])
def test_sidecar_sits_beside_the_log(log, side):
    assert sf.sidecar_path(log) == side


def test_header_digest_ignores_key_order_and_sees_any_change():
    a = {"n_features": 5, "seed": [0], "data": {"kind": "uniform"}}
    b = {"data": {"kind": "uniform"}, "seed": [0], "n_features": 5}
    assert sf.header_digest(a) == sf.header_digest(b)
    assert sf.header_digest(a) != sf.header_digest({**a, "seed": [1]})


def test_what_animsup_sae_writes_reads_back(tmp_path, write_pentagon):
    import orjson

    from animsup.log.reader import read_header
    from animsup.train.sae import sae

    log = tmp_path / "p.jsonl"
    write_pentagon(log, T=4, k=2, feature_probability=0.05)
    res = sae(log, instance=1, snapshots="all", steps=2, batch_size=16, eval_samples=64, l1=[0, 0.5], seeds=[0, 1])
    raw = json.loads(orjson.dumps(res.to_dict(), option=orjson.OPT_SERIALIZE_NUMPY))  # what the CLI writes
    f = sf.parse(raw, "p.sae.json")
    assert (f.log, f.instance, f.n_hidden, f.n_features, f.kind) == ("p.jsonl", 1, 2, 5, "relu")
    assert f.steps.tolist() == [0, 10, 20, 30] and f.values == [0.0, 0.5] and f.seeds == [0, 1]
    assert f.decoders.shape == (4, 2, 2, 5, 2) and f.per_snapshot
    # target-major, then value, then seed: SAE (t=2, v=1, s=0) is entry 2*4 + 1*2 + 0 of the file
    np.testing.assert_array_equal(f.decoders[2, 1, 0], np.array(raw["decoders"][10]))
    np.testing.assert_allclose(np.linalg.norm(f.decoders, axis=-1), 1, atol=1e-4)  # unit decoder rows
    m = np.array([s["matched"] for s in raw["scores"]]).reshape(4, 2, 2)
    assert f.best() == tuple(int(i) for i in np.unravel_index(np.argmax(m[-1]), (2, 2)))
    sf.check_log(f, read_header(str(log)), np.array([0, 10, 20, 30]), str(log))  # its own log: accepted


@pytest.mark.parametrize("text, reason", [
    ("[1, 2]", "not an SAE file (format is not 'animsup.sae'"),
    ('{"format": "animsup.sae", "version": "1"}', "version '1' is not a whole number"),
    ('{"format": "animsup.sae", "version": 2, "config": {"kind": "gated"}}', "bad SAE file: config.kind must be relu or topk"),
    ('{"format": "animsup.sae", "version": 2, "config": {"kind": "relu"}}', "bad SAE file: missing 'steps'"),
    # the earlier version recorded no log: refused with what to do, not as a broken file
    ('{"format": "animsup.sae", "version": 1, "config": {"kind": "relu"}}', "older animsup (version 1 records no log"),
])
def test_bad_files_say_what_is_wrong_in_one_line(tmp_path, text, reason):
    p = tmp_path / "x.json"
    p.write_text(text)
    with pytest.raises(LogFormatError) as e:
        sf.read_sae(p)
    assert reason in str(e.value) and "\n" not in str(e.value)
