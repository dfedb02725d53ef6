"""What every importer returns (a leaf of the importers package: the format modules import it,
and the registry in ``animsup.importers`` names the format modules)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ImportResult:
    """What an import wrote: the log path, its end status, and what it held."""

    out_path: str
    status: str
    n_features: int
    n_hidden: int
    steps: int
    snapshots: int
    loss_points: int
    notes: list[str] = field(default_factory=list)
