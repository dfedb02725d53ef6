"""Landscape measurements of a run (LLC, Hessian spectrum, essential dynamics) in a sidecar file
beside its log, so every reader (inspect, events, render, the viewer) finds them without torch.

The sidecar of ``runs/a.jsonl`` (or ``a.jsonl.gz``) is ``runs/a.measure.json``: one JSON object
(schema ``animsup.measure``, version 1) written atomically by ``animsup measure`` /
:func:`animsup.measure` (docs/analysis.md, "The loss landscape"):

    {"schema": "animsup.measure", "version": 1, "log": "a.jsonl", "steps": [T], "instances": [K],
     "llc": {"settings": {...}, "mean": [T][K], "std": [T][K], "chains": [T][K][C],
             "init_loss": [T][K], "diverged": [T][K], "settled": [T][K], "trace": [T][K][D']},
     "hessian": {"settings": {...}, "eigenvalues": [T][K][E], "degeneracy": [T][K], "threshold": [T][K]},
     "pca": {"settings": {...}, "components": [K][T][q], "explained": [K][q]}}

Missing numbers (a diverged estimate) are ``null`` and read back as NaN. Sections are optional;
``settings`` records every hyperparameter, the device and where the data came from.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from animsup.atomic import atomic_path
from animsup.errors import AnimsupError, LogFormatError
from animsup.log import sweepdir

SCHEMA = "animsup.measure"
VERSION = 1
MAX_BYTES = 256 << 20
#: the arrays of each section and their rank (the leading two axes are [T, K], pca's [K, ...])
SECTIONS: dict[str, dict[str, int]] = {
    "llc": {"mean": 2, "std": 2, "chains": 3, "init_loss": 2, "diverged": 2, "settled": 2, "trace": 3},
    "hessian": {"eigenvalues": 3, "degeneracy": 2, "threshold": 2},
    "pca": {"components": 3, "explained": 2},
}


@dataclass
class Measurements:
    """What a sidecar holds, as arrays.

    :param steps: (shape: [T]) the measured snapshot steps
    :param instances: the K measured instances (indices into the log)
    :param llc: "settings" (dict) and arrays "mean", "std" (shape: [T, K]), "chains" (shape: [T, K, C]),
        "init_loss", "diverged" (chains that diverged), "settled" (shape: [T, K]), "trace" (shape: [T, K, D'],
        the chains' mean loss at D' <= 50 evenly spaced draws); or None
    :param hessian: "settings" and "eigenvalues" (shape: [T, K, E], descending), "degeneracy",
        "threshold" (shape: [T, K]); or None
    :param pca: "settings" and "components" (shape: [K, T, q]), "explained" (shape: [K, q]); or None
    """

    steps: np.ndarray
    instances: tuple[int, ...]
    log: str = ""
    llc: dict[str, Any] | None = None
    hessian: dict[str, Any] | None = None
    pca: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def llc_mean(self) -> np.ndarray:
        """(shape: [T, K]) the LLC's mean over chains (AnimsupError without an LLC)."""
        return self._llc("mean")

    @property
    def llc_std(self) -> np.ndarray:
        """(shape: [T, K]) its std over chains."""
        return self._llc("std")

    def _llc(self, key: str) -> np.ndarray:
        if self.llc is None:
            raise AnimsupError("no LLC was measured (measure(..., llc={...}) or animsup measure --llc)")
        return self.llc[key]

    def column(self, instance: int) -> int | None:
        """The K-axis position of log instance ``instance`` (None when not measured)."""
        return self.instances.index(instance) if instance in self.instances else None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"schema": SCHEMA, "version": VERSION, "log": self.log,
                               "steps": [int(s) for s in self.steps], "instances": list(self.instances)}
        for name in SECTIONS:
            sec = getattr(self, name)
            if sec is not None:
                out[name] = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in sec.items()}
        return out

    def summary(self) -> dict[str, Any]:
        """A small JSON summary (what ``inspect --json`` reports): the sidecar's sections, their
        settings and, for the LLC, the first and last measured values per instance."""
        out: dict[str, Any] = {"steps": len(self.steps), "first_step": int(self.steps[0]) if len(self.steps) else None,
                               "last_step": int(self.steps[-1]) if len(self.steps) else None,
                               "instances": list(self.instances)}
        if self.llc is not None:
            mean, std = self.llc["mean"], self.llc["std"]
            out["llc"] = {"settings": self.llc.get("settings", {}),
                          "first": _floats(mean[0]) if len(mean) else [], "last": _floats(mean[-1]) if len(mean) else [],
                          "last_std": _floats(std[-1]) if len(std) else [],
                          "not_settled": int((~self.llc["settled"].astype(bool)).sum()),
                          "diverged_chains": int(np.nansum(self.llc["diverged"]))}
        if self.hessian is not None:
            out["hessian"] = {"settings": self.hessian.get("settings", {}),
                              "last_degeneracy": [int(v) for v in self.hessian["degeneracy"][-1]] if len(self.steps) else []}
        if self.pca is not None:
            out["pca"] = {"settings": self.pca.get("settings", {}), "explained": _floats(self.pca["explained"][:, 0])}
        return out


def _floats(a: np.ndarray) -> list[float | None]:
    return [None if not np.isfinite(v) else float(v) for v in np.asarray(a, dtype=np.float64).ravel()]


def sidecar_path(log_path: str | os.PathLike[str]) -> str:
    """``a.jsonl`` / ``a.jsonl.gz`` / ``a.json`` -> ``a.measure.json`` in the same folder; a sweep's
    folder -> its merged log's sidecar (``DIR/sweep.measure.json``), so a folder and its merged log
    (a Run read from the folder has the merged log as its ``path``) name the same file."""
    p = Path(os.fspath(log_path))
    if sweepdir.is_sweep_dir(p):
        p = p / sweepdir.MERGED
    name = p.name
    for suffix in (".gz", ".jsonl", ".json"):
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
    return str(p.with_name(name + ".measure.json"))


def read_measurements(log_path: str | os.PathLike[str]) -> Measurements | None:
    """The measurements beside ``log_path`` (None when it has none).

    :raises LogFormatError: the sidecar is not a valid ``animsup.measure`` file
    """
    path = sidecar_path(log_path)
    if not os.path.exists(path):
        return None
    try:
        if os.path.getsize(path) > MAX_BYTES:
            raise LogFormatError(path, None, f"larger than {MAX_BYTES >> 20} MiB")
        with open(path, "rb") as f:
            d = orjson.loads(f.read())
    except (OSError, orjson.JSONDecodeError) as e:
        raise LogFormatError(path, None, f"not a measurements file: {e}") from None
    return parse(d, path)


def parse(d: Any, path: str = "<measurements>") -> Measurements:
    """A :class:`Measurements` from the sidecar's JSON object (checked)."""
    if not isinstance(d, dict) or d.get("schema") != SCHEMA:
        raise LogFormatError(path, None, f"schema is not {SCHEMA!r}")
    if not isinstance(d.get("version"), int) or d["version"] > VERSION:
        raise LogFormatError(path, None, f"version {d.get('version')!r} is newer than this animsup reads ({VERSION}); upgrade animsup")
    try:
        steps = np.asarray(d["steps"], dtype=np.int64).reshape(-1)
        instances = tuple(int(i) for i in d["instances"])
    except (KeyError, TypeError, ValueError, OverflowError) as e:
        raise LogFormatError(path, None, f"bad steps/instances: {e}") from None
    T, K = len(steps), len(instances)
    m = Measurements(steps=steps, instances=instances, log=str(d.get("log", "")))
    for name, arrays in SECTIONS.items():
        sec = d.get(name)
        if sec is None:
            continue
        if not isinstance(sec, dict):
            raise LogFormatError(path, None, f"{name} is not an object")
        out: dict[str, Any] = {"settings": sec.get("settings", {}) if isinstance(sec.get("settings", {}), dict) else {}}
        for key, rank in arrays.items():
            if key not in sec:
                raise LogFormatError(path, None, f"{name}.{key} is missing")
            try:
                a = np.array(sec[key], dtype=np.float64)
            except (TypeError, ValueError) as e:
                raise LogFormatError(path, None, f"{name}.{key}: {e}") from None
            lead = (K,) if name == "pca" else (T, K)
            if a.ndim != rank or a.shape[: len(lead)] != lead:
                raise LogFormatError(path, None, f"{name}.{key} has shape {a.shape}, expected {rank} axes starting {lead}")
            out[key] = a
        if name == "llc":
            out["settled"] = out["settled"] > 0.5
        setattr(m, name, out)
    return m


def write_measurements(log_path: str | os.PathLike[str], m: Measurements, *, merge: bool = True) -> str:
    """Write ``m`` beside ``log_path`` (atomically); with ``merge``, the sections ``m`` lacks are kept
    from an existing sidecar that measured the same steps and instances. :return: the sidecar's path."""
    path = sidecar_path(log_path)
    if merge:
        try:
            old = read_measurements(log_path)
        except LogFormatError:
            old = None
        if old is not None and np.array_equal(old.steps, m.steps) and old.instances == m.instances:
            for name in SECTIONS:
                if getattr(m, name) is None:
                    setattr(m, name, getattr(old, name))
    data = orjson.dumps(m.to_json(), option=orjson.OPT_SERIALIZE_NUMPY)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(data)
    return path
