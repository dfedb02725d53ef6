"""Which arrays of one checkpoint are W, the decoder W_dec and the bias b, and what else the file
holds that the import leaves out (said in one note, never dropped silently).

Names decide first, then shapes:

- **encoder names** (W): ``W``, ``W_enc``, ``W1``/``w1``, ``W_in``, ``embedding.weight``,
  ``encoder.weight``, an RNN's input weights ``weight_ih_l0``...;
- **decoder names** (W_dec): ``W_dec``, ``W2``/``w2``, ``W_out``, ``unembedding.weight``,
  ``decoder.weight``...;
- **generic names** (``weight``, ``w_3t``, ``layers.0.weight``): W when only one is there. Beside
  an encoder, a generic array of the encoder's shape transposed is its decoder (an RNN
  auto-encoder's ``ffn.0.weight`` [n, m] beside ``rnn.weight_ih_l0`` [m, n]); two generic
  arrays of transposed shapes whose names differ only in a layer number are encoder (the lower
  number) and decoder.

Arrays under a training state (``optimizer_states``, ``callbacks``, ``loops``,
``lr_schedulers``...) are never candidates, and an error lists only the candidates (float arrays of
two or more axes), never a file's scalars or the paths inside its callback state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from animsup.errors import AnimsupError

ENCODER = re.compile(
    r"(^|\.)(W|w|W_enc|w_enc|W_E|[Ww]1|w1_\w+|W_in|w_in|embedding\.weight|embed\.weight|encoder\.weight|encoder|"
    r"enc\.weight|weight_ih_l0)$")
DECODER = re.compile(
    r"(^|\.)(W_dec|w_dec|W_d|[Ww]2|w2_\w+|W_out|w_out|W_U|unembedding\.weight|unembed\.weight|decoder\.weight|decoder|"
    r"dec\.weight)$")
GENERIC = re.compile(r"(^|\.)(w_\w+|W_\w+|weight)$")
BIAS = [re.compile(p) for p in (r"(^|\.)b_final$", r"(^|\.)b_dec$", r"(^|\.)unembedding\.bias$", r"(^|\.)decoder\.bias$",
                                r"(^|\.)b_out$", r"(^|\.)[Bb]2$", r"(^|\.)b_\w+$", r"(^|\.)b$", r"(^|\.)bias$")]
#: parts of a checkpoint that hold training state, not the model: never a candidate for W
TRAINING_STATE = re.compile(r"(^|\.)(optimizer\w*|optim\w*|callbacks|loops|lr_schedulers?|scheduler\w*|scaler|"
                            r"grad_scaler|rng\w*)(\.|$)", re.IGNORECASE)
_LAYER_NUMBER = re.compile(r"\d+")


@dataclass
class Choice:
    """The keys chosen (W, decoder, bias) and why; ``unused``: what else the file holds."""

    w: str
    w_dec: str | None = None
    b: str | None = None
    why: dict[str, str] = field(default_factory=dict)
    unused: list[str] = field(default_factory=list)


def shape_text(a: np.ndarray) -> str:
    return "[" + ", ".join(str(d) for d in a.shape) + "]"


def candidates(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The arrays that could be a weight matrix: float, two axes or more, not training state."""
    return {k: a for k, a in arrays.items() if a.ndim >= 2 and not TRAINING_STATE.search(k)}


def listing(arrays: dict[str, np.ndarray], limit: int = 10) -> str:
    """``name [shape]`` of each array, the first ``limit`` of them."""
    names = sorted(arrays)
    text = ", ".join(f"{k} {shape_text(arrays[k])}" for k in names[:limit])
    return text + (f" and {len(names) - limit} more" if len(names) > limit else "") if names else "none"


def _transposed(a: np.ndarray, b: np.ndarray) -> bool:
    return a.ndim == b.ndim and a.shape[:-2] == b.shape[:-2] and a.shape[-2:] == b.shape[-1:-3:-1]


def _numbered_pair(k1: str, k2: str) -> tuple[str, str] | None:
    """(encoder, decoder) when the two names differ only in one layer number (``layers.0.weight``,
    ``layers.2.weight``), else None."""
    n1, n2 = _LAYER_NUMBER.findall(k1), _LAYER_NUMBER.findall(k2)
    if len(n1) != len(n2) or _LAYER_NUMBER.sub("#", k1) != _LAYER_NUMBER.sub("#", k2):
        return None
    diff = [(int(a), int(b)) for a, b in zip(n1, n2) if a != b]
    if len(diff) != 1:
        return None
    return (k1, k2) if diff[0][0] < diff[0][1] else (k2, k1)


def _one(keys: list[str], cands: dict[str, np.ndarray], what: str) -> str | None:
    if len(keys) > 1:
        raise AnimsupError(f"several arrays could be {what}: {listing({k: cands[k] for k in keys})}; "
                           "pass --w KEY (and --w-dec KEY, --b KEY)")
    return keys[0] if keys else None


def choose(arrays: dict[str, np.ndarray], *, w: str | None = None, w_dec: str | None = None) -> Choice:
    """W and the decoder of ``arrays`` (flat name -> float array), by name, then by shape.

    :raises AnimsupError: a given key that is not there, several candidates, or none (the
        message lists the candidates, float arrays of 2+ axes only)
    """
    for given, opt in ((w, "--w"), (w_dec, "--w-dec")):
        if given is not None and given not in arrays:
            raise AnimsupError(f"{opt} {given!r}: no such array (candidates: {listing(candidates(arrays))})")
    cands = candidates(arrays)
    why: dict[str, str] = {}
    dk: str | None = w_dec
    if w is not None:
        kw = w
    else:
        enc = [k for k in cands if ENCODER.search(k) and not DECODER.search(k)]
        found = _one(enc, cands, "the weight matrix W")
        if found is None:
            generic = [k for k in cands if GENERIC.search(k) and not DECODER.search(k)]
            pair = _numbered_pair(*generic) if len(generic) == 2 and _transposed(*(cands[k] for k in generic)) else None
            if pair is not None:
                found, dk = pair if dk is None else (pair[0], dk)
                why["w_dec"] = f"{pair[1]!r}: the later layer of the pair {pair[0]!r} / {pair[1]!r} (transposed shapes)"
            else:
                found = _one(generic, cands, "the weight matrix W")
        if found is None:
            if not cands:
                raise AnimsupError(_no_matrix(arrays))
            raise AnimsupError(f"no array named like a weight matrix W (W, W1, W_in, encoder.weight...); "
                               f"candidates: {listing(cands)}; pass --w KEY")
        kw = found
        _check_gates(arrays, kw)
    if dk is None:
        dec = [k for k in cands if DECODER.search(k) and k != kw]
        dk = _one(dec, cands, "the decoder W_dec")
        if dk is None and ENCODER.search(kw):  # a generic array of W's shape transposed beside a named encoder
            tr = [k for k in cands if k != kw and GENERIC.search(k) and _transposed(cands[k], arrays[kw])]
            if len(tr) == 1:
                dk = tr[0]
                why["w_dec"] = f"{dk!r}: {shape_text(cands[dk])}, the shape of the encoder {kw!r} transposed"
    return Choice(w=kw, w_dec=dk, why=why)


def _check_gates(arrays: dict[str, np.ndarray], kw: str) -> None:
    """An LSTM's or GRU's ``weight_ih_l0`` stacks its gates ([4m, n] or [3m, n]): not one W."""
    if not kw.endswith("weight_ih_l0"):
        return
    hh = arrays.get(kw[: -len("weight_ih_l0")] + "weight_hh_l0")
    if hh is not None and hh.ndim == 2 and hh.shape[0] != hh.shape[1] and hh.shape[0] % hh.shape[1] == 0:
        g = hh.shape[0] // hh.shape[1]
        raise AnimsupError(f"{kw!r} {shape_text(arrays[kw])} stacks {g} gates of a recurrent layer (an LSTM or GRU), "
                           f"hidden size {hh.shape[1]}: not one weight matrix; pass --w KEY to import an array anyway")


def _no_matrix(arrays: dict[str, np.ndarray]) -> str:
    """What a file without any float array of two or more axes holds, said as such."""
    curves = {k: a for k, a in arrays.items() if a.ndim == 1 and len(a) > 1 and not TRAINING_STATE.search(k)}
    if curves:
        return (f"the file holds curves only ({listing(curves)}: one axis each), no weight matrix: "
                "import the checkpoint that holds W (these curves can go beside it with animsup.Recorder)")
    return "the file holds no floating-point arrays of two or more axes (no weight matrix W)"


def pick_bias(arrays: dict[str, np.ndarray], given: str | None, n: int, used: set[str]) -> str | None:
    """The output bias: the given key, else the first name of :data:`BIAS` whose last axis is n."""
    if given is not None:
        if given not in arrays:
            raise AnimsupError(f"--b {given!r}: no such array (arrays of one axis: "
                               f"{listing({k: a for k, a in arrays.items() if a.ndim >= 1})})")
        return given
    for p in BIAS:
        keys = [k for k in arrays if k not in used and p.search(k) and arrays[k].shape[-1:] == (n,)
                and not TRAINING_STATE.search(k)]
        if keys:
            return keys[0]
    return None


def unused_note(arrays: dict[str, np.ndarray], used: set[str]) -> str | None:
    """One line naming the model arrays of the file the import leaves out (training state aside)."""
    left = {k: a for k, a in arrays.items() if k not in used and a.ndim >= 1 and not TRAINING_STATE.search(k)}
    if not left:
        return None
    return (f"not imported (not W, W_dec, b or a loss of the model): {listing(left, 8)}; "
            "pass --w KEY / --w-dec KEY / --b KEY to use one")
