"""Shared test helpers (fixtures): tests never import each other."""

import os

import numpy as np
import pytest

from animsup.log.schema import make_header
from animsup.log.writer import LogWriter


def write_pentagon(path, *, T=20, n=5, m=2, k=1, model="tied", loss_rows=0, radius=1.2, seed=0, scale=1.0,
                   feature_probability=None):
    """A rotating, growing pentagon: feature i at angle 2πi/5 + t, radius t·radius (features >= 5 stay near 0),
    everything times ``scale`` (0: an all-zero W). Instance i has 1-S = 0.05·(i+1) (a sweep: one group
    per instance), or ``feature_probability`` for all (one group of seeds, so 'best' is defined).

    Returns the W array written, (shape: [T, k, m, n])."""
    rng = np.random.default_rng(seed)
    hdr = make_header(n_features=n, n_hidden=m, model=model, feature_probability=[feature_probability if feature_probability is not None
                                                                           else 0.05 * (i + 1) if k <= 20 else (i + 1) / k for i in range(k)],
                      seed=list(range(k)), importance=(0.9 ** np.arange(n)).tolist(), config={"importance": 0.9})
    Ws = np.zeros((T, k, m, n), np.float32)
    with LogWriter(path, hdr, force=True) as w:
        for t in range(T):
            frac = t / max(T - 1, 1)
            for i in range(k):
                ang = 2 * np.pi * np.arange(n) / 5 + frac + i
                r = np.where(np.arange(n) < 5, 0.05 + frac * radius, 0.01)
                Ws[t, i, 0] = r * np.cos(ang)
                if m > 1:
                    Ws[t, i, 1] = r * np.sin(ang)
                if m > 2:
                    Ws[t, i, 2:] = rng.normal(0, 0.3, (m - 2, n))
            Ws[t] *= scale
            loss = (0.1 * np.exp(-4 * frac) + 1e-3) * (1 + np.arange(k, dtype=np.float32))
            if loss_rows:
                w.losses(t * 10, 10 // loss_rows, np.tile(loss, (loss_rows, 1)))
            b = np.full((k, n), -0.2 * frac, np.float32)
            w.snapshot(t * 10, loss, Ws[t], b, W_dec=1.1 * Ws[t] if model == "untied" else None)
        w.end("completed", (T - 1) * 10, 1.0)
    return Ws


@pytest.fixture(name="write_pentagon")
def write_pentagon_fixture():
    """The :func:`write_pentagon` log writer."""
    return write_pentagon


def text_layout_problems(drawer, margin: float = 0.5) -> list:
    """Every visible text of a drawn ``animsup.rendering.draw.FrameDrawer`` figure that is clipped by the frame
    or overlaps another text (tick labels only where matplotlib draws them)."""
    import itertools

    from matplotlib.text import Text

    r = drawer.canvas.get_renderer()
    drawn, ticklabels = set(), set()
    for ax in drawer.fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            for tk in axis.get_major_ticks() + axis.get_minor_ticks():
                ticklabels |= {id(tk.label1), id(tk.label2)}
            for tk in axis._update_ticks():
                drawn |= {id(tk.label1), id(tk.label2)}
    boxes = []
    for t in drawer.fig.findobj(Text):
        if not t.get_visible() or not t.get_text().strip() or (id(t) in ticklabels and id(t) not in drawn):
            continue
        boxes.append((t.get_text(), t.get_window_extent(r)))
    W, H = drawer.width, drawer.height
    out = [f"clipped: {txt!r}" for txt, b in boxes
           if b.x0 < -margin or b.y0 < -margin or b.x1 > W + margin or b.y1 > H + margin]
    for (a, ba), (b, bb) in itertools.combinations(boxes, 2):
        if ba.x0 < bb.x1 - 1 and bb.x0 < ba.x1 - 1 and ba.y0 < bb.y1 - 1 and bb.y0 < ba.y1 - 1:
            out.append(f"overlap: {a!r} / {b!r}")
    return out


@pytest.fixture(name="text_layout_problems")
def text_layout_problems_fixture():
    """The :func:`text_layout_problems` check."""
    return text_layout_problems


#: strings a hostile log may carry: an HTML comment opener that would swallow the page's scripts,
#: a script end, JavaScript's line separator, broken and well-formed mathtext, a screen clear,
#: an OSC 52 clipboard write, a bidi override
HOSTILE = ("<!--<script>", "</script><b>bold</b>", "a\u2028b\u2029c", "$x^{$", "$\\undefinedcmd$", "$x^2$",
           "\x1b[2J\x1b]52;c;aGk=\x07", "\u202eevil", "new\nline")


def write_hostile(path, *, seeds=None, model_label=None, model_formula=None, T=12, k=2):
    """A valid log (model "custom") whose seeds, ``model_label`` and ``model_formula`` are the given
    strings (default: :data:`HOSTILE` joined). Seeds are strings: the reader accepts any JSON value
    there (only the Recorder insists on integers). Returns the W written ([T, k, 2, 5])."""
    joined = " ".join(HOSTILE)
    hdr = make_header(n_features=5, n_hidden=2, model="custom", feature_probability=[0.1] * k, seed=list(range(k)),
                      importance=(0.9 ** np.arange(5)).tolist(), config={}, model_label=joined if model_label is None else model_label,
                      model_formula=joined if model_formula is None else model_formula)
    hdr["seed"] = list(seeds) if seeds is not None else [joined] + [HOSTILE[i % len(HOSTILE)] for i in range(1, k)]
    Ws = np.zeros((T, k, 2, 5), np.float32)
    with LogWriter(path, hdr, force=True) as w:
        for t in range(T):
            ang = 2 * np.pi * np.arange(5) / 5 + t / T
            Ws[t, :, 0], Ws[t, :, 1] = (0.1 + t / T) * np.cos(ang), (0.1 + t / T) * np.sin(ang)
            loss = (0.1 * np.exp(-t / 4) + 1e-3) * (1 + np.arange(k, dtype=np.float32))
            w.losses(t * 10, 5, np.tile(loss, (2, 1)))
            w.snapshot(t * 10, loss, Ws[t], np.full((k, 5), -0.1, np.float32))
        w.end("completed", (T - 1) * 10, 1.0)
    return Ws


@pytest.fixture(name="write_hostile")
def write_hostile_fixture():
    """The :func:`write_hostile` log writer."""
    return write_hostile


def write_sae_file(path, log_path, directions, steps, *, values=(0.01,), seeds=(0,), instance=0, matched=None, kind="relu",
                   **override):
    """An ``animsup.sae`` file for the log ``log_path`` with hand-made decoder directions (no training).

    :param directions: (shape: [T, V, S, n_latents, n_hidden]) the decoders; ``matched``: (shape: [T, V, S]), default 0.5
    :param override: top-level keys replaced (a bad file)"""
    import orjson

    from animsup.log.reader import read_header
    from animsup.log import sae_file
    from animsup.log.sae_file import header_digest

    h = read_header(str(log_path))
    dec = np.asarray(directions, np.float64)
    T, V, S = dec.shape[:3]
    m = np.full((T, V, S), 0.5) if matched is None else np.asarray(matched, np.float64)
    scores = [{"mmcs": float(x), "matched": float(x), "dead": 0.0, "dense": 0.0, "l0": 1.0, "shrinkage": 1.0, "mse": 0.0,
               "match": []} for x in m.ravel()]
    d = {"format": "animsup.sae", "version": sae_file.VERSION, "log": os.path.basename(str(log_path)), "header_sha256": header_digest(h.raw),
         "n_features": h.n_features, "n_hidden": h.n_hidden, "model": h.model, "instance": instance,
         "config": {"kind": kind, "n_latents": dec.shape[3], "seeds": list(seeds), "l1": list(values), "k": [1]},
         "steps": [int(s) for s in steps], "values": list(values), "pairs": [], "scores": scores,
         "absorption": [[] for _ in scores], "decoders": dec.reshape(T * V * S, *dec.shape[3:]).tolist(), **override}
    with open(path, "wb") as f:
        f.write(orjson.dumps(d))
    return d


@pytest.fixture(name="write_sae_file")
def write_sae_file_fixture():
    """The :func:`write_sae_file` SAE-file writer."""
    return write_sae_file
