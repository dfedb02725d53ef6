"""`animsup import` on files made to exhaust it: linear-time metadata parsing, allocations checked
against the file's size and the memory budget, and the old pickle protocols (issue 27)."""

from __future__ import annotations

import io
import json
import os
import pickle
import re
import struct
import time

import numpy as np
import pytest

from animsup.cli import main
from animsup.errors import AnimsupError
from animsup.importers import checkpoint, safe_pickle
from animsup.log.reader import read_log

# -------------------------------------------------------------------- metadata parsing

# The pattern the importer used before: `(\w+)` retried at every position inside a long word,
# each retry scanning to the word's end. Measured on this machine: 16 KB of one word, 8.4 s
# (64 KB ~30 s); quadratic, so 1 MB would take hours. The linear parser takes < 0.3 s on each
# 1 MB string below; the bound is 5 s.
_OLD = re.compile(r"(\w+)\s*=\s*([-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+)|True|False|'[^']*'|\"[^\"]*\")")
_N = 1 << 20
ADVERSARIAL = {
    "one long word": "(" + "a" * _N,
    "a word then spaces": "(a" + " " * _N,
    "keys without values": "(" + "a=" * (_N // 2),
    "unclosed quotes": "(a='" + "a= " * (_N // 3),
    "a long number": "(a=" + "1" * _N + "e",
    "words and spaces": "(" + "a1_ \t" * (_N // 5),
    "double quotes": "(" + 'a="x' * (_N // 4),
}


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_metadata_parsing_is_linear_on_1mb_adversarial_strings(name):
    t = time.perf_counter()
    checkpoint._config_from_meta({"config": ADVERSARIAL[name]})
    assert time.perf_counter() - t < 5.0


def test_old_pattern_was_quadratic_and_new_agrees_with_it_on_config_strings():
    s = "(" + "a" * 4000
    t = time.perf_counter()
    _OLD.findall(s)
    old = time.perf_counter() - t
    t = time.perf_counter()
    checkpoint._CONFIG_FIELD.findall(s)
    assert time.perf_counter() - t < old  # quadratic vs linear already at 4 KB
    cfg = "Config(n_instances=8, n_features=5, p=0.01, name='x', ok=True, lr=1e-3, a=.5, b = -2, s=\"y\")"
    assert checkpoint._CONFIG_FIELD.findall(cfg) == _OLD.findall(cfg)
    assert checkpoint._config_from_meta({"c": cfg}) == {
        "n_instances": 8, "n_features": 5, "p": 0.01, "name": "x", "ok": True, "lr": 1e-3, "a": 0.5, "b": -2, "s": "y"}


def test_metadata_value_is_read_up_to_its_cap():
    far = "(" + " " * checkpoint.MAX_META_CHARS + "n_features=5)"
    assert checkpoint._config_from_meta({"c": far}) == {}
    assert checkpoint._config_from_meta({"c": "(n_features=5)"}) == {"n_features": 5}


# -------------------------------------------------------------------- allocations


def _npy(path, shape, dtype="<f8", data=b"\0" * 64):
    b = io.BytesIO()
    np.lib.format.write_array_header_1_0(b, {"descr": dtype, "fortran_order": False, "shape": shape})
    path.write_bytes(b.getvalue() + data)
    return path


def _cli_import(tmp_path, src, capsys):
    out = tmp_path / "out.jsonl"
    code = main(["import", str(src), "--out", str(out)])
    err = capsys.readouterr().err.strip()
    return code, err, out


def test_npy_claiming_80gb_in_a_200_byte_file_is_refused_before_allocating(tmp_path, capsys):
    src = _npy(tmp_path / "big.npy", (100000, 100000))
    assert os.path.getsize(src) < 300
    code, err, out = _cli_import(tmp_path, src, capsys)
    assert code == 2 and len(err.splitlines()) == 1
    assert "claims 80000000000 bytes of data, the file holds 64" in err and not out.exists()


def test_npz_member_claiming_more_than_its_zip_entry_is_refused(tmp_path):
    import zipfile

    b = io.BytesIO()
    np.lib.format.write_array_header_1_0(b, {"descr": "<f4", "fortran_order": False, "shape": (50000, 50000)})
    src = tmp_path / "w.npz"
    with zipfile.ZipFile(src, "w") as z:
        z.writestr("W.npy", b.getvalue() + b"\0" * 16)
    with pytest.raises(AnimsupError, match="W.npy claims 10000000000 bytes"):
        checkpoint.load_tree(str(src))


def test_compressed_npz_beyond_the_memory_budget_is_one_line_needs_n_gb(tmp_path, capsys, monkeypatch):
    src = tmp_path / "bomb.npz"
    np.savez_compressed(src, W=np.zeros((4000, 5000), np.float32))  # 80 MB unpacked, ~80 KB on disk
    # 20 M numbers as float64 (160 MB), twice (the tree and the history built from it): 0.32 GB
    assert os.path.getsize(src) < 200_000
    monkeypatch.setenv("ANIMSUP_MEMORY_BUDGET", str(100 << 20))
    code, err, out = _cli_import(tmp_path, src, capsys)
    assert code == 2 and len(err.splitlines()) == 1 and not out.exists()
    assert re.search(r"needs 0\.32 GB, more than the 0\.105 GB of memory available", err), err


def test_torch_zero_stride_tensor_is_refused_not_expanded(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    src = tmp_path / "zs.pt"
    torch.save({"W": torch.zeros(1).expand(50000, 50000)}, src)  # 10 GB as float32, 4 bytes stored
    assert os.path.getsize(src) < 4000
    code, err, out = _cli_import(tmp_path, src, capsys)
    assert code == 2 and len(err.splitlines()) == 1 and not out.exists()
    assert "broadcast view of only 4 bytes" in err


def test_safetensors_claiming_more_than_the_file_is_refused(tmp_path):
    h = json.dumps({"W": {"dtype": "F32", "shape": [100000, 10000], "data_offsets": [0, 4 * 10**9]}}).encode()
    src = tmp_path / "w.safetensors"
    src.write_bytes(struct.pack("<Q", len(h)) + h + b"\0" * 64)
    with pytest.raises(AnimsupError, match="broken safetensors"):
        checkpoint.load_tree(str(src))


def _evil_pickle(opcodes: bytes) -> bytes:
    return b"\x80\x02" + opcodes + b"."


@pytest.mark.parametrize("payload, what", [
    # numpy.core.multiarray._reconstruct(numpy.ndarray, (10**10,), b'f8'): 80 GB, no data
    (b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nJ\x00\xe4\x0bT\x85U\x02f8\x87R", "an array of 80000000000"),
    # builtins.bytearray(10**10)
    (b"c__builtin__\nbytearray\nJ\x00\xe4\x0bT\x85R", "a bytearray of 10000000000"),
])
def test_pickle_cannot_claim_allocations_its_bytes_do_not_hold(tmp_path, payload, what):
    # the int 10**10 does not fit BININT: use LONG1 instead
    payload = payload.replace(b"J\x00\xe4\x0bT", b"\x8a\x05\x00\xe4\x0bT\x02")
    src = tmp_path / "x.pkl"
    src.write_bytes(_evil_pickle(payload))
    with pytest.raises(AnimsupError, match=f"{what} bytes, more than the file's size allows"):
        safe_pickle.load(str(src))


def test_pickle_calling_ndarray_directly_does_not_allocate(tmp_path):
    src = tmp_path / "x.pkl"
    src.write_bytes(_evil_pickle(b"cnumpy\nndarray\n\x8a\x05\x00\xe4\x0bT\x02\x85\x85R"))
    with pytest.raises(AnimsupError, match="cannot read this pickle safely"):
        safe_pickle.load(str(src))


# -------------------------------------------------------------------- old pickle protocols


@pytest.mark.parametrize("protocol", [0, 1, 2, 3, 4, 5])
def test_numpy_pickles_of_every_protocol_import(tmp_path, protocol):
    rng = np.random.default_rng(protocol)
    W = rng.normal(size=(3, 2, 5)).astype(np.float32)  # [K, m, n]
    src = tmp_path / f"p{protocol}.pkl"
    src.write_bytes(pickle.dumps({"W": W, "b": np.zeros((3, 5)), "tag": bytearray(b"x")}, protocol=protocol))
    assert checkpoint.sniff(str(src)) == "pickle"
    out = tmp_path / "out.jsonl"
    assert main(["import", str(src), "--out", str(out)]) == 0
    np.testing.assert_array_equal(read_log(out).W[0], W)


@pytest.mark.parametrize("protocol", [0, 1, 2])
def test_codecs_encode_is_allowed_only_as_latin1_data(tmp_path, protocol):
    class Evil:
        def __reduce__(self):
            return (os.system, ("touch " + str(tmp_path / "pwned"),))

    for obj in (Evil(), {"W": Evil()}):
        src = tmp_path / "evil.pkl"
        src.write_bytes(pickle.dumps(obj, protocol=protocol))
        assert checkpoint.sniff(str(src)) == "pickle"
        safe_pickle.load(str(src))
    assert not (tmp_path / "pwned").exists()
    # _codecs.encode with another codec (or a non-str) stays inert
    src = tmp_path / "codec.pkl"
    src.write_bytes(b"c_codecs\nencode\n(Vabc\nVrot13\ntR.")
    got = safe_pickle.load(str(src))
    assert isinstance(got, safe_pickle.Inert) and got.args == ("abc", "rot13", "strict")
    src.write_bytes(b"c_codecs\nencode\n(Vab\xe9\nVlatin1\ntR.")
    assert safe_pickle.load(str(src)) == "ab\xe9".encode("latin-1")


def test_text_that_looks_like_an_old_pickle_start_is_not_taken_for_one(tmp_path):
    src = tmp_path / "notes.txt"
    src.write_bytes(b"(just some text)\n")
    with pytest.raises(AnimsupError, match="not a checkpoint"):
        checkpoint.sniff(str(src))


# -------------------------------------------------------------------- fuzz (hypothesis)

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_FUZZ = settings(max_examples=int(os.environ.get("ANIMSUP_FUZZ_EXAMPLES", "60")), deadline=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
_KEY = st.from_regex(r"[a-z_][a-z0-9_]{0,12}", fullmatch=True)
_VALUE = st.one_of(st.integers(-10**9, 10**9), st.floats(allow_nan=False, allow_infinity=False, width=32),
                   st.booleans(), st.from_regex(r"[a-z0-9 ]{0,8}", fullmatch=True))


@_FUZZ
@given(st.dictionaries(_KEY, _VALUE, max_size=8))
def test_fuzz_a_config_repr_parses_back_to_its_values(fields):
    """What dataclass reprs in safetensors metadata hold comes back exactly (never evaluated)."""
    text = "Config(" + ", ".join(f"{k}={v!r}" for k, v in fields.items()) + ")"
    assert checkpoint._config_from_meta({"config": text}) == fields


@_FUZZ
@given(st.lists(st.sampled_from(["a", "1", "_", "=", " ", "\t", "'", '"', "(", ".", "e", "-", "+", "ab=1", "x='"]),
                max_size=400), st.integers(1, 2000))
def test_fuzz_metadata_parsing_is_linear_and_never_raises(pieces, repeat):
    """Any string of the characters the pattern cares about, repeated up to ~1.6 MB: parsed in time
    proportional to its length (the old pattern needed hours for 1 MB), never an exception."""
    text = "(" + "".join(pieces) * repeat
    t = time.perf_counter()
    out = checkpoint._config_from_meta({"config": text})
    assert time.perf_counter() - t < 0.5 + 3e-6 * len(text)
    assert all(isinstance(v, (bool, int, float, str)) for v in out.values())


@_FUZZ
@given(shape=st.lists(st.integers(0, 10**6), min_size=1, max_size=4), dtype=st.sampled_from(["<f4", "<f8", "<f2"]),
       data=st.integers(0, 4096))
def test_fuzz_npy_claims_never_allocate_beyond_the_file(tmp_path, capsys, shape, dtype, data):
    """An .npy header may claim any shape: the import either reads what the file holds or refuses
    in one line (exit 2) — never an internal error, never an allocation beyond the file's bytes."""
    import tracemalloc

    src = _npy(tmp_path / "w.npy", tuple(shape), dtype, b"\0" * data)
    out = tmp_path / "out.jsonl"
    out.unlink(missing_ok=True)
    tracemalloc.start()
    try:
        code = main(["import", str(src), "--out", str(out), "--force"])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    err = capsys.readouterr().err.strip()
    assert code in (0, 2), err
    assert code == 0 or len(err.splitlines()) == 1
    assert peak < 64 * (os.path.getsize(src) + (1 << 20)), f"peak {peak} bytes for a {os.path.getsize(src)}-byte file"
