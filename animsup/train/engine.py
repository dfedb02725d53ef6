"""The Engine: what the training loop (:mod:`animsup.train.loop`) needs from a backend.

An engine holds one run's parameters (all instances, one flat array), its data stream and its
optimiser, on one device. The loop calls, per step::

    record = engine.loss_and_grad(need_loss)   # draw a batch, fill the gradient
    engine.keep_loss(row, record, capacity)     # (steps whose loss is logged)
    copy = engine.param_copy()                  # (snapshot steps)
    engine.update_(lr)                          # (every step but the last)

and, when it writes, turns many records and copies into numpy in one transfer
(:meth:`Engine.losses_to_numpy`, :meth:`Engine.params_to_numpy`). Records and copies stay on the
device until then: the loop never looks inside them (their types are the engine's ``R`` and ``P``).

Two engines implement it: :class:`animsup.train.model.TorchEngine` (every model, CPU or CUDA) and
:class:`animsup.train.numpy_model.NumpyEngine` (the tied model, numpy, hand-derived gradients).
A new engine implements these methods; :func:`animsup.train.loop.make_engine` picks it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    import numpy as np

#: a loss record on the engine's device: (shape: [n_instances]) losses, or per-feature squared
#: errors (shape: [n_instances, n_features]) that :meth:`Engine.losses_to_numpy` finishes
R = TypeVar("R")
#: a copy of every parameter on the engine's device (one flat array)
P = TypeVar("P")


class Engine(Protocol[R, P]):
    """A training backend (see the module docstring)."""

    #: "cpu" or a torch device such as "cuda"
    device: str

    def loss_and_grad(self, need_loss: bool = True) -> R | None:
        """Draw the next batch and fill the gradient; return this step's loss record (None, or a
        record not to be used, when not ``need_loss``)."""
        ...

    def keep_loss(self, row: int, record: R, capacity: int) -> None:
        """Copy ``record`` into row ``row`` of the engine's loss buffer of ``capacity`` rows (allocated
        on first use), so the step's own record is freed at once."""
        ...

    def kept_losses(self, rows: int) -> list[R]:
        """Rows 0..rows-1 of the loss buffer (views: read them before the next :meth:`keep_loss`)."""
        ...

    def losses_to_numpy(self, losses: list[R]) -> np.ndarray:
        """(shape: [len(losses), n_instances]) float32 losses, in one transfer."""
        ...

    def param_copy(self) -> P:
        """A copy of every parameter, on the device (no host sync)."""
        ...

    def params_to_numpy(self, copies: list[P]) -> list[dict[str, np.ndarray]]:
        """One transfer for many copies: per copy "flat" and the named arrays "W", "b" (and
        "W_dec"), (shape: [n_instances, n_hidden, n_features]) and (shape: [n_instances, n_features])."""
        ...

    def update_(self, lr: float) -> None:
        """One optimiser step with learning rate ``lr``, from the gradient of the last step."""
        ...

    def set_stage(self, stage: int, new_optimizer: bool) -> None:
        """Draw stage ``stage``'s feature probabilities from now on; ``new_optimizer``: a fresh
        optimiser (seed 000: a new AdamW per stage, weights carried over)."""
        ...

    def rng_state(self) -> str | np.ndarray:
        """The data stream's state before the next batch (goes into the checkpoint)."""
        ...

    def state(self, rng_state: str | np.ndarray) -> dict[str, np.ndarray]:
        """The checkpoint's arrays: "params", "rng" and the optimiser's "opt_*"."""
        ...

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore what :meth:`state` returned (a resumed run)."""
        ...

    def close(self) -> None:
        """Release threads (called once, when the loop ends)."""
        ...
