"""The geometry of a toy model's weights: which features are represented, and the name of the
shape they form. numpy only.

The per-feature quantities follow "Toy Models of Superposition":

- norm ‖W_i‖ and whether the feature is *represented* (norm > ``threshold``, default 0.5);
- feature dimensionality D_i = ‖W_i‖² / Σ_j (Ŵ_i·W_j)²  (1 dedicated, 3/4 tetrahedron, 2/3
  triangle, 1/2 antipodal pair (digon) or square, 2/5 pentagon, 3/8 square antiprism, 2/k k-gon);
- interference Σ_{j≠i} (Ŵ_i·W_j)²;
- per instance, dimensions per feature m / ‖W‖_F².

**The naming rule** (:func:`describe`; docs/analysis.md has examples and pictures). The vertices
are the represented features except weak extras (norm below 0.6 × the median represented norm,
named "+ k weak") and features within 15° of a stronger vertex (stacked on it, not named). In a
plane k vertices are named after the regular k-gon (antipodal pair, triangle, square, pentagon,
hexagon, heptagon, octagon) when every vertex lies within 12.5° of one regular k-gon, and
otherwise keep their count and say so ("irregular 5-gon"; four vertices that form two antipodal
pairs: "two antipodal pairs"; two at 90° ± 25°: "orthogonal pair"); in 1 or ≥ 3 dimensions the
vertices are split into groups whose spans are orthogonal (the paper's tegum products), each
named by its size and dimension (dedicated, digon, a polygon in its plane as above), and a group of
4, 6 or 8 vertices in 3 dimensions after the regular polytope (tetrahedron; octahedron, named as
its 3 digons; cube; square antiprism) when every vertex lies within 12.5° (the plane's tolerance)
of the polytope's after the best rotation, e.g. "triangle + 1 dedicated". Stacked features are
counted in the name: "2 × pentagon" when every vertex carries the same number of features,
else "pentagon + 3 stacked".

Array functions accept ``W`` with any leading dimensions: ``(shape: [..., n_hidden, n_features])``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

import numpy as np

THRESHOLD = 0.5

WEAK_RATIO = 0.6  # a represented feature below this × the median represented norm is a weak extra
FAINT = 0.2  # not represented, but listed (as faint) above this norm
MERGE_DEGREES = 15.0  # a feature this close to a stronger vertex is stacked on it
TOLERANCE = 12.5  # degrees: a regular k-gon when every vertex lies within this of one regular k-gon
ORTHOGONAL_COS = 0.2  # n_hidden >= 3: vertices with |cos| above this share a group (are not orthogonal)
RANK_TOLERANCE = 0.3  # a group spans the directions whose singular value exceeds this × the largest
CENSUS_LINK = 0.1  # the census: features with |Ŵ_i·Ŵ_j| above this are in one component
CENSUS_MIN_DIM = 0.1  # the census counts features with D_i at least this
CENSUS_D_TOLERANCE = 0.05  # a component is named after a uniform factor when every D_i is this close to rank/size

# above this many features no shape is named (nor stacked/weak/faint features listed): the naming compares
# represented features pairwise (n² memory and time: 800 MB at n = 10,240), and a list of hundreds of groups
# names nothing; a large model's summary is animsup.analysis.large (issue 24)
NAME_ABOVE = 2048
POLYGON_NAMES = {2: "antipodal pair", 3: "triangle", 4: "square", 5: "pentagon", 6: "hexagon", 7: "heptagon",
                 8: "octagon"}  # regular k-gons in a plane; beyond 8: "<k>-gon"
PLURALS = {"tetrahedron": "tetrahedra"}
# a group of size/rank vertices of a uniform tegum factor has D = rank/size (the paper, "Feature dimensionality")
FACTOR_NAMES = {(1, 1): "dedicated", (2, 1): "digon", (3, 2): "triangle", (4, 2): "square", (5, 2): "pentagon",
                (6, 2): "hexagon", (4, 3): "tetrahedron", (6, 3): "octahedron", (8, 3): "square antiprism"}


def feature_norms(W) -> np.ndarray:
    """‖W_i‖ for every feature.

    :param W: (shape: [..., n_hidden, n_features])
    :return: (shape: [..., n_features])
    """
    return np.linalg.norm(np.asarray(W, dtype=np.float64), axis=-2)


def represented(W, threshold: float = THRESHOLD) -> np.ndarray:
    """Boolean mask of features whose norm exceeds ``threshold``. (shape: [..., n_features])"""
    return feature_norms(W) > threshold


def _overlap_sums(W) -> tuple[np.ndarray, np.ndarray]:
    """(Σ_j (Ŵ_i·W_j)², (Ŵ_i·W_i)²) for every feature i (0 for zero-norm features).

    Σ_j (Ŵ_i·W_j)² = Ŵ_iᵀ (W Wᵀ) Ŵ_i: computed from the m×m matrix W Wᵀ, never the n×n WᵀW, so
    memory is O(n·m) per instance (at n = 20,000, m = 2 WᵀW alone was 3.2 GB).

    :param W: (shape: [..., n_hidden, n_features])
    :return: two arrays (shape: [..., n_features])
    """
    W = np.asarray(W, dtype=np.float64)
    sq = np.sum(W * W, axis=-2)
    norms = np.sqrt(sq)[..., None, :]
    W_hat = np.divide(W, norms, out=np.zeros_like(W), where=norms > 0)
    gram = W @ np.swapaxes(W, -1, -2)  # [..., m, m]
    total = np.sum(W_hat * (gram @ W_hat), axis=-2)
    return total, np.where(sq > 0, sq, 0.0)


def dimensionality(W) -> np.ndarray:
    """Feature dimensionality D_i = ‖W_i‖² / Σ_j (Ŵ_i·W_j)² (0 for a zero feature).

    :param W: (shape: [..., n_hidden, n_features])
    :return: (shape: [..., n_features]) values in [0, 1]
    """
    W = np.asarray(W, dtype=np.float64)
    sq = np.sum(W * W, axis=-2)
    total, _ = _overlap_sums(W)
    return np.divide(sq, total, out=np.zeros_like(sq), where=total > 0)


def interference(W) -> np.ndarray:
    """Σ_{j≠i} (Ŵ_i·W_j)²: how much the other features project onto feature i's direction.

    :param W: (shape: [..., n_hidden, n_features])
    :return: (shape: [..., n_features])
    """
    total, own = _overlap_sums(W)
    return total - own


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
    """What one instance's weights look like (see the module docstring for the naming rule).

    :param norms, represented, dimensionality, interference: (shape: [n_features])
    :param shape: the short name: "pentagon", "pentagon + 1 weak", "irregular 5-gon",
        "two antipodal pairs", "tetrahedron", "triangle + 1 dedicated", "not learned", …
    :param regularity: 1 for a regular polygon / polytope, falling to 0 (None where it does not apply)
    :param detail: what :meth:`label` adds to the name, e.g. "at 60°" for two antipodal pairs
    :param order: the vertices: in angular (counter-clockwise) order from 0° for n_hidden = 2,
        else group by group
    :param angles: n_hidden = 2: the vertices' directions in degrees, same order
    :param gaps: n_hidden = 2: angle from each vertex to the next one (wrapping); sums to 360
    :param antipodal_pairs: vertex pairs (i, j) within ``antipodal_degrees`` of 180° apart
    :param groups: the vertices split into groups with mutually orthogonal spans (the paper's
        tegum products), each ``(name, features, dims)``; one group for n_hidden <= 2
    :param stacked: represented features within ``merge_degrees`` of a stronger vertex: (feature, vertex)
    :param weak: weak extras, represented but below ``weak_ratio`` × the median represented norm:
        (feature, norm, angle or None, vertex whose line it sits on or None); named "+ k weak"
    :param faint: not represented but above ``faint`` in norm: same tuples; listed, never named
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
    detail: str = ""
    order: tuple = ()
    angles: tuple = ()
    gaps: tuple = ()
    antipodal_pairs: tuple = ()
    groups: tuple = ()
    stacked: tuple = ()
    weak: tuple = ()
    faint: tuple = ()

    @property
    def represented_features(self) -> tuple:
        return tuple(int(i) for i in np.flatnonzero(self.represented))

    @property
    def n_vertices(self) -> int:
        return len(self.order)

    @property
    def base_shape(self) -> str | None:
        """The shape without its weak extras: "pentagon" for "pentagon + 1 weak"."""
        return None if self.shape is None else re.sub(r" \+ \d+ weak$", "", self.shape)

    def label(self) -> str:
        """The name with its detail and regularity: "pentagon + 1 weak (regularity 0.98)",
        "two antipodal pairs at 60° (regularity 0.67)"."""
        if self.shape is None:
            return f"{int(self.represented.sum())} of {self.n_features} features represented"
        text = self.shape
        core = self.base_shape
        if self.detail and core is not None:
            text = text.replace(core, f"{core} {self.detail}", 1)
        if self.regularity is not None:
            text += f" (regularity {self.regularity:.2f})"
        return text

    def to_dict(self) -> dict:
        """Plain JSON-ready dict (lists and floats)."""
        d = asdict(self)
        for key in ("norms", "dimensionality", "interference"):
            d[key] = [round(float(v), 6) for v in d[key]]
        d["represented"] = list(self.represented_features)
        d["dims_per_feature"] = None if not np.isfinite(self.dims_per_feature) else round(self.dims_per_feature, 6)
        d["regularity"] = None if self.regularity is None else round(self.regularity, 4)
        d["label"] = self.label()
        d["order"] = list(self.order)
        d["angles"] = [round(a, 3) for a in self.angles]
        d["gaps"] = [round(g, 3) for g in self.gaps]
        d["antipodal_pairs"] = [list(p) for p in self.antipodal_pairs]
        d["groups"] = [{"name": n, "features": list(f), "dims": k} for n, f, k in self.groups]
        d["stacked"] = [{"feature": f, "vertex": v} for f, v in self.stacked]
        for key in ("weak", "faint"):
            d[key] = [{"feature": f, "norm": round(n, 4), "angle": None if a is None else round(a, 3), "vertex": v}
                      for f, n, a, v in getattr(self, key)]
        return d


def describe(
    W,
    threshold: float = THRESHOLD,
    *,
    mask=None,
    weak_ratio: float = WEAK_RATIO,
    faint: float = FAINT,
    merge_degrees: float = MERGE_DEGREES,
    tolerance: float = TOLERANCE,
    antipodal_degrees: float = 2 * TOLERANCE,
) -> Geometry:
    """Describe one instance's weights and name its shape (rule: the module docstring); above
    :data:`NAME_ABOVE` features the shape is "not named above 2,048 features" and nothing is listed
    (memory and time O(n·m)).

    :param W: (shape: [n_hidden, n_features])
    :param threshold: a feature is represented when its norm exceeds this
    :param mask: (shape: [n_features]) explicit represented mask, overriding ``threshold``
        (events use it to apply hysteresis)
    :param weak_ratio: represented features below this × the median represented norm are weak extras
    :param faint: features with ``faint < norm`` that are not represented are listed as faint
    :param merge_degrees: a represented feature this close to a stronger vertex is stacked on it
    :param tolerance: degrees; k vertices in a plane are a regular k-gon when each lies within this
        of one regular k-gon's vertices
    :param antipodal_degrees: two vertices within this of 180° apart are an antipodal pair
    :raises ValueError: W is not 2-D
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
    if n > NAME_ABOVE:  # O(n·m) only: the norms, D_i and interference above, no name
        return Geometry(**geo, shape=f"not named above {NAME_ABOVE:,} features")
    vertices, stacked, weak = _split(W, norms, rep, weak_ratio, merge_degrees)
    on_line = _on_line(W, norms, vertices, merge_degrees)
    ang = angles(W) if m == 2 else None
    where = lambda i: (int(i), float(norms[i]), None if ang is None else float(ang[i]), on_line(i))  # noqa: E731
    geo["weak"] = tuple(where(i) for i in weak)
    geo["faint"] = tuple(where(i) for i in np.flatnonzero((norms > faint) & ~rep))
    geo["stacked"] = tuple(stacked)
    if m == 2:
        geo.update(_plane(W, vertices, tolerance, antipodal_degrees))
    else:
        geo.update(_tegum(W, vertices, tolerance, antipodal_degrees))
    if stacked:
        geo["shape"] = _with_stacked(geo["shape"], vertices, stacked)
    if weak:
        geo["shape"] += f" + {len(weak)} weak"
    return Geometry(**geo)


def _with_stacked(name: str, vertices, stacked) -> str:
    """"2 × pentagon" when every vertex carries the same number of features, else "pentagon + 3 stacked"."""
    per = {v: 1 for v in vertices}
    for _, v in stacked:
        per[v] += 1
    counts = set(per.values())
    if len(counts) == 1:
        name = "dedicated" if name == "1 dedicated" else name
        return f"{counts.pop()} × " + (f"({name})" if " + " in name else name)
    return f"{name} + {len(stacked)} stacked"


def _split(W, norms, rep, weak_ratio, merge_degrees) -> tuple[list, list, list]:
    """Represented features → (vertices, stacked (feature, vertex), weak extras), strongest first."""
    idx = np.flatnonzero(rep)
    if not len(idx):
        return [], [], []
    median = float(np.median(norms[idx]))
    is_weak = norms[idx] < weak_ratio * median
    weak = [int(i) for i in idx[is_weak]]
    strong = idx[~is_weak]
    strong = strong[np.argsort(-norms[strong], kind="stable")]
    unit = W[:, strong] / norms[strong]
    close = (unit.T @ unit) > np.cos(np.radians(merge_degrees))  # [s, s], in strength order
    is_vertex = np.zeros(len(strong), dtype=bool)
    vertices, stacked = [], []
    for t, i in enumerate(strong):
        near = np.flatnonzero(is_vertex[:t] & close[t, :t])
        if len(near):
            stacked.append((int(i), int(strong[near[0]])))
        else:
            is_vertex[t] = True
            vertices.append(int(i))
    return vertices, stacked, weak


def _on_line(W, norms, vertices, merge_degrees):
    """feature → the vertex whose direction it lies within ``merge_degrees`` of, or None."""
    if not vertices:
        return lambda i: None
    V = W[:, vertices] / norms[vertices]
    verts = np.asarray(vertices)
    cos_merge = np.cos(np.radians(merge_degrees))

    def find(i):
        if norms[i] == 0:
            return None
        near = np.flatnonzero((((W[:, i] / norms[i]) @ V) > cos_merge) & (verts != i))  # vectorised: O(1) Python per call
        return int(verts[near[0]]) if len(near) else None

    return find


def _residual_spread(sorted_angles) -> float:
    """Degrees: the largest distance of a vertex from the nearest regular k-gon — half the range of
    θ_t − θ_0 − 360°·t/k over the vertices in angular order (any rotation of the k-gon)."""
    a = np.asarray(sorted_angles, dtype=np.float64)
    k = len(a)
    r = (a - a[0]) - 360.0 * np.arange(k) / k
    return float(r.max() - r.min()) / 2.0


def _plane(W, vertices, tolerance, antipodal_degrees) -> dict:
    """Shape fields for vertices in a plane (n_hidden = 2). :param W: (shape: [2, n_features])"""
    ang = angles(W)
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
    shape, regularity, detail = _name_polygon(vert_angles, gaps, pairs, tolerance)
    return dict(shape=shape, regularity=regularity, detail=detail, order=tuple(order), angles=tuple(vert_angles),
                gaps=tuple(gaps), antipodal_pairs=pairs, groups=((shape, tuple(order), 2),) if k else ())


def _name_polygon(vert_angles, gaps, pairs, tolerance) -> tuple[str, float | None, str]:
    """(shape, regularity, detail) of k vertices in a plane, in angular order."""
    k = len(vert_angles)
    if k == 0:
        return "not learned", None, ""
    if k == 1:
        return "single", None, ""
    spread = _residual_spread(vert_angles)
    regularity = max(0.0, 1.0 - spread / (180.0 / k))
    if spread <= tolerance:
        return POLYGON_NAMES.get(k, f"{k}-gon"), regularity, ""
    if k == 2:
        between = min(gaps)
        if abs(between - 90.0) <= 2 * tolerance:
            return "orthogonal pair", max(0.0, 1.0 - abs(between - 90.0) / 90.0), ""
        return "pair", None, f"at {between:.0f}°"
    if k == 4 and len(pairs) == 2 and len({f for p in pairs for f in p}) == 4:
        between = float(_angle_between(vert_angles[0], vert_angles[1]))  # the two pairs' axes
        between = min(between, 180.0 - between)
        return "two antipodal pairs", regularity, f"at {between:.0f}°"
    if k == 3 and pairs:
        return "antipodal pair + 1", regularity, ""
    return f"irregular {k}-gon", regularity, ""


def _tegum(W, vertices, tolerance, antipodal_degrees) -> dict:
    """Shape fields for n_hidden = 1 or >= 3: the vertices split into groups whose spans are
    orthogonal (|cos| <= ORTHOGONAL_COS between groups), each named. :param W: (shape: [m, n])"""
    m = W.shape[0]
    if not vertices:
        return dict(shape="not learned", regularity=None, order=(), groups=())
    if m == 1:
        signs = {int(np.sign(W[0, v])) for v in vertices}  # stacking leaves at most one per sign
        name = "antipodal pair" if len(signs) == 2 else "single"
        pair = (tuple(sorted(vertices)),) if len(signs) == 2 else ()
        return dict(shape=name, regularity=None, order=tuple(sorted(vertices)), antipodal_pairs=pair,
                    groups=((name, tuple(sorted(vertices)), 1),))
    unit = W[:, vertices] / np.linalg.norm(W[:, vertices], axis=0)
    linked = np.abs(unit.T @ unit) > ORTHOGONAL_COS
    groups = [sorted(vertices[t] for t in comp) for comp in _components(linked)]
    named: list[tuple[str, tuple[int, ...], int]] = []
    regs: list[float] = []
    pairs: list[tuple[int, ...]] = []
    for feats in groups:
        name, dims, reg = _name_group(W[:, feats], tolerance, antipodal_degrees)
        if name == "octahedron":  # the tegum product of three digons (the paper): named as them
            named.extend(("digon", p, 1) for p in _antipodes(W, feats))
        else:
            named.append((name, tuple(feats), dims))
        if reg is not None:
            regs.append(reg)
        pairs.extend(f for n_, f, _ in named[-3:] if n_ == "digon" and f not in pairs)
    named.sort(key=lambda g: (-len(g[1]), g[0], g[1]))
    return dict(shape=_join(named), regularity=min(regs) if regs else None,
                order=tuple(f for _, feats, _ in named for f in feats), antipodal_pairs=tuple(pairs), groups=tuple(named))


def _components(linked) -> list[np.ndarray]:
    """Connected components of a graph given as a boolean adjacency matrix [k, k], breadth first (a whole
    frontier at a time): the node indices of each, in order of their first node."""
    seen = np.zeros(len(linked), dtype=bool)
    out = []
    for s in range(len(linked)):
        if seen[s]:
            continue
        comp = np.zeros(len(linked), dtype=bool)
        comp[s] = True
        frontier = comp.copy()
        while frontier.any():
            frontier = linked[frontier].any(axis=0) & ~comp
            comp |= frontier
        seen |= comp
        out.append(np.flatnonzero(comp))
    return out


def _name_group(Wg, tolerance, antipodal_degrees) -> tuple[str, int, float | None]:
    """(name, dims spanned, regularity) of one group of vertices. :param Wg: (shape: [m, k])"""
    k = Wg.shape[1]
    s = np.linalg.svd(Wg, compute_uv=False)
    dims = int(np.sum(s > RANK_TOLERANCE * s[0]))
    if k == 1:
        return "dedicated", 1, None
    if k == 2:
        angle = float(np.degrees(np.arccos(np.clip(Wg[:, 0] @ Wg[:, 1] / np.prod(np.linalg.norm(Wg, axis=0)), -1, 1))))
        if angle > 180.0 - antipodal_degrees:
            return "digon", 1, max(0.0, 1.0 - (180.0 - angle) / 90.0)
        return "pair", 2, None
    if dims == 2:  # a polygon in a plane: name it as n_hidden = 2 would
        U = np.linalg.svd(Wg, full_matrices=False)[0][:, :2]
        P = U.T @ Wg
        a = np.degrees(np.arctan2(P[1], P[0])) % 360.0
        a = sorted(float(x) for x in a)
        gaps = [float((a[(t + 1) % k] - a[t]) % 360.0) for t in range(k)]
        pairs = tuple((s_, t) for s_ in range(k) for t in range(s_ + 1, k) if _angle_between(a[s_], a[t]) > 180 - antipodal_degrees)
        name, reg, _ = _name_polygon(a, gaps, pairs, tolerance)
        return name, 2, reg
    if dims == 3:
        U = np.linalg.svd(Wg, full_matrices=False)[0][:, :3]
        X = U.T @ Wg
        X = X / np.linalg.norm(X, axis=0)
        for name, make in POLYTOPES_3D.get(k, ()):
            err = polytope_error(X, make())
            if err <= tolerance:
                return name, 3, max(0.0, 1.0 - err / (2 * tolerance))
    return f"{k} features in {dims} dims", dims, None


def _antipodes(W, feats) -> list[tuple[int, ...]]:
    """An octahedron's vertices as its three antipodal pairs (each vertex with its most opposite one)."""
    unit = W[:, feats] / np.linalg.norm(W[:, feats], axis=0)
    cos = unit.T @ unit
    left, pairs = list(range(len(feats))), []
    while left:
        a = left.pop(0)
        b = min(left, key=lambda t: cos[a, t])
        left.remove(b)
        pairs.append(tuple(sorted((feats[a], feats[b]))))
    return pairs


def _frames(a, b) -> np.ndarray:
    """Orthonormal frames from pairs of directions: a, b's part orthogonal to a, their cross product.
    :param a, b: (shape: [..., 3]) :return: (shape: [..., 3, 3]), the frame's vectors as columns"""
    e1 = a / np.linalg.norm(a, axis=-1, keepdims=True)
    e2 = b - np.sum(b * e1, axis=-1, keepdims=True) * e1
    e2 = e2 / np.linalg.norm(e2, axis=-1, keepdims=True)
    return np.stack([e1, e2, np.cross(e1, e2)], axis=-1)


def polytope_error(X, T, max_degrees: float = 30.0) -> float:
    """Degrees: the largest angle between a vertex of X and its partner in T, after the best orthogonal map
    (rotation or reflection) and matching of the vertices; inf when no matching is found.

    Candidate maps send the first vertex of X and its nearest neighbour onto every ordered pair of T's
    vertices within ``max_degrees`` of the same angle; each candidate's nearest-vertex matching (when it is
    one to one) is refined by orthogonal Procrustes. :param X, T: unit vectors (shape: [3, k]) each
    """
    k = X.shape[1]
    if T.shape[1] != k or k < 2:
        return float("inf")
    near = X[:, 0] @ X
    near[0] = -2.0
    nb = int(np.argmax(near))
    angle = np.degrees(np.arccos(np.clip(T.T @ T, -1.0, 1.0)))
    a, b = np.nonzero((np.abs(angle - np.degrees(np.arccos(np.clip(near[nb], -1.0, 1.0)))) <= max_degrees)
                      & ~np.eye(k, dtype=bool))
    if not len(a):
        return float("inf")
    F_x = _frames(X[:, 0], X[:, nb])
    F_t = _frames(T[:, a].T, T[:, b].T)  # [c, 3, 3]
    F_t = np.concatenate([F_t, F_t * np.array([1.0, 1.0, -1.0])])  # and their mirror images
    R = F_t @ F_x.T  # [c, 3, 3]
    match = np.argmax(np.einsum("ik,cij,jl->ckl", T, R, X), axis=1)  # [c, k]: each vertex of X → nearest of T
    one_to_one = (np.sort(match, axis=1) == np.arange(k)).all(axis=1)
    if not one_to_one.any():
        return float("inf")
    Tm = T.T[match[one_to_one]]  # [c', k, 3]: the partners
    U, _, Vt = np.linalg.svd(np.swapaxes(Tm, 1, 2) @ X.T)  # Procrustes: T_m ≈ (U Vt) X
    cos = np.sum(np.swapaxes((U @ Vt) @ X, 1, 2) * Tm, axis=2)  # [c', k]
    return float(np.degrees(np.arccos(np.clip(cos.min(axis=1).max(), -1.0, 1.0))))


def _join(named) -> str:
    """"2 digons + 1 dedicated": group names with counts, largest groups first; a name that is itself a
    count is multiplied, "2 × (9 features in 9 dims)" (not "2 9 features in 9 dimss")."""
    counts: dict[str, int] = {}
    for name, _, _ in named:
        counts[name] = counts.get(name, 0) + 1
    parts = []
    for name, c in counts.items():
        if name == "dedicated":
            parts.append(f"{c} dedicated")
        elif c == 1:
            parts.append(name)
        elif name[:1].isdigit() or " + " in name or name.endswith("s"):  # "5 features in 4 dims", "antipodal
            # pair + 1", "two antipodal pairs" already count: "2 × (5 features in 4 dims)", not "2 5 features in 4 dimss"
            parts.append(f"{c} × ({name})")
        else:
            parts.append(f"{c} {PLURALS.get(name, name + 's')}")
    return " + ".join(parts)


def _angle_between(a, b) -> np.ndarray:
    """Unsigned angle between directions in degrees, [0, 180]."""
    d = np.abs((np.asarray(a) - np.asarray(b)) % 360.0)
    return np.minimum(d, 360.0 - d)


def census(W, *, min_dim: float = CENSUS_MIN_DIM, link: float = CENSUS_LINK) -> list[dict]:
    """The connected feature groups of one instance: the paper's "feature geometry graph" (features joined
    when they are not orthogonal), whose disconnected components are tegum factors ("Toy Models of
    Superposition", section "The Geometry of Superposition").

    Features with D_i >= ``min_dim`` are joined when |Ŵ_i·Ŵ_j| > ``link``; each component gets its size,
    its rank (singular values of its columns above RANK_TOLERANCE × the largest), the mean of its D_i,
    rank/size (a uniform factor's D) and the name of a uniform factor of that size and rank
    (FACTOR_NAMES: "triangle" for 3 features in 2 dims) when every D_i is within CENSUS_D_TOLERANCE
    of rank/size, else "<size> in <rank> dims".

    :param W: (shape: [n_hidden, n_features])
    :return: one dict per component, largest first: features, size, rank, D_mean, D_uniform, name
    """
    W = np.asarray(W, dtype=np.float64)
    D = dimensionality(W)
    keep = np.flatnonzero(D >= min_dim)
    if not len(keep):
        return []
    unit = W[:, keep] / np.linalg.norm(W[:, keep], axis=0)
    linked = np.abs(unit.T @ unit) > link
    out: list[dict] = []
    for comp in _components(linked):
        feats = keep[comp]
        sv = np.linalg.svd(W[:, feats], compute_uv=False)
        rank = int(np.sum(sv > RANK_TOLERANCE * sv[0]))
        size = len(feats)
        uniform = bool(np.all(np.abs(D[feats] - rank / size) <= CENSUS_D_TOLERANCE))
        out.append({"features": [int(f) for f in feats], "size": size, "rank": rank,
                    "D_mean": float(D[feats].mean()), "D_uniform": rank / size,
                    "name": (FACTOR_NAMES.get((size, rank)) if uniform else None) or f"{size} in {rank} dims"})
    out.sort(key=lambda g: (-int(g["size"]), list(g["features"])))
    return out


def census_counts(components: list[dict]) -> dict[str, int]:
    """{name: how many components} of a :func:`census`, e.g. {"digon": 9, "pentagon": 2}."""
    counts: dict[str, int] = {}
    for comp in components:
        counts[comp["name"]] = counts.get(comp["name"], 0) + 1
    return counts


def polygon(k: int, radius: float = 1.0, phase_degrees: float = 0.0) -> np.ndarray:
    """A regular k-gon as weights (for tests and examples). (shape: [2, k])"""
    t = np.radians(phase_degrees + 360.0 * np.arange(k) / k)
    return radius * np.stack([np.cos(t), np.sin(t)])


def tetrahedron(radius: float = 1.0) -> np.ndarray:
    """A regular tetrahedron as weights. (shape: [3, 4])"""
    V = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], dtype=np.float64).T
    return radius * V / np.sqrt(3)


def square_antiprism(radius: float = 1.0) -> np.ndarray:
    """A square antiprism on the sphere whose vertices form a tight frame (Σ_j W_j W_jᵀ ∝ I, so every
    D_i = 3/8, as in the paper): squares at heights ±1/√3, the lower one turned 45°. (shape: [3, 8])"""
    h, r = 1 / np.sqrt(3), np.sqrt(2 / 3)
    t = np.radians(90.0 * np.arange(4))
    top = np.stack([r * np.cos(t), r * np.sin(t), np.full(4, h)])
    bottom = np.stack([r * np.cos(t + np.pi / 4), r * np.sin(t + np.pi / 4), np.full(4, -h)])
    return radius * np.concatenate([top, bottom], axis=1)


def octahedron(radius: float = 1.0) -> np.ndarray:
    """A regular octahedron (three antipodal pairs on the axes) as weights. (shape: [3, 6])"""
    return radius * np.concatenate([np.eye(3), -np.eye(3)], axis=1)


def cube(radius: float = 1.0) -> np.ndarray:
    """A cube: the 8 vertices (±1, ±1, ±1)/√3 as weights. (shape: [3, 8])"""
    V = np.array([[x, y, z] for x in (1, -1) for y in (1, -1) for z in (1, -1)], dtype=np.float64).T
    return radius * V / np.sqrt(3)


# regular polytopes named in 3 dimensions, by vertex count
POLYTOPES_3D = {4: (("tetrahedron", tetrahedron),), 6: (("octahedron", octahedron),),
                8: (("cube", cube), ("square antiprism", square_antiprism))}
