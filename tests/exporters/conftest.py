"""Shared helpers of the exporter tests: a run recorded with known values, and a reader of
W&B's offline run files (no network: WANDB_MODE=offline, WANDB_SILENT=true)."""

import glob
import json
import os
import struct

import numpy as np
import pytest

N, M, K, T = 5, 2, 2, 16  # a pentagon in the plane, two seeds of one problem (one group)
STEPS = np.arange(T) * 10
RADIUS = 0.05 + 1.2 * np.arange(T) / (T - 1)  # features are represented (norm > 0.5) from RADIUS > 0.5 on


def known_loss(step):
    """(shape: [K]) the loss recorded at ``step``: instance 1's is twice instance 0's."""
    return np.array([1.0, 2.0]) * 0.1 * np.exp(-step / 50)


def pentagon(radius):
    ang = 2 * np.pi * np.arange(N) / N
    return radius * np.stack([np.cos(ang), np.sin(ang)])  # [m, n]


def record_run(path, model="tied", mirror=None):
    """A run through animsup.Recorder: a pentagon growing from radius 0.05 to 1.25 in both instances
    (instance 1 rotated), the loss at every 5th step, curves test_loss (per instance) and lr (one number)."""
    import animsup

    with animsup.Recorder(path, n_features=N, n_hidden=M, n_instances=K, model=model, feature_probability=0.05,
                          importance=0.9, seed=[3, 4], overwrite=True, mirror=mirror) as rec:
        for t, step in enumerate(STEPS):
            W = np.stack([pentagon(RADIUS[t]), np.roll(pentagon(RADIUS[t]), 1, axis=1)])
            for s in range(step - 5 if t else 0, step + 1, 5):
                rec.loss(s, known_loss(s))
            extra = {"W_dec": 1.1 * W} if model == "untied" else {}
            rec.snapshot(int(step), W=W, b=np.full((K, N), -0.01 * t), loss=known_loss(step), **extra)
            rec.curve("test_loss", int(step), 1.5 * known_loss(step))
            rec.curve("lr", int(step), 1e-3 / (1 + t))
    return path


def tb_read(folder):
    """(scalars {tag: (steps, values)}, texts {tag: [(step, text)]}, the accumulator) of the event
    files in ``folder``, read with TensorBoard's own reader (EventAccumulator)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(folder), size_guidance={"scalars": 0, "tensors": 0, "images": 0})
    acc.Reload()
    scalars = {tag: (np.array([e.step for e in acc.Scalars(tag)]), np.array([e.value for e in acc.Scalars(tag)]))
               for tag in acc.Tags()["scalars"]}
    texts = {tag.removesuffix("/text_summary"): [(e.step, e.tensor_proto.string_val[0].decode()) for e in acc.Tensors(tag)]
             for tag in acc.Tags()["tensors"]}  # tensorboardX files text under "<tag>/text_summary"
    return scalars, texts, acc


@pytest.fixture
def recorded(tmp_path):
    return record_run(str(tmp_path / "run.jsonl"))


def wandb_records(run_dir):
    """Every record of the run's ``run-*.wandb`` file, parsed with W&B's own protobuf (the file is
    LevelDB's log format after a 7-byte ':W&B' header: 32 KiB blocks of records, each a crc32c (4 bytes),
    a length (2), a type (1: full, 2: first, 3: middle, 4: last) and its data)."""
    from wandb.proto import wandb_internal_pb2 as pb

    (path,) = glob.glob(os.path.join(run_dir, "run-*.wandb"))
    with open(path, "rb") as f:
        data = f.read()
    assert data[:4] == b":W&B"
    pos, records, pending = 7, [], b""
    while pos + 7 <= len(data):
        if 32768 - pos % 32768 < 7:  # a block's tail too short for a record header is padding
            pos += 32768 - pos % 32768
            continue
        _, length, kind = struct.unpack("<IHB", data[pos:pos + 7])
        chunk = data[pos + 7:pos + 7 + length]
        pos += 7 + length
        if kind == 0 and length == 0:
            continue
        pending += chunk
        if kind in (1, 4):
            r = pb.Record()
            r.ParseFromString(pending)
            records.append(r)
            pending = b""
    return records


def wandb_history(run_dir):
    """The logged rows, each {key: value} (values decoded from JSON)."""
    rows = []
    for r in wandb_records(run_dir):
        if r.WhichOneof("record_type") == "history":
            rows.append({(i.key or "/".join(i.nested_key)): json.loads(i.value_json) for i in r.history.item})
    return rows


def wandb_run_dir(root):
    (run_dir,) = glob.glob(os.path.join(root, "wandb", "offline-run-*"))
    return run_dir


@pytest.fixture(autouse=True)
def _wandb_offline(monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.delenv("WANDB_DIR", raising=False)
