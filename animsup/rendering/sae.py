"""The SAE overlay of a render: which SAE file, which of its SAEs, and its decoder directions per
frame. Drawn over W's columns in the plane (:mod:`animsup.rendering.draw.sae`) and in the viewer.

An SAE file (``animsup sae LOG``, :mod:`animsup.log.sae_file`) holds SAEs trained on the toy's
hidden activations ``h = W x`` at one or more snapshots. The render reads ``RenderConfig.sae``
(a path; default: the log's sidecar ``LOG.sae.json`` when there is one; "none": off), checks
the file belongs to the log, and keeps one SAE: the one with the highest Hungarian-matched cosine
at the last trained snapshot (:meth:`animsup.log.sae_file.SaeFile.best`). A frame at step s
shows the SAE trained at the latest trained snapshot <= s (the first before it): trained per
snapshot (``--snapshots all``) the arrows follow the frame's snapshot; trained on the final W
they stay the final SAE, and the key says so.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from animsup.errors import plural
from animsup.escape import plain_text


#: how the notes saying an SAE file is not drawn begin (the viewer shows them)
NOT_DRAWN = "the SAE"


@dataclass
class SaeOverlay:
    """One SAE's decoder directions over training (picklable: part of the scene).

    :param instance: the log instance the SAE was trained on
    :param steps: (shape: [T]) the snapshot steps it was trained at, increasing
    :param decoders: (shape: [T, n_latents, n_hidden]) unit decoder directions
    :param key: the key's text, e.g. "SAE decoder (5 latents, l1=0.01)"; ``when``: "per snapshot" or
        "final SAE (step 2,000)"
    """

    instance: int
    steps: np.ndarray
    decoders: np.ndarray
    key: str
    when: str
    path: str = ""

    def index(self, step: float) -> int:
        """The trained snapshot a frame at ``step`` shows: the latest at or before it (the first before it)."""
        return max(int(np.searchsorted(self.steps, step, side="right")) - 1, 0)

    def at(self, step: float) -> np.ndarray:
        """(shape: [n_latents, n_hidden]) the decoder directions a frame at ``step`` shows."""
        return self.decoders[self.index(step)]


def prepare(log: str, header: Any, steps: np.ndarray, instances: tuple[int, ...], sae: str | None
            ) -> tuple[SaeOverlay | None, list[str]]:
    """The overlay of a render (None when there is nothing to draw) and the notes to print.

    :param sae: ``RenderConfig.sae``: a path, "none", or None (the sidecar when there is one)
    :raises AnimsupError: a named file (``--sae FILE``) that is missing, not an SAE file or not this
        log's; the sidecar found beside the log in that case is skipped with a note instead
    """
    from animsup.errors import AnimsupError
    from animsup.log.sae_file import check_log, read_sae, sidecar_path

    if sae == "none":
        return None, []
    path = sidecar_path(log) if sae is None else sae
    if sae is None and not os.path.exists(path):
        return None, []
    if sae is not None and not os.path.exists(path):
        raise AnimsupError(f"--sae {plain_text(path)}: no such file (animsup sae LOG writes LOG.sae.json)")
    try:
        sf = read_sae(path)
        check_log(sf, header, steps, log)
    except AnimsupError as e:
        if sae is not None:  # named with --sae: the user asked for this file
            raise
        # found beside the log: another run's or a broken file must not block a plain render
        return None, [f"{plain_text(os.path.basename(path))} skipped: {plain_text(str(e))}; pass --sae none to leave it out, "
                      f"or run: animsup sae {plain_text(log)} (it writes a new one)"]
    shown = plain_text(os.path.basename(path) if sae is None else path)  # the sidecar by its name (it is beside the log)
    if header.n_hidden > 2:
        return None, [f"the SAE decoder directions of {shown} are drawn only for n_hidden <= 2 "
                      f"(this log has n_hidden = {header.n_hidden}; see animsup sae's scores)"]
    if sf.instance not in instances:
        return None, [f"the SAEs of {shown} are for instance {sf.instance}, which is not shown: "
                      f"pass --instance {sf.instance} to see their decoder directions"]
    v, s = sf.best()
    seed = f", seed {sf.seeds[s]}" if len(sf.seeds) > 1 else ""
    key = f"SAE decoder ({plural(sf.n_latents, 'latent')}, {sf.value_text(v)}{seed})"
    when = "per snapshot" if sf.per_snapshot else f"final SAE (step {int(sf.steps[-1]):,})"
    notes = [f"drawn over W: {key}, {when}, from {shown}"]
    if len(sf.values) * len(sf.seeds) > 1:
        notes[0] += (f" (of its {len(sf.values) * len(sf.seeds)} SAEs the best matched to W's columns "
                     f"at step {int(sf.steps[-1]):,}: cosine {sf.matched[-1, v, s]:.3f}"
                     + (f", chance {sf.matched_chance[-1, v, s]:.3f}" if np.isfinite(sf.matched_chance[-1, v, s]) else "")
                     + ")")
    return SaeOverlay(sf.instance, sf.steps.copy(), sf.decoders[:, v, s].astype(np.float32), key, when, shown), notes
