"""The models table: one row per toy-model variant, read by every layer.

The paper's toy model (Elhage et al. 2022, "Toy Models of Superposition", section "Demonstrating
Superposition") reconstructs x (shape: [n_features]) through h = W x (shape: [n_hidden]):

- ``tied``:    y = ReLU(Wᵀ W x + b)                         (the ReLU output model)
- ``untied``:  y = ReLU(W_decᵀ W_enc x + b)                 (seed 000's variant; W is the encoder)
- ``linear``:  y = Wᵀ W x + b                               (the linear model)
- ``neuron``:  y = ReLU(Wᵀ ReLU(W x) + b)                    (section "Superposition in a
  Privileged Basis": a ReLU on the hidden layer, so each neuron's row of W is the view)
- ``custom``:  anything recorded or imported whose formula is not one of these (the header's
  ``model_label`` / ``model_formula`` say what it is); never trained by animsup.

Config, log schema, engines, frames, drawing, panels, CLI and importers read this table; the
only other module that names a model is the engine's forward pass, through the row's flags.
Adding a model variant = one row here + its forward/gradient in :mod:`animsup.train.model` (and
either its formula in the CPU block step or ``block_step=False``); the oracle tests against
autograd take every trainable row of this table (docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelSpec:
    """One model variant (a row of :data:`MODELS`)."""

    #: the name in configs, logs and ``--model``
    name: str
    #: the reconstruction as text, shown in titles and the viewer
    formula: str
    #: what the m >= 3 heatmap shows (the feature-feature matrix)
    gram_label: str
    #: a separate decoder W_dec (shape: [n_instances, n_hidden, n_features]) is logged beside W
    has_decoder: bool = False
    #: a ReLU on the hidden layer h = ReLU(W x)
    hidden_relu: bool = False
    #: a ReLU on the output (False: the linear model)
    output_relu: bool = True
    #: the engines that train it (``--backend``); empty: recorded or imported only
    engines: tuple[str, ...] = ("torch",)
    #: the CPU block step (``sparse_block_loss_and_grad`` in :mod:`animsup.train.model`: the
    #: batch's non-zeros in blocks, the importance folded into small matrices) computes this
    #: model's loss and gradient. It knows a ReLU or no output non-linearity and no hidden one:
    #: a row with any other formula sets False (the plain step) or teaches the block step its formula
    block_step: bool = True
    #: panels every render of it gets (``--panels``)
    default_panels: tuple[str, ...] = ()
    #: one line for ``--help``
    description: str = ""

    @property
    def trainable(self) -> bool:
        return bool(self.engines)


#: name -> row, in the order ``--help`` lists them
MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec("tied", "ReLU(WᵀWx+b)", "Wᵀ W", engines=("torch", "numpy"),
                  description="the paper's ReLU output model"),
        ModelSpec("untied", "ReLU(W_decᵀW_enc x+b)", "W_decᵀ W_enc", has_decoder=True,
                  description="separate encoder W and decoder W_dec (seed 000)"),
        ModelSpec("linear", "WᵀWx+b", "Wᵀ W", output_relu=False, description="the paper's linear model"),
        ModelSpec("neuron", "ReLU(WᵀReLU(Wx)+b)", "Wᵀ W", hidden_relu=True, block_step=False, default_panels=("neurons",),
                  description="a ReLU on the hidden layer (the privileged-basis model)"),
        ModelSpec("custom", "", "Wᵀ W", engines=(), description="recorded or imported; model_label says what"),
    )
}


def names(*, trainable: bool = False) -> tuple[str, ...]:
    """The model names (only those animsup trains, with ``trainable``)."""
    return tuple(name for name, spec in MODELS.items() if spec.trainable or not trainable)


def get(name: str) -> ModelSpec:
    """The row of ``name``.

    :raises ValueError: an unknown name (the message lists the known ones)
    """
    try:
        return MODELS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown model {name!r}; known: {', '.join(MODELS)}") from None


def title(name: str, label: str | None = None, formula: str | None = None) -> str:
    """The model as titles show it (the video, its poster, the viewer): the log's ``model_label``
    (else the model's name) and its ``model_formula`` (else the model's own formula), e.g.
    "tied ReLU(WᵀWx+b)", "SAE latents ReLU(W x + b)"; a ``custom`` model without either is "custom"."""
    return " ".join(part for part in (label or name, formula or get(name).formula) if part)
