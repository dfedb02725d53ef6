"""The SAE file (format ``animsup.sae``, version 2): sparse autoencoders trained on a run's hidden
activations, in a sidecar beside its log so the render and the viewer draw their decoder
directions over W's columns. No torch: read by every reader.

``animsup sae runs/a.jsonl`` (or ``.jsonl.gz``) writes ``runs/a.sae.json`` (``--out`` elsewhere;
``animsup render LOG --sae FILE`` reads a file from anywhere). One JSON object, written
atomically by :meth:`animsup.train.sae.SaeResult.to_dict`::

    {"format": "animsup.sae", "version": 1,
     "log": "a.jsonl", "header_sha256": "<hex>",        # which log: its name, its header line's digest
     "n_features": n, "n_hidden": m, "model": "...", "instance": i,
     "config": {"kind": "relu" | "topk", "n_latents": L, "seeds": [S], "l1": [...], "k": [...], ...},
     "steps": [T],                                      # the snapshot step each set of SAEs was trained on
     "values": [V],                                     # the l1 (relu) or k (topk) of each SAE
     "scores": [K = T*V*S] {"mmcs", "matched", "dead", "dense", "l0", "shrinkage", "mse", "match",
                            "mmcs_chance", "matched_chance"},  # chance: random unit decoders, same targets
     "notes": ["..."],                                  # warnings (score near chance, shrinkage far from 1)
     "pairs": [[parent, child]], "absorption": [K][P],
     "decoders": [K][L][m]}                             # unit decoder rows, target-major [T, V, S]

``mmcs_chance`` / ``matched_chance`` and ``notes`` were added within version 2 (older files lack
them: read as NaN / none; older readers ignore them). ``header_sha256`` is :func:`header_digest`
of the log's header record: a file made from another log (or another instance count, model or data law) is refused by :func:`check_log`.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from animsup.errors import AnimsupError, LogFormatError, plural
from animsup.escape import terminal
from animsup.log.measurements import header_digest  # noqa: F401  (one definition, shared with the measurements sidecar)

FORMAT = "animsup.sae"
VERSION = 2  # 2: the file records its log (name, header digest) and its n_features/n_hidden/model
KINDS = ("relu", "topk")
MAX_BYTES = 256 << 20


def sidecar_path(log_path: str | os.PathLike[str]) -> str:
    """``a.jsonl`` / ``a.jsonl.gz`` / ``a.json`` -> ``a.sae.json`` in the same folder (the
    measurements sidecar's naming, :func:`animsup.log.measurements.sidecar_path`)."""
    from animsup.log.measurements import sidecar_path as measure_path  # (imported here: the module's own name)

    return measure_path(log_path).removesuffix(".measure.json") + ".sae.json"


@dataclass
class SaeFile:
    """An SAE file, checked.

    :param steps: (shape: [T]) the snapshot steps the SAEs were trained on
    :param values: (length V) l1 (relu) or k (topk) of each SAE; ``seeds``: (length S)
    :param decoders: (shape: [T, V, S, n_latents, n_hidden]) unit decoder directions
    :param matched: (shape: [T, V, S]) Hungarian-matched cosine to the toy's columns
    :param mmcs: (shape: [T, V, S]) mean max cosine similarity
    :param matched_chance, mmcs_chance: (shape: [T, V, S]) their chance baselines (NaN: not in the file)
    """

    path: str
    log: str
    header_sha256: str
    n_features: int
    n_hidden: int
    instance: int
    kind: str
    steps: np.ndarray
    values: list[float]
    seeds: list[int]
    decoders: np.ndarray
    matched: np.ndarray
    mmcs: np.ndarray
    matched_chance: np.ndarray
    mmcs_chance: np.ndarray

    @property
    def n_latents(self) -> int:
        return int(self.decoders.shape[-2])

    @property
    def per_snapshot(self) -> bool:
        """More than one target snapshot (``animsup sae --snapshots all``)."""
        return len(self.steps) > 1

    def best(self) -> tuple[int, int]:
        """(value index, seed index) of the SAE with the highest matched cosine at the last target
        (ties: the first): the one the render and the viewer draw."""
        last = np.nan_to_num(self.matched[-1], nan=-np.inf)
        v, s = np.unravel_index(int(np.argmax(last)), last.shape)
        return int(v), int(s)

    def value_text(self, v: int) -> str:
        """``l1=0.01`` or ``k=2``."""
        return f"l1={self.values[v]:g}" if self.kind == "relu" else f"k={int(self.values[v])}"


def read_sae(path: str | os.PathLike[str]) -> SaeFile:
    """Read and check an SAE file.

    :raises LogFormatError: unreadable, not ``animsup.sae``, a newer version, or bad arrays (one line)
    """
    path = os.fspath(path)
    try:
        if os.path.getsize(path) > MAX_BYTES:
            raise LogFormatError(path, None, f"larger than {MAX_BYTES >> 20} MiB")
        with open(path, "rb") as f:
            d = orjson.loads(f.read())
    except OSError as e:
        raise LogFormatError(path, None, f"cannot read the SAE file: {e.strerror or e}") from None
    except orjson.JSONDecodeError as e:
        raise LogFormatError(path, None, f"not an SAE file (not JSON: {e})") from None
    return parse(d, path)


def parse(d: Any, path: str = "<sae>") -> SaeFile:
    """A :class:`SaeFile` from the file's JSON object (checked: every error names what is wrong)."""
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise LogFormatError(path, None, f"not an SAE file (format is not {FORMAT!r}; animsup sae writes one)")
    if not isinstance(d.get("version"), int) or isinstance(d["version"], bool):
        raise LogFormatError(path, None, f"version {terminal(repr(d.get('version')))} is not a whole number")
    if d["version"] > VERSION:
        raise LogFormatError(path, None, f"version {terminal(d.get('version'))} is newer than this animsup reads "
                                         f"({VERSION}); upgrade animsup")
    if d["version"] < 2:
        raise LogFormatError(path, None, "written by an older animsup (version 1 records no log to draw it over); "
                                         "run animsup sae LOG again")
    cfg = d.get("config")
    try:
        if not isinstance(cfg, dict) or cfg.get("kind") not in KINDS:
            raise ValueError("config.kind must be relu or topk")
        steps = np.asarray(d["steps"], dtype=np.int64).reshape(-1)
        values = [float(v) for v in d["values"]]
        seeds = [int(s) for s in cfg["seeds"]]
        ints = {k: int(d[k]) for k in ("n_features", "n_hidden", "instance")}
        digest, log = d["header_sha256"], d["log"]
        if not isinstance(digest, str) or not isinstance(log, str):
            raise ValueError("header_sha256 and log must be strings")
        T, V, S = len(steps), len(values), len(seeds)
        dec = np.asarray(d["decoders"], dtype=np.float64)
        scores = d["scores"]
        if dec.ndim != 3 or dec.shape[0] != T * V * S or dec.shape[2] != ints["n_hidden"] or not np.isfinite(dec).all():
            raise ValueError(f"decoders has shape {dec.shape}, expected [{T * V * S}, n_latents, {ints['n_hidden']}] "
                             "finite numbers")
        if not isinstance(scores, list) or len(scores) != T * V * S:
            raise ValueError(f"scores must hold {T * V * S} entries")
        matched = np.array([_number(s, "matched") for s in scores]).reshape(T, V, S)
        mmcs = np.array([_number(s, "mmcs") for s in scores]).reshape(T, V, S)
        chance = {k: np.array([_number(s, k, optional=True) for s in scores]).reshape(T, V, S)
                  for k in ("matched_chance", "mmcs_chance")}
    except (KeyError, TypeError, ValueError, OverflowError) as e:
        what = f"missing {e}" if isinstance(e, KeyError) else str(e)
        raise LogFormatError(path, None, f"bad SAE file: {terminal(what)}") from None
    if T == 0 or V == 0 or S == 0 or dec.shape[1] == 0:
        raise LogFormatError(path, None, "bad SAE file: no SAEs in it")
    return SaeFile(path, log, digest, ints["n_features"], ints["n_hidden"], ints["instance"], str(cfg["kind"]), steps,
                   values, seeds, dec.reshape(T, V, S, *dec.shape[1:]), matched, mmcs, chance["matched_chance"],
                   chance["mmcs_chance"])


def _number(score: Any, key: str, optional: bool = False) -> float:
    """``score[key]`` as a float (None: NaN); a missing key is a KeyError unless ``optional`` (NaN)."""
    v = (score.get(key) if optional else score[key]) if isinstance(score, dict) else None
    if v is None:
        return math.nan
    return float(v)


def check_log(sf: SaeFile, header: Any, steps: np.ndarray, log_path: str) -> None:
    """Refuse an SAE file that was not made from this log.

    :param header: the log's :class:`animsup.log.schema.Header`; ``steps``: its snapshot steps
    :raises AnimsupError: another n_hidden / n_features, an instance the log lacks, another log
        (header digest), steps the log has no snapshot at — one line naming both files
    """
    where = f"{terminal(sf.path)} does not belong to {terminal(log_path)}"
    if sf.n_hidden != header.n_hidden or sf.n_features != header.n_features:
        raise AnimsupError(f"{where}: its SAEs were trained on a toy with n_features={sf.n_features}, "
                           f"n_hidden={sf.n_hidden}; the log has n_features={header.n_features}, n_hidden={header.n_hidden}")
    if not 0 <= sf.instance < header.n_instances:
        raise AnimsupError(f"{where}: it is for instance {sf.instance}; the log has {plural(header.n_instances, 'instance')}")
    if sf.header_sha256 != header_digest(header.raw):
        raise AnimsupError(f"{where}: it was made from another log ({terminal(sf.log)}; the header differs); "
                           f"run: animsup sae {terminal(log_path)}")
    missing = sorted(set(int(s) for s in sf.steps) - set(int(s) for s in np.asarray(steps)))
    if missing:
        raise AnimsupError(f"{where}: the log has no snapshot at step {missing[0]:,} (the SAEs' steps)")
