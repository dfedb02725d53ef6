"""Landscape measurements of a run (LLC, Hessian spectrum, essential dynamics) in a sidecar file
beside its log, so every reader (inspect, events, render, the viewer) finds them without torch.

The sidecar of ``runs/a.jsonl`` (or ``a.jsonl.gz``) is ``runs/a.measure.json``: one JSON object
(schema ``animsup.measure``, version 2) written atomically by ``animsup measure`` /
:func:`animsup.measure` (docs/analysis.md, "The loss landscape"):

    {"schema": "animsup.measure", "version": 2, "log": "a.jsonl", "header_sha256": "...", "steps": [T], "instances": [K],
     "llc": {"settings": {...}, "mean": [T][K], "std": [T][K], "chains": [T][K][C],
             "init_loss": [T][K], "diverged": [T][K], "settled": [T][K], "trace": [T][K][D']},
     "hessian": {"settings": {...}, "eigenvalues": [T][K][E], "degeneracy": [T][K], "threshold": [T][K]},
     "pca": {"settings": {...}, "components": [K][T][q], "explained": [K][q]}}

Missing numbers (a diverged estimate) are ``null`` and read back as NaN. Sections are optional;
``settings`` records every hyperparameter, the device and where the data came from.

Version 2 records the run it belongs to: the log's file name and ``header_sha256``
(:func:`header_digest` of the log's header record, the digest SAE files record). A
sidecar of another run (the log was retrained with ``--force``), one whose steps are not
snapshots of the log, an older (version 1) sidecar, which cannot say which run it belongs to, and
a corrupt one are never read as the run's: :func:`read_for_log` returns None and a note saying
why and what to run; :func:`require_for_log` raises that note for a reader that needs the sidecar.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from animsup.atomic import atomic_path
from animsup.errors import AnimsupError, LogFormatError
from animsup.escape import terminal
from animsup.log import sweepdir

SCHEMA = "animsup.measure"
VERSION = 2  # 2: the sidecar records its log (name, header digest)
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
    header_sha256: str = ""
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
                               "header_sha256": self.header_sha256, "steps": [int(s) for s in self.steps], "instances": list(self.instances)}
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
    m = Measurements(steps=steps, instances=instances, log=str(d.get("log", "")),
                     header_sha256=str(d.get("header_sha256", "")) if d["version"] >= 2 else "")
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


def header_digest(raw: dict[str, Any]) -> str:
    """sha256 (hex) of a log's header record, keys sorted: the run a sidecar (measurements, SAE
    file: :mod:`animsup.log.sae_file` uses this one) was made from."""
    return hashlib.sha256(orjson.dumps(raw, option=orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY)).hexdigest()


def sections_of(m: Measurements | None) -> list[str]:
    """The sections ``m`` holds, in :data:`SECTIONS` order."""
    return [] if m is None else [name for name in SECTIONS if getattr(m, name) is not None]


def _again(log_path: str | os.PathLike[str], sections: list[str]) -> str:
    flags = " ".join(f"--{s}" for s in sections) or "--llc"
    return f"run: animsup measure {terminal(os.fspath(log_path))} {flags} again"


def mismatch(m: Measurements, header_raw: dict[str, Any], n_instances: int,
             steps: np.ndarray | None = None) -> str:
    """Why ``m`` is not the measurements of the log whose header record is ``header_raw`` ("" when
    it is): an older sidecar without the log's digest, another log (the header differs), an
    instance the log lacks, or (with the log's snapshot ``steps``) a step the log has no snapshot at."""
    if not m.header_sha256:
        return "it was written by an older animsup and does not record which run it belongs to"
    if m.header_sha256 != header_digest(header_raw):
        return (f"it was measured on another run (of {terminal(m.log) or 'an unnamed log'}: the log's header differs, "
                "e.g. the log was trained again with --force)")
    bad = [i for i in m.instances if not 0 <= i < n_instances]
    if bad:
        return f"it measured instance {bad[0]}; the log has {n_instances} instance(s)"
    if steps is not None:
        missing = sorted(set(int(s) for s in m.steps) - set(int(s) for s in np.asarray(steps)))
        if missing:
            return f"the log has no snapshot at step {missing[0]:,} (a measured step)"
    return ""


def _check(log_path: str | os.PathLike[str], steps: np.ndarray | None) -> tuple[Measurements | None, str]:
    """(the sidecar when it is this run's, else None; why not, with what to run; "" when fine or absent)."""
    from animsup.log.reader import read_header

    try:
        m = read_measurements(log_path)
    except LogFormatError as e:
        return None, f"it is not a valid measurements file ({e.reason}); {_again(log_path, [])}"
    if m is None:
        return None, ""
    header = read_header(log_path)
    why = mismatch(m, header.raw, header.n_instances, steps)
    return (None, f"{why}; {_again(log_path, sections_of(m))}") if why else (m, "")


def read_for_log(log_path: str | os.PathLike[str], steps: np.ndarray | None = None) -> tuple[Measurements | None, str]:
    """The measurements beside ``log_path`` when they are this run's, else None; never raises for
    the sidecar. :param steps: (shape: [T]) the log's snapshot steps, when the caller has them
    (else only the header digest and the instances are checked)
    :return: (measurements or None, note): the note ("" when there is nothing to say) names the
        sidecar, why it was skipped (corrupt, older, another run, steps the log lacks) and what to run
    """
    m, why = _check(log_path, steps)
    return m, (f"{terminal(sidecar_path(log_path))} skipped: {why}" if why else "")


def require_for_log(log_path: str | os.PathLike[str], what: str, steps: np.ndarray | None = None) -> Measurements | None:
    """:func:`read_for_log` for a reader that needs the sidecar (``what``, e.g. "--panels llc"):
    None when there is none. Without ``steps`` the log's snapshot steps are read.
    :raises AnimsupError: the sidecar is not this run's (one line: why, and what to run)"""
    if steps is None and os.path.exists(sidecar_path(log_path)):
        from animsup.log.reader import read_log

        steps = read_log(log_path, [0], require_snapshots=False).steps
    m, why = _check(log_path, steps)
    if why:
        raise AnimsupError(f"{what}: {terminal(sidecar_path(log_path))} cannot be used: {why}")
    return m


@dataclass
class Written:
    """What :func:`store` did: the sidecar's ``path``; ``kept``: sections kept from the earlier
    sidecar (same run, steps and instances); ``replaced``: sections of the earlier sidecar that
    are gone, and ``why``."""

    path: str
    kept: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    why: str = ""


def store(log_path: str | os.PathLike[str], m: Measurements) -> Written:
    """Write ``m`` beside ``log_path`` (atomically). An earlier sidecar of the same run with the same
    steps and instances keeps the sections ``m`` lacks (merged); otherwise its sections are
    replaced, and :class:`Written` names them and why (other snapshots, other instances, another
    run, an older or corrupt file). ``m`` without a header digest gets the log's (it is written as
    this log's measurements)."""
    path = sidecar_path(log_path)
    out = Written(path)
    if not m.header_sha256 and os.path.exists(log_path):  # measurements made for this log: stamp its run
        from animsup.log.reader import read_header

        m.header_sha256 = header_digest(read_header(log_path).raw)
        m.log = m.log or os.path.basename(os.fspath(log_path))
    try:
        old = read_measurements(log_path)
    except LogFormatError as e:
        old, out.why = None, f"the earlier file was not valid ({e.reason})"
    if old is not None:
        lost = [name for name in sections_of(old) if getattr(m, name) is None]
        if old.header_sha256 != m.header_sha256:
            out.why = "it was measured on another run or by an older animsup"
        elif not np.array_equal(old.steps, m.steps):
            out.why = f"it measured other snapshots ({len(old.steps)} vs {len(m.steps)} now)"
        elif old.instances != m.instances:
            out.why = f"it measured other instances ({list(old.instances)} vs {list(m.instances)} now)"
        else:
            for name in lost:
                setattr(m, name, getattr(old, name))
            out.kept = lost
            lost = []
        out.replaced = lost
    data = orjson.dumps(m.to_json(), option=orjson.OPT_SERIALIZE_NUMPY)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(data)
    return out


def write_measurements(log_path: str | os.PathLike[str], m: Measurements, *, merge: bool = True) -> str:
    """Write ``m`` beside ``log_path`` (atomically); with ``merge``, the sections ``m`` lacks are kept
    from an existing sidecar of the same run that measured the same steps and instances
    (:func:`store`, which also says what was replaced). :return: the sidecar's path."""
    if merge:
        return store(log_path, m).path
    path = sidecar_path(log_path)
    data = orjson.dumps(m.to_json(), option=orjson.OPT_SERIALIZE_NUMPY)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(data)
    return path
