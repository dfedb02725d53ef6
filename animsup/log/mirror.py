"""Live mirrors of a log to experiment trackers: ``Recorder(..., mirror="tensorboard:DIR")``.

A mirror receives the scalars the :class:`animsup.log.recorder.Recorder` records (the loss per
instance, the named curves) as they arrive, under the same tag names ``animsup export`` uses
(:func:`loss_tags`, :func:`curve_tags`), so a dashboard shows the same series live and after
an export. The trackers are imported only when a mirror is opened (they are the optional
``[tracking]`` extra; tensorboardX itself imports torch when torch is installed).

Specs (:data:`MIRRORS`):

- ``"tensorboard:DIR"``: a tensorboardX ``SummaryWriter`` writing event files into DIR;
- ``"wandb"`` or ``"wandb:PROJECT"``: a W&B run, offline unless ``WANDB_MODE`` says otherwise,
  its files under ``WANDB_DIR`` (default: the log's folder). Its charts' x axis is the metric
  ``step`` (animsup's training step), so records at any step order never collide with W&B's own.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, Literal, Protocol

MIRRORS = ("tensorboard:DIR", "wandb", "wandb:PROJECT")
WandbMode = Literal["online", "offline", "disabled", "shared"]
WANDB_MODES: dict[str, WandbMode] = {"offline": "offline", "online": "online", "disabled": "disabled", "shared": "shared"}


def loss_tags(loss_scope: str, n_instances: int) -> list[str]:
    """The tag of each loss value: ``loss/instance_<k>`` per instance, ``loss/all`` for one
    aggregate loss."""
    if loss_scope == "aggregate":
        return ["loss/all"]
    return [f"loss/instance_{k}" for k in range(n_instances)]


def curve_tags(name: str, width: int, instances: Sequence[int] | None = None) -> list[str]:
    """The tag of each value of curve ``name``: ``curves/<name>`` for one number,
    ``curves/<name>/instance_<k>`` for one per instance (``instances``: their log indices)."""
    if width == 1:
        return [f"curves/{name}"]
    return [f"curves/{name}/instance_{k}" for k in (instances if instances is not None else range(width))]


class Mirror(Protocol):
    """Where mirrored scalars go."""

    def scalars(self, step: int, values: Mapping[str, float]) -> None: ...

    def close(self) -> None: ...


class TensorBoardMirror:
    """Scalars into TensorBoard event files (tensorboardX)."""

    def __init__(self, logdir: str) -> None:
        try:
            from tensorboardX import SummaryWriter
        except ImportError:
            raise ImportError("mirror='tensorboard:DIR' needs tensorboardX (pip install 'animsup[tracking]')") from None
        self.writer = SummaryWriter(logdir)

    def scalars(self, step: int, values: Mapping[str, float]) -> None:
        for tag, v in values.items():
            self.writer.add_scalar(tag, float(v), int(step))

    def close(self) -> None:
        self.writer.close()


def wandb_init(project: str, directory: str, config: Mapping[str, Any], name: str | None = None) -> Any:
    """A W&B run, offline unless ``WANDB_MODE`` is set, files under ``WANDB_DIR`` or ``directory``;
    every metric is plotted against the metric ``step``."""
    try:
        import wandb
    except ImportError:
        raise ImportError("W&B needs wandb (pip install 'animsup[tracking]')") from None
    asked = os.environ.get("WANDB_MODE") or "offline"
    mode = WANDB_MODES.get(asked)
    if mode is None:
        raise ValueError(f"WANDB_MODE={asked!r} is not one of {', '.join(WANDB_MODES)}")
    root = os.environ.get("WANDB_DIR") or directory
    os.makedirs(root, exist_ok=True)
    run = wandb.init(project=project, dir=root, mode=mode, config=dict(config), name=name, reinit="create_new")
    run.define_metric("step")
    run.define_metric("*", step_metric="step")
    return run


class WandbMirror:
    """Scalars into a W&B run (see :func:`wandb_init`)."""

    def __init__(self, project: str, directory: str, config: Mapping[str, Any]) -> None:
        self.run = wandb_init(project, directory, config)

    def scalars(self, step: int, values: Mapping[str, float]) -> None:
        self.run.log({"step": int(step), **{k: float(v) for k, v in values.items()}})

    def close(self) -> None:
        self.run.finish()


def open_mirror(spec: str, log_path: str, config: Mapping[str, Any]) -> Mirror:
    """The mirror ``spec`` names (see :data:`MIRRORS`).

    :raises ValueError: an unknown spec (the message lists the choices)
    """
    kind, _, arg = str(spec).partition(":")
    if kind == "tensorboard" and arg:
        return TensorBoardMirror(arg)
    if kind == "wandb":
        return WandbMirror(arg or "animsup", os.path.dirname(os.path.abspath(log_path)), config)
    raise ValueError(f"unknown mirror {spec!r} (choices: {', '.join(MIRRORS)})")
