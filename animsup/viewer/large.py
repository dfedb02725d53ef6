"""The viewer's summary of a large model (:mod:`animsup.analysis.large`): per shown snapshot and
instance the norm-by-rank curve, the D_i and overlap histograms and five numbers, instead of W.

At n = 10,240, m = 256, 40 snapshots W alone would be 419 MB of float32 (559 MB as base64); the
summary is (3 × B + 2 × 40 + 5) floats per snapshot and instance (B ≤ 160 rank bins; 127 at
n = 10,240): 2.5 KB of base64, 99 KB for 40 snapshots, whatever m. Snapshots are read one at a time
(memory flat in the number of snapshots).
"""

from __future__ import annotations

import base64

import numpy as np

from animsup.analysis import large
from animsup.errors import AnimsupError


def floats_per_snapshot(n_instances: int, n_features: int) -> int:
    """The summary's floats per snapshot (all shown instances)."""
    bins = len(large.rank_edges(n_features)) - 1
    return n_instances * (3 * bins + 2 * large.HIST_BINS + len(large.SCALARS))


def snapshot_limit(n_instances: int, n_features: int, budget: int, most: int) -> int:
    """How many snapshots of summaries fit ``budget`` bytes (base64 float32), at most ``most``."""
    per = floats_per_snapshot(n_instances, n_features) * 4 * 4 / 3
    return int(max(2, min(most, budget // max(per, 1))))


def _b64(a) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode("ascii")


def summary_payload(path, positions, instances, feature_probability) -> tuple[list[int], dict]:
    """(steps of the kept snapshots, the page's ``summary`` entry): ``rank`` [T, k, 3, B] (min, median,
    max ‖W_i‖ per log-spaced rank bin), ``rank_x`` [B] (the bins' geometric centres, ranks from 1),
    ``rank_label`` [k] (each instance's x label, :func:`animsup.analysis.large.order_label`),
    ``dims_hist`` and ``overlap_hist`` [T, k, HIST_BINS] (counts over [0, 1]), ``scalars`` [T, k, 5]
    (:data:`animsup.analysis.large.SCALARS`), ``n_represented`` [T][k], ``welch`` [T][k] (the Welch bound κ
    of that many unit vectors in m dimensions, :func:`animsup.analysis.large.welch_bound`),
    ``overlap_sampled`` [T][k] (how many represented features the overlap histogram and mean come from,
    its counts scaled to all represented ones; 0: all of them, :func:`animsup.analysis.large.overlap_rows`);
    arrays as base64 float32.

    :param positions: (shape: [T]) increasing snapshot indices to keep
    :param instances: the shown instances, in the page's order
    :param feature_probability: (shape: [n_instances, n_features]) the header's
    """
    from animsup.log.reader import open_log

    inst = [int(i) for i in instances]
    srt = sorted(set(inst))
    perm = [srt.index(i) for i in inst]
    keep = [int(p) for p in positions]
    orders = [large.frequency_order(feature_probability[i]) for i in inst]
    n = len(orders[0])
    edges = large.rank_edges(n)
    rows: list[list[dict]] = []
    sampled: list[list[int]] = []
    steps: list[int] = []
    with open_log(path, srt) as reader:
        for t, snap in enumerate(reader.snapshots()):
            if len(rows) < len(keep) and t == keep[len(rows)]:
                W = np.asarray(snap.W)
                sums = [large.feature_summary(W[q]) for q in perm]
                rows.append([large.summary_row(s, orders[j], edges) for j, s in enumerate(sums)])
                sampled.append([s.overlap_sampled for s in sums])
                steps.append(int(snap.step))
            if len(rows) == len(keep):
                break
    if len(rows) != len(keep):
        raise AnimsupError(f"{path}: the log changed while reading it (fewer snapshots on the second read)")
    stack = lambda key: np.asarray([[r[key] for r in row] for row in rows], np.float32)  # noqa: E731
    scal = stack("scalars")
    nrep = np.round(scal[:, :, 0] * n).astype(int)
    m = reader.header.n_hidden
    x = np.sqrt(edges[:-1] + 1.0) * np.sqrt(edges[1:].astype(np.float64))
    return steps, {"rank": _b64(stack("rank")), "rank_x": [float(v) for v in x], "bins": large.HIST_BINS,
                   "rank_label": [large.order_label(feature_probability[i]) for i in inst],
                   "dims_hist": _b64(stack("dims_hist")), "overlap_hist": _b64(stack("overlap_hist")),
                   "scalars": _b64(scal), "scalar_names": list(large.SCALARS),
                   "n_represented": nrep.tolist(), "half": large.HALF,
                   "overlap_sampled": [[int(c) for c in row] for row in sampled],
                   "welch": [[large.welch_bound(int(v), m) for v in row] for row in nrep]}
