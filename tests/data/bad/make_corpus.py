"""Regenerate the broken-log corpus in this folder and its manifest, cases.json.

    .venv/bin/python tests/data/bad/make_corpus.py

Every case starts from the golden log ../golden/hand_tied_v1.jsonl (n_features=3,
n_hidden=2, n_instances=2; header on line 1, snapshots on lines 3, 5 and 7, loss
records on lines 2, 4, 6, the end record on line 8) and breaks one thing. The manifest
gives each file its expected outcome when read with ``animsup.log.reader.read_log``:

- ``error``: a LogFormatError whose message contains ``message``, naming ``line``
  (null: no line applies); the CLI prints one line and exits 2.
- ``warning``: reads, with a LogWarning containing ``message``; ``snapshots`` are kept.
- ``ok``: reads without a warning; ``snapshots`` are kept.

The files are committed; this script documents how they were made.
"""

from __future__ import annotations

import gzip
import json
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "..", "golden", "hand_tied_v1.jsonl")


def base() -> list[dict]:
    with open(GOLDEN, "rb") as f:
        return [json.loads(line) for line in f]


def dump(records, *, allow_nan=False) -> bytes:
    return b"".join(json.dumps(r, separators=(",", ":"), allow_nan=allow_nan).encode() + b"\n" for r in records)


def edit(line: int, **changes) -> bytes:
    """The base log with record ``line`` (1-based) updated; a value of ... deletes the key."""
    recs = base()
    for k, v in changes.items():
        if v is ...:
            del recs[line - 1][k]
        else:
            recs[line - 1][k] = v
    return dump(recs)


def without(line: int) -> list[dict]:
    recs = base()
    del recs[line - 1]
    return recs


CASES: list[tuple] = []  # (file, outcome, message, line, snapshots, content, what)


def case(file, outcome, message, line, content, what, snapshots=None):
    CASES.append((file, outcome, message, line, snapshots, content, what))


def build() -> None:
    good = dump(base())
    lines = good.splitlines(keepends=True)
    rng = random.Random(6)

    # -- not a log at all
    case("empty.jsonl", "error", "empty file", None, b"", "empty file")
    case("blank_lines_only.jsonl", "error", "empty file", None, b"\n\n  \n", "only blank lines")
    case("not_json.jsonl", "error", "not an animsup log (line 1 is not JSON)", None, b"step,loss\n0,1.5\n", "a CSV file, not JSON")
    garbage = bytes(rng.randrange(256) for _ in range(3000))
    case("binary_garbage.jsonl", "error", "not an animsup log (line 1 is binary data", None, garbage.replace(b"\n", b"") + b"\n" + garbage, "random bytes")
    case("header_cut.jsonl", "error", "header line is incomplete", 1, lines[0][:100], "only the first 100 bytes of a header")
    case("line_not_object.jsonl", "error", "not an animsup log (line 1 is JSON but not a JSON object)", None, b"[1, 2, 3]\n" + good, "a JSON array where the header should be")
    # -- the header
    case("header_missing.jsonl", "error", "not an animsup header", 1, dump(without(1)), "no header: the log starts with a loss record")
    case("header_not_first.jsonl", "error", "not an animsup header", 1, lines[2] + lines[0] + b"".join(lines[1:2] + lines[3:]), "a snapshot before the header")
    case("header_twice.jsonl", "error", "second header", 4, b"".join(lines[:3]) + lines[0] + b"".join(lines[3:]), "a second header in the middle")
    case("unknown_schema.jsonl", "error", "unknown schema", 1, edit(1, schema="wandb.log"), "schema is not animsup.log")
    case("newer_version.jsonl", "error", "upgrade animsup", 1, edit(1, version=3), "version 3 (newer than this reader)")
    case("version_string.jsonl", "error", "'version' must be a positive integer", 1, edit(1, version="1"), "version is a string")
    case("header_missing_n_hidden.jsonl", "error", "missing 'n_hidden'", 1, edit(1, n_hidden=...), "header without n_hidden")
    case("header_missing_importance.jsonl", "error", "missing 'importance'", 1, edit(1, importance=...), "header without importance")
    case("header_n_features_string.jsonl", "error", "'n_features' must be a positive integer", 1, edit(1, n_features="3"), "n_features is a string")
    case("header_n_hidden_zero.jsonl", "error", "'n_hidden' must be a positive integer", 1, edit(1, n_hidden=0), "n_hidden = 0")
    case("header_model_unknown.jsonl", "error", "'model' must be one of", 1, edit(1, model="relu"), "unknown model kind")
    case("header_probability_above_one.jsonl", "error", "(0, 1]", 1, edit(1, feature_probability=[1.5, 0.25]), "feature_probability 1.5")
    case("header_probability_count.jsonl", "error", "'feature_probability' has shape [3]", 1, edit(1, feature_probability=[1.0, 0.5, 0.25]), "3 probabilities for 2 instances")
    case("header_importance_shape.jsonl", "error", "'importance' has shape [2]", 1, edit(1, importance=[1.0, 0.5]), "importance for 2 of 3 features")
    case("header_seed_count.jsonl", "error", "'seed' must be a list of 2", 1, edit(1, seed=[0]), "one seed for 2 instances")
    case("header_config_list.jsonl", "error", "'config' must be an object", 1, edit(1, config=[1, 2]), "config is a list")
    case("header_huge_sizes.jsonl", "error", "implausibly large", 1, edit(1, n_features=10**9, n_hidden=10**6), "sizes that would need terabytes")
    # -- snapshots: keys and types
    case("snapshot_missing_W.jsonl", "error", "missing 'W'", 3, edit(3, W=...), "snapshot without W")
    case("snapshot_missing_b.jsonl", "error", "missing 'b'", 3, edit(3, b=...), "snapshot without b")
    case("snapshot_missing_loss.jsonl", "error", "missing 'loss'", 5, edit(5, loss=...), "snapshot without loss")
    case("snapshot_missing_step.jsonl", "error", "missing 'step'", 3, edit(3, step=...), "snapshot without step")
    case("snapshot_step_string.jsonl", "error", "'step' must be a non-negative integer", 5, edit(5, step="2"), "step is a string")
    case("snapshot_step_float.jsonl", "error", "'step' must be a non-negative integer", 5, edit(5, step=2.0), "step is 2.0")
    case("snapshot_step_negative.jsonl", "error", "'step' must be a non-negative integer", 3, edit(3, step=-1), "step is -1")
    case("snapshot_W_strings.jsonl", "error", "'W' is not a numeric array", 3, edit(3, W=[[["0.5", "0", "0"], ["0", "0", "0"]]] * 2), "W holds strings")
    case("snapshot_W_object.jsonl", "error", "'W' must be a numeric array", 3, edit(3, W={"0": 1}), "W is an object")
    case("snapshot_W_ragged.jsonl", "error", "'W' is not a numeric array", 3, edit(3, W=[[[0.5, 0.0], [0.0, 0.5, 0.25]], [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]]), "W rows of different lengths")
    case("snapshot_b_bools.jsonl", "error", "'b' is not a numeric array", 3, edit(3, b=[[True, False, True], [False, False, False]]), "b holds booleans")
    # -- snapshots: shapes against the header
    case("snapshot_W_shape.jsonl", "error", "'W' has shape [2, 2, 4], the header says [2, 2, 3]", 5, edit(5, W=[[[0.0] * 4] * 2] * 2), "W has 4 features, header says 3")
    case("snapshot_W_transposed.jsonl", "error", "'W' has shape [2, 3, 2]", 3, edit(3, W=[[[0.5, 0.0], [0.0, 0.5], [-0.5, 0.25]]] * 2), "W stored [instance][feature][hidden]")
    case("snapshot_b_shape.jsonl", "error", "'b' has shape [2, 2]", 7, edit(7, b=[[0.0, 0.0], [0.0, 0.0]]), "b has 2 features, header says 3")
    case("snapshot_loss_shape.jsonl", "error", "'loss' has shape [3]", 3, edit(3, loss=[2.0, 1.5, 1.0]), "loss for 3 instances, header says 2")
    # -- non-finite and huge numbers
    recs = base()
    recs[2]["W"][1][0][2] = float("nan")
    case("W_nan_literal.jsonl", "error", "NaN and Infinity are not valid JSON", 3, dump(recs, allow_nan=True), "NaN in W, as Python's json writes it")
    case("W_null.jsonl", "error", "'W' contains NaN, infinity or null", 3, good.replace(b'"W":[[[0.5,0.0,-0.5]', b'"W":[[[0.5,null,-0.5]'), "null in W (how orjson writes NaN)")
    recs = base()
    recs[4]["b"][0][1] = float("inf")
    case("b_infinity_literal.jsonl", "error", "NaN and Infinity are not valid JSON", 5, dump(recs, allow_nan=True), "Infinity in b")
    recs = base()
    recs[6]["loss"][1] = float("-inf")
    case("loss_minus_infinity_literal.jsonl", "error", "NaN and Infinity are not valid JSON", 7, dump(recs, allow_nan=True), "-Infinity in a snapshot loss")
    case("loss_null.jsonl", "error", "'loss' contains NaN, infinity or null", 7, edit(7, loss=[0.25, None]), "null in a snapshot loss")
    case("loss_record_null.jsonl", "error", "'loss' contains NaN, infinity or null", 4, edit(4, loss=[[1.75, 1.25], [None, 0.75]]), "null in the fine loss curve")
    case("W_huge_1e300.jsonl", "error", "too large for float32", 5, good.replace(b'"W":[[[0.75,', b'"W":[[[1e300,'), "1e300 in W: finite in JSON, inf in float32")
    case("b_huge_1e39.jsonl", "error", "too large for float32", 3, good.replace(b'"b":[[0.0,0.0,0.0]', b'"b":[[0.0,-1e39,0.0]'), "-1e39 in b: just beyond float32")
    case("W_1e400.jsonl", "error", "not valid JSON", 3, good.replace(b'"W":[[[0.5,', b'"W":[[[1e400,'), "1e400: infinite even as a double")
    # -- order
    case("steps_decreasing.jsonl", "error", "step 2 does not increase (previous was 6)", 5, b"".join(lines[:2] + lines[6:7] + lines[3:5] + lines[7:]), "snapshot steps 0, 6, 2")
    case("steps_duplicated.jsonl", "error", "step 2 does not increase (previous was 2)", 6, b"".join(lines[:5] + lines[4:5] + lines[7:]), "snapshot step 2 twice")
    case("loss_steps_decreasing.jsonl", "error", "loss step 1 does not increase", 6, b"".join(lines[:5] + lines[3:4] + lines[6:]), "a loss record repeated")
    case("snapshot_after_end.jsonl", "error", "after the end record (line 8)", 9, good + lines[6].replace(b'"step":6', b'"step":7'), "a snapshot after the end line")
    case("end_unknown_status.jsonl", "error", "unknown status 'done'", 8, edit(8, status="done"), "end status 'done'")
    case("end_step_missing.jsonl", "error", "end record 'step'", 8, edit(8, step=...), "end record without step")
    case("end_wall_string.jsonl", "error", "'wall_seconds' must be a number", 8, edit(8, wall_seconds="0.5s"), "wall_seconds is a string")
    case("loss_every_zero.jsonl", "error", "'every' must be an integer >= 1", 4, edit(4, every=0), "loss record with every = 0")
    nested = b"[" * 5000 + b"]" * 5000
    case("deeply_nested.jsonl", "error", "not valid JSON", 3, good.replace(b'"W":[[[0.5,0.0,-0.5],[0.0,0.5,0.25]],[[1.0,0.0,0.0],[0.0,1.0,0.0]]]', b'"W":' + nested), "W nested 5000 deep")
    # -- tolerated
    case("truncated_last_line.jsonl", "warning", "last line is incomplete", 7, good[: good.index(lines[6]) + len(lines[6]) // 2], "killed mid-line: the third snapshot is cut", snapshots=2)
    case("still_being_written.jsonl", "warning", "last line is incomplete", 5, b"".join(lines[:4]) + lines[4][:40], "a trainer still writing its second snapshot", snapshots=1)
    case("no_end_record.jsonl", "ok", "", None, b"".join(lines[:7]), "a killed run: every line whole, no end record", snapshots=3)
    case("no_trailing_newline_after_end.jsonl", "ok", "", None, good.rstrip(b"\n"), "end record without its newline (a whole record: used)", snapshots=3)
    case("header_only_no_newline.jsonl", "error", "no snapshots", None, lines[0].rstrip(b"\n"), "a whole header without its newline, nothing else")
    case("crlf_line_endings.jsonl", "ok", "", None, good.replace(b"\n", b"\r\n"), "Windows line endings", snapshots=3)
    case("utf8_bom.jsonl", "ok", "", None, b"\xef\xbb\xbf" + good, "a UTF-8 byte-order mark before the header", snapshots=3)
    case("blank_lines.jsonl", "ok", "", None, good.replace(b"\n", b"\n\n"), "blank lines between records", snapshots=3)
    recs = base()
    recs[2]["note"] = "x" * 20000
    recs.insert(3, {"type": "comment", "text": "unknown record types are ignored", "step": 1})
    case("unknown_keys_and_records.jsonl", "ok", "", None, dump(recs), "unknown keys and an unknown record type (additive)", snapshots=3)
    case("header_only.jsonl", "error", "no snapshots", None, lines[0], "a header and nothing else")
    case("empty_loss_record.jsonl", "ok", "", None, good.replace(b'{"type":"loss","step":4,"every":2,"loss":[[0.5,0.25],[0.25,0.125]]}', b'{"type":"loss","step":4,"every":2,"loss":[]}'), "a loss record with no rows", snapshots=3)
    # -- gzip
    gz = gzip.compress(good, mtime=0)
    case("compressed.jsonl.gz", "ok", "", None, gz, "gzip-compressed log", snapshots=3)
    case("gzip_truncated.jsonl.gz", "error", "corrupt gzip data", 2, gz[: len(gz) // 2], "gzip stream cut in half")
    mid = len(gz) // 2
    case("gzip_corrupt.jsonl.gz", "error", "corrupt gzip data", 1, gz[:mid] + bytes([gz[mid] ^ 0xFF]) + gz[mid + 1 :], "one byte of the gzip stream flipped")
    case("gzip_header_only.jsonl.gz", "error", "corrupt gzip data", 1, gz[:10], "only the 10-byte gzip header")
    case("plain_named_gz.jsonl.gz", "ok", "", None, good, "a plain log named .gz (read as plain text)", snapshots=3)


def main() -> None:
    build()
    manifest = []
    for file, outcome, message, line, snapshots, content, what in CASES:
        with open(os.path.join(HERE, file), "wb") as f:
            f.write(content)
        manifest.append(
            {"file": file, "what": what, "outcome": outcome, "message": message, "line": line, "snapshots": snapshots}
        )
    with open(os.path.join(HERE, "cases.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
