"""The geometry of a toy model's weights: which features are represented and how.

numpy only. The per-feature quantities follow "Toy Models of Superposition":

- norm ‖W_i‖ and whether the feature is *represented* (norm > ``threshold``, default 0.5);
- feature dimensionality D_i = ‖W_i‖² / Σ_j (Ŵ_i·W_j)²  (1 for a feature with a dimension of
  its own, 1/2 for an antipodal pair or a square, 2/5 for a pentagon);
- interference Σ_{j≠i} (Ŵ_i·W_j)²;
- per instance, dimensions per feature m / ‖W‖_F².

For ``n_hidden == 2`` :func:`describe` also names the shape the represented features form.
Features closer than ``merge_degrees`` to a stronger represented feature are *stacked* on that
vertex (reported, not counted), and weak features (norm between ``weak`` and ``threshold``) are
reported with the vertex whose line they sit on; neither changes the shape name.

Array functions accept ``W`` with any leading dimensions: ``(shape: [..., n_hidden, n_features])``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

THRESHOLD = 0.5

POLYGON_NAMES = {3: "triangle", 4: "square", 5: "pentagon", 6: "hexagon"}
IRREGULAR = 0.35  # below this regularity a polygon is called "irregular <k>-gon"
SHAPES = ("nothing", "single", "antipodal pair", "orthogonal pair", "pair", "antipodal pair + 1", "triangle",
          "square", "pentagon", "hexagon")  # plus "<k>-gon" (k = 4 without two antipodal pairs, k >= 7)
# and "irregular <k>-gon" (regularity < IRREGULAR)


def feature_norms(W) -> np.ndarray:
    """‖W_i‖ for every feature.

    :param W: (shape: [..., n_hidden, n_features])
    :return: (shape: [..., n_features])
    """
    return np.linalg.norm(np.asarray(W, dtype=np.float64), axis=-2)


def represented(W, threshold: float = THRESHOLD) -> np.ndarray:
    """Boolean mask of features whose norm exceeds ``threshold``. (shape: [..., n_features])"""
    return feature_norms(W) > threshold


def _overlaps(W) -> np.ndarray:
    """(Ŵ_i·W_j)² for all i, j (zero rows for zero-norm features). (shape: [..., n_features, n_features])"""
    W = np.asarray(W, dtype=np.float64)
    norms = np.linalg.norm(W, axis=-2, keepdims=True)
    W_hat = np.divide(W, norms, out=np.zeros_like(W), where=norms > 0)
    return (np.swapaxes(W_hat, -1, -2) @ W) ** 2


def dimensionality(W) -> np.ndarray:
    """Feature dimensionality D_i = ‖W_i‖² / Σ_j (Ŵ_i·W_j)² (0 for a zero feature).

    :param W: (shape: [..., n_hidden, n_features])
    :return: (shape: [..., n_features]) values in [0, 1]
    """
    W = np.asarray(W, dtype=np.float64)
    sq = np.sum(W * W, axis=-2)
    total = _overlaps(W).sum(axis=-1)
    return np.divide(sq, total, out=np.zeros_like(sq), where=total > 0)


def interference(W) -> np.ndarray:
    """Σ_{j≠i} (Ŵ_i·W_j)²: how much the other features project onto feature i's direction.

    :param W: (shape: [..., n_hidden, n_features])
    :return: (shape: [..., n_features])
    """
    ov = _overlaps(W)
    return ov.sum(axis=-1) - np.diagonal(ov, axis1=-2, axis2=-1)


def dims_per_feature(W) -> np.ndarray:
    """m / ‖W‖_F² per instance (inf when W is zero). (shape: [...])"""
    W = np.asarray(W, dtype=np.float64)
    fro = np.sum(W * W, axis=(-2, -1))
    m = W.shape[-2]
    with np.errstate(divide="ignore"):
        return np.where(fro > 0, m / np.where(fro > 0, fro, 1.0), np.inf)


def angles(W) -> np.ndarray:
    """Direction of each feature in degrees, [0, 360), for n_hidden = 2. (shape: [..., n_features])"""
    W = np.asarray(W, dtype=np.float64)
    if W.shape[-2] != 2:
        raise ValueError(f"angles need n_hidden = 2, got {W.shape[-2]}")
    return np.degrees(np.arctan2(W[..., 1, :], W[..., 0, :])) % 360.0


@dataclass(frozen=True)
class Geometry:
    """What one instance's weights look like. Shape fields are only filled for n_hidden = 2.

    :param norms, represented, dimensionality, interference: (shape: [n_features])
    :param order: represented vertex features in angular (counter-clockwise) order from 0°
    :param angles: their directions in degrees, same order
    :param gaps: angle from each vertex to the next one (wrapping), degrees; sums to 360
    :param antipodal_pairs: vertex pairs (i, j) about 180° apart
    :param stacked: represented features sharing a stronger vertex's direction: (feature, vertex)
    :param weak: features with weak < norm <= threshold: (feature, norm, angle, vertex or None)
    :param regularity: 1 for a regular polygon, falling to 0 as the largest gap error reaches
        one ideal gap (None where no polygon is named)
    """

    n_features: int
    n_hidden: int
    threshold: float
    norms: np.ndarray
    represented: np.ndarray
    dimensionality: np.ndarray
    interference: np.ndarray
    dims_per_feature: float
    shape: str | None = None
    regularity: float | None = None
    order: tuple = ()
    angles: tuple = ()
    gaps: tuple = ()
    antipodal_pairs: tuple = ()
    stacked: tuple = ()
    weak: tuple = ()

    @property
    def represented_features(self) -> tuple:
        return tuple(int(i) for i in np.flatnonzero(self.represented))

    @property
    def n_vertices(self) -> int:
        return len(self.order)

    def label(self) -> str:
        """Short text: "pentagon (regularity 0.98)", or "7 of 20 features represented"."""
        if self.shape is None:
            return f"{int(self.represented.sum())} of {self.n_features} features represented"
        if self.regularity is None or self.shape in ("nothing", "single"):
            return self.shape
        return f"{self.shape} (regularity {self.regularity:.2f})"

    def to_dict(self) -> dict:
        """Plain JSON-ready dict (lists and floats)."""
        d = asdict(self)
        for key in ("norms", "dimensionality", "interference"):
            d[key] = [round(float(v), 6) for v in d[key]]
        d["represented"] = list(self.represented_features)
        d["dims_per_feature"] = None if not np.isfinite(self.dims_per_feature) else round(self.dims_per_feature, 6)
        d["regularity"] = None if self.regularity is None else round(self.regularity, 4)
        d["order"] = list(self.order)
        d["angles"] = [round(a, 3) for a in self.angles]
        d["gaps"] = [round(g, 3) for g in self.gaps]
        d["antipodal_pairs"] = [list(p) for p in self.antipodal_pairs]
        d["stacked"] = [{"feature": f, "vertex": v} for f, v in self.stacked]
        d["weak"] = [{"feature": f, "norm": round(n, 4), "angle": round(a, 3), "vertex": v} for f, n, a, v in self.weak]
        return d


def describe(
    W,
    threshold: float = THRESHOLD,
    *,
    mask=None,
    weak: float = 0.2,
    merge_degrees: float = 15.0,
    antipodal_degrees: float = 20.0,
) -> Geometry:
    """Describe one instance's weights.

    :param W: (shape: [n_hidden, n_features])
    :param threshold: a feature is represented when its norm exceeds this
    :param mask: (shape: [n_features]) explicit represented mask, overriding ``threshold``
        (events use it to apply hysteresis)
    :param weak: features with ``weak < norm <= threshold`` are reported as weak
    :param merge_degrees: a represented feature this close to a stronger one is stacked on it
    :param antipodal_degrees: two vertices within this of 180° apart are an antipodal pair
    """
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2:
        raise ValueError(f"describe takes one instance's W [n_hidden, n_features], got shape {W.shape}")
    m, n = W.shape
    norms = feature_norms(W)
    rep = norms > threshold if mask is None else np.asarray(mask, dtype=bool)
    geo = dict(
        n_features=n,
        n_hidden=m,
        threshold=float(threshold),
        norms=norms,
        represented=rep,
        dimensionality=dimensionality(W),
        interference=interference(W),
        dims_per_feature=float(dims_per_feature(W)),
    )
    if m == 2:
        geo.update(_polygon(W, norms, rep, weak, merge_degrees, antipodal_degrees))
    return Geometry(**geo)


def _angle_between(a, b) -> np.ndarray:
    """Unsigned angle between directions in degrees, [0, 180]."""
    d = np.abs((np.asarray(a) - np.asarray(b)) % 360.0)
    return np.minimum(d, 360.0 - d)


def _polygon(W, norms, rep, weak, merge_degrees, antipodal_degrees) -> dict:
    """Shape fields of :class:`Geometry` for n_hidden = 2."""
    ang = angles(W)
    # vertices: represented features, strongest first; a weaker one close to a vertex is stacked on it
    vertices, stacked = [], []
    for i in sorted(np.flatnonzero(rep), key=lambda i: -norms[i]):
        near = [v for v in vertices if _angle_between(ang[i], ang[v]) < merge_degrees]
        if near:
            stacked.append((int(i), int(near[0])))
        else:
            vertices.append(int(i))
    order = sorted(vertices, key=lambda i: ang[i])
    vert_angles = [float(ang[i]) for i in order]
    k = len(order)
    gaps = [float((vert_angles[(t + 1) % k] - vert_angles[t]) % 360.0) for t in range(k)] if k > 1 else []
    if k == 1:
        gaps = [360.0]
    pairs = tuple(
        (order[s], order[t])
        for s in range(k)
        for t in range(s + 1, k)
        if _angle_between(vert_angles[s], vert_angles[t]) > 180.0 - antipodal_degrees
    )
    shape, regularity = _name(k, gaps, pairs)
    weak_list = []
    for i in np.flatnonzero((norms > weak) & ~rep):
        on = [v for v in vertices if _angle_between(ang[i], ang[v]) < merge_degrees]
        weak_list.append((int(i), float(norms[i]), float(ang[i]), on[0] if on else None))
    return dict(
        shape=shape,
        regularity=regularity,
        order=tuple(order),
        angles=tuple(vert_angles),
        gaps=tuple(gaps),
        antipodal_pairs=pairs,
        stacked=tuple(stacked),
        weak=tuple(weak_list),
    )


def _name(k: int, gaps: list, pairs: tuple) -> tuple[str, float | None]:
    """Shape name and regularity from the vertex count, gaps and antipodal pairs."""
    if k == 0:
        return "nothing", None
    if k == 1:
        return "single", None
    if k == 2:
        small = min(gaps)
        if pairs:
            return "antipodal pair", max(0.0, 1.0 - (180.0 - small) / 90.0)
        if abs(small - 90.0) < 30.0:
            return "orthogonal pair", max(0.0, 1.0 - abs(small - 90.0) / 90.0)
        return "pair", None
    ideal = 360.0 / k
    regularity = max(0.0, 1.0 - max(abs(g - ideal) for g in gaps) / ideal)
    if k == 3 and pairs:
        return "antipodal pair + 1", regularity
    if k == 4 and len(pairs) < 2:
        return "4-gon", regularity
    if regularity < IRREGULAR:
        return f"irregular {k}-gon", regularity
    return POLYGON_NAMES.get(k, f"{k}-gon"), regularity


def polygon(k: int, radius: float = 1.0, phase_degrees: float = 0.0) -> np.ndarray:
    """A regular k-gon as weights (for tests and examples). (shape: [2, k])"""
    t = np.radians(phase_degrees + 360.0 * np.arange(k) / k)
    return radius * np.stack([np.cos(t), np.sin(t)])
