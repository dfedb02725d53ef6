"""Geometry on constructed weights with known answers."""

import numpy as np
import pytest

from animsup.analysis import geometry as g


def rotated(W, degrees):
    t = np.radians(degrees)
    R = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    return R @ W


@pytest.mark.parametrize("k,name,D", [(5, "pentagon", 2 / 5), (6, "hexagon", 1 / 3), (3, "triangle", 2 / 3)])
def test_regular_polygons(k, name, D):
    W = rotated(g.polygon(k, radius=1.1), 17.0)
    geo = g.describe(W)
    assert geo.shape == name
    assert geo.regularity == pytest.approx(1.0, abs=1e-9)
    np.testing.assert_allclose(geo.gaps, 360.0 / k)
    np.testing.assert_allclose(geo.dimensionality, D)
    np.testing.assert_allclose(geo.norms, 1.1)
    assert sorted(geo.order) == list(range(k))


def test_square_is_two_antipodal_pairs_with_D_half():
    W = g.polygon(4)[:, [0, 2, 1, 3]]  # features 0,1 antipodal; 2,3 antipodal
    geo = g.describe(W)
    assert geo.shape == "square"
    assert {tuple(sorted(p)) for p in geo.antipodal_pairs} == {(0, 1), (2, 3)}
    np.testing.assert_allclose(geo.dimensionality, 0.5)
    np.testing.assert_allclose(geo.interference, 1.0)  # the antipodal partner projects fully


def test_four_vertices_without_antipodes_is_not_a_square():
    W = g.polygon(5)[:, :4]  # a pentagon missing a vertex
    geo = g.describe(W)
    assert geo.shape == "irregular 4-gon" and geo.label() == "irregular 4-gon (regularity 0.40)"


def test_pairs_single_nothing():
    assert g.describe(np.array([[1.0, 0], [0, 1.0]])).shape == "orthogonal pair"
    assert g.describe(np.array([[1.0, -1.0], [0, 0.01]])).shape == "antipodal pair"
    assert g.describe(np.array([[1.0, 0.1], [0, 0.0]])).shape == "single"
    assert g.describe(np.zeros((2, 3))).shape == "not learned"
    D = g.dimensionality(np.array([[1.0, 0], [0, 1.0]]))
    np.testing.assert_allclose(D, 1.0)  # orthogonal: a dimension each


def test_noisy_pentagon_keeps_its_name_with_lower_regularity():
    rng = np.random.default_rng(0)
    W = g.polygon(5) + rng.normal(0, 0.03, (2, 5))
    geo = g.describe(W)
    assert geo.shape == "pentagon"
    assert 0.7 < geo.regularity < 1.0
    assert np.all(np.abs(geo.dimensionality - 0.4) < 0.05)


def test_faint_and_weak_features_on_a_vertex_line_are_reported_never_vertices():
    # n = 32-like: a pentagon plus a faint feature at norm 0.35 on vertex 2's line, rest near zero
    W = np.zeros((2, 8))
    W[:, :5] = g.polygon(5, radius=1.0)
    W[:, 6] = 0.35 * g.polygon(5)[:, 2]
    geo = g.describe(W)
    assert geo.shape == "pentagon" and geo.weak == ()
    assert [(f, v) for f, _, _, v in geo.faint] == [(6, 2)]
    # with a threshold low enough to count it, it is a weak extra (0.35 < 0.6 x the median 1.0)
    low = g.describe(W, threshold=0.3)
    assert low.shape == "pentagon + 1 weak" and low.base_shape == "pentagon"
    assert [(f, v) for f, _, _, v in low.weak] == [(6, 2)]
    # a strong feature on a vertex's line is stacked on it, and counted in the name
    W[:, 6] = 0.9 * g.polygon(5)[:, 2]
    assert g.describe(W).shape == "pentagon + 1 stacked" and g.describe(W).stacked == ((6, 2),)


def test_hexagon_with_one_off_angle_regularity():
    W = g.polygon(6)
    t = np.radians(60 + 15)  # move vertex 1 by 15 degrees
    W[:, 1] = [np.cos(t), np.sin(t)]
    geo = g.describe(W)
    assert geo.shape == "hexagon"
    assert geo.regularity == pytest.approx(1 - 15 / 60)


def test_batched_functions_match_per_instance():
    rng = np.random.default_rng(1)
    W = rng.normal(size=(3, 4, 2, 6))
    for fn in (g.feature_norms, g.dimensionality, g.interference, g.dims_per_feature):
        batched = fn(W)
        for a in range(3):
            for b in range(4):
                np.testing.assert_allclose(batched[a, b], fn(W[a, b]))


def test_dimensionality_definition_against_a_loop():
    rng = np.random.default_rng(2)
    W = rng.normal(size=(3, 7))
    W[:, 4] = 0
    D = g.dimensionality(W)
    for i in range(7):
        ni = np.linalg.norm(W[:, i])
        if ni == 0:
            assert D[i] == 0
            continue
        denom = sum((W[:, i] / ni @ W[:, j]) ** 2 for j in range(7))
        assert D[i] == pytest.approx(ni**2 / denom)
    assert g.dims_per_feature(W) == pytest.approx(3 / np.sum(W**2))


def test_to_dict_is_json_ready():
    import json

    geo = g.describe(g.polygon(5))
    d = geo.to_dict()
    json.dumps(d)
    assert d["shape"] == "pentagon" and d["represented"] == [0, 1, 2, 3, 4]
    d3 = g.describe(np.ones((3, 4))).to_dict()  # four features along one direction in 3-D
    assert d3["shape"] == "4 × dedicated" and [s["vertex"] for s in d3["stacked"]] == [0, 0, 0]
    json.dumps(d3)


def test_three_features_that_are_not_a_triangle():
    t = np.radians([0, 90, 180])
    assert g.describe(np.stack([np.cos(t), np.sin(t)])).shape == "antipodal pair + 1"
    t = np.radians([0, 50, 100])  # bunched on one side
    geo = g.describe(np.stack([np.cos(t), np.sin(t)]))
    assert geo.shape == "irregular 3-gon" and geo.regularity == 0.0


# --------------------------------------------------------------------------- the naming rule (issue 10)

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def at(degrees, norms=None):
    """Features at these directions (degrees) and norms (default 1). (shape: [2, k])"""
    t = np.radians(np.asarray(degrees, dtype=np.float64))
    r = np.ones(len(t)) if norms is None else np.asarray(norms, dtype=np.float64)
    return np.stack([r * np.cos(t), r * np.sin(t)])


def test_pentagon_plus_a_weak_feature_midway_is_not_a_hexagon():
    W = np.concatenate([g.polygon(5, radius=1.1), at([36], [0.55])], axis=1)  # feature 5 between vertices 0 and 1
    geo = g.describe(W)
    assert geo.shape == "pentagon + 1 weak" and geo.order == (0, 1, 2, 3, 4)
    assert [(f, v) for f, _, _, v in geo.weak] == [(5, None)]
    assert geo.label() == "pentagon + 1 weak (regularity 1.00)"


@pytest.mark.parametrize("degrees,theta", [([0, 60, 180, 240], 60), ([0, 40, 180, 220], 40)])
def test_two_antipodal_pairs_that_are_not_a_square(degrees, theta):
    geo = g.describe(at(degrees))
    assert geo.shape == "two antipodal pairs" and len(geo.antipodal_pairs) == 2
    assert geo.label().startswith(f"two antipodal pairs at {theta}°")


def test_square_with_one_vertex_21_degrees_off_is_still_a_square():
    geo = g.describe(at([0, 111, 180, 270]))
    assert geo.shape == "square" and geo.regularity == pytest.approx(1 - 10.5 / 45)


@pytest.mark.parametrize("degrees", [[0, 45, 90, 180, 270], [0, 117, 144, 216, 288]])
def test_irregular_five_vertices_keep_their_count_and_say_irregular(degrees):
    # a square plus a feature at 45°; a pentagon with gaps 117/27/72/72/72
    assert g.describe(at(degrees)).shape == "irregular 5-gon"


NAMES = {2: "antipodal pair", 3: "triangle", 4: "square", 5: "pentagon", 6: "hexagon", 7: "heptagon", 8: "octagon"}


@settings(max_examples=400, deadline=None, derandomize=True)
@given(k=st.integers(2, 8), rotation=st.floats(0, 360), data=st.data())
def test_noisy_regular_polygons_keep_their_name(k, rotation, data):
    """Regular k-gons at any rotation with up to 10° angle noise and 10% norm noise are named
    k-gon (by the rule, always: every vertex stays within 10° < 12.5° of the regular k-gon)."""
    noise = data.draw(st.lists(st.floats(-10, 10), min_size=k, max_size=k))
    norms = data.draw(st.lists(st.floats(0.9, 1.1), min_size=k, max_size=k))
    W = at(rotation + 360.0 * np.arange(k) / k + np.asarray(noise), norms)
    geo = g.describe(W)
    assert geo.shape == NAMES[k], (geo.label(), noise)
    assert geo.regularity >= 1 - 10 / (180 / k) - 1e-9


def test_noisy_squares_are_squares_in_at_least_99_percent_of_random_draws():
    rng = np.random.default_rng(0)
    names = [g.describe(at(rng.uniform(0, 360) + np.array([0, 90, 180, 270]) + rng.uniform(-10, 10, 4),
                           rng.uniform(0.9, 1.1, 4))).shape for _ in range(500)]
    assert names.count("square") >= 0.99 * len(names)


def test_one_hidden_dimension():
    assert g.describe(np.array([[1.0, -0.9, 0.1]])).shape == "antipodal pair"
    assert g.describe(np.array([[1.0, 0.1, 0.0]])).shape == "single"
    assert g.describe(np.array([[0.2, -0.1]])).shape == "not learned"
    both = g.describe(np.array([[1.0, 0.8]]))  # same direction: the weaker is stacked on the stronger
    assert both.shape == "2 × single" and both.stacked == ((1, 0),)
    assert g.describe(np.array([[1.0, 1.0]])).shape == "2 × single"
    assert g.describe(np.array([[1.0, -1.0, 0.9, -0.8]])).shape == "2 × antipodal pair"
    assert g.describe(np.array([[1.0, -1.0, 0.9]])).shape == "antipodal pair + 1 stacked"
    np.testing.assert_allclose(g.dimensionality(np.array([[1.0, -1.0]])), 0.5)
    np.testing.assert_allclose(g.dimensionality(np.array([[1.0, 0.0]]))[0], 1.0)


def embed(blocks, m):
    """Place each [d, k] block in its own coordinates of an m-dimensional space (orthogonal spans)."""
    n = sum(b.shape[1] for b in blocks)
    W, row, col = np.zeros((m, n)), 0, 0
    for b in blocks:
        W[row : row + b.shape[0], col : col + b.shape[1]] = b
        row, col = row + b.shape[0], col + b.shape[1]
    return W


def random_rotation(m, seed):
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(m, m)))
    return q * np.sign(np.diag(r))


DIGON = np.array([[1.0, -1.0]])
DEDICATED = np.array([[1.0]])


@pytest.mark.parametrize("blocks,m,name,D", [
    ([g.tetrahedron()], 3, "tetrahedron", [3 / 4] * 4),
    ([g.polygon(3), DEDICATED], 3, "triangle + 1 dedicated", [2 / 3] * 3 + [1]),
    ([DIGON, DIGON, DIGON], 3, "3 digons", [1 / 2] * 6),  # the octahedron is three digons
    ([g.polygon(5), DEDICATED, DEDICATED], 4, "pentagon + 2 dedicated", [2 / 5] * 5 + [1, 1]),
    ([g.square_antiprism()], 3, "square antiprism", [3 / 8] * 8),
    ([g.tetrahedron(), DIGON, DEDICATED], 5, "tetrahedron + digon + 1 dedicated", [3 / 4] * 4 + [1 / 2] * 2 + [1]),
    ([g.polygon(3), g.polygon(3)], 4, "2 triangles", [2 / 3] * 6),
])
def test_tegum_products_are_named_by_their_orthogonal_groups(blocks, m, name, D):
    W = random_rotation(m, 3) @ embed(blocks, m)  # any orientation
    geo = g.describe(W)
    assert geo.shape == name
    np.testing.assert_allclose(g.dimensionality(W), D, atol=1e-9)  # D_i agrees with the name
    assert sorted(len(f) for _, f, _ in geo.groups) == sorted(b.shape[1] for b in blocks)


def test_noisy_tetrahedron_and_a_distorted_one():
    rng = np.random.default_rng(5)
    W = g.tetrahedron() * rng.uniform(0.95, 1.05, 4) + rng.normal(0, 0.02, (3, 4))
    assert g.describe(W).shape == "tetrahedron"
    tall = g.tetrahedron()
    tall[2] *= 2.0  # stretched: D_i no longer 3/4
    assert g.describe(tall).shape == "4 features in 3 dims"
    # two features 150° apart in 3-D are not a digon
    assert g.describe(np.array([[1.0, np.cos(np.radians(150))], [0, np.sin(np.radians(150))], [0, 0]])).shape == "pair"


def test_label_adds_regularity_but_shape_stays_short():
    geo = g.describe(at([0, 75, 144, 216, 288]))
    assert geo.shape == "pentagon" and geo.label() == f"pentagon (regularity {geo.regularity:.2f})"
    assert g.describe(np.zeros((2, 4))).label() == "not learned"


def _old_overlaps(W):
    """The formula before issue 27: the n×n matrix (Ŵᵀ W)² (O(n²) memory)."""
    W = np.asarray(W, dtype=np.float64)
    norms = np.linalg.norm(W, axis=-2, keepdims=True)
    W_hat = np.divide(W, norms, out=np.zeros_like(W), where=norms > 0)
    return (np.swapaxes(W_hat, -1, -2) @ W) ** 2


@pytest.mark.parametrize("shape", [(2, 5), (3, 2, 7), (4, 3, 3, 6), (5, 3), (1, 1)])
def test_dimensionality_and_interference_equal_the_n_by_n_formula(shape):
    from animsup.analysis import geometry

    rng = np.random.default_rng(len(shape) * 10 + shape[-1])
    W = rng.normal(size=shape)
    W[..., 0] = 0.0  # a zero feature: D_i = 0, interference 0
    ov = _old_overlaps(W)
    total = ov.sum(axis=-1)
    sq = np.sum(W * W, axis=-2)
    old_D = np.divide(sq, total, out=np.zeros_like(sq), where=total > 0)
    old_I = total - np.diagonal(ov, axis1=-2, axis2=-1)
    np.testing.assert_allclose(geometry.dimensionality(W), old_D, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(geometry.interference(W), old_I, rtol=1e-10, atol=1e-12)


def test_dimensionality_memory_is_linear_in_n_features():
    """n = 20,000, m = 2: the old n×n matrix alone was 3.2 GB; now the peak is a few copies of W."""
    import tracemalloc

    from animsup.analysis import geometry

    W = np.random.default_rng(0).normal(size=(2, 20_000))
    tracemalloc.start()
    D = geometry.dimensionality(W)
    geometry.interference(W)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 20 * W.nbytes  # 6.4 MB; n×n would be 3.2e9 bytes
    assert D.shape == (20_000,) and np.all((D >= 0) & (D <= 1 + 1e-12))


def test_two_near_coincident_pentagons_are_named_with_their_count():
    W = np.concatenate([g.polygon(5), g.polygon(5, phase_degrees=3)], axis=1)  # 10 features, 5 directions
    assert g.describe(W).shape == "2 × pentagon"
    assert g.describe(W[:, :7]).shape == "pentagon + 2 stacked"


def test_cube_and_square_antiprism_are_told_apart():
    """Both have 8 vertices with every D_i = 3/8 (tight frames): only the angles tell them apart. The
    antiprism is the cube with one face turned 45°; after the best rotation a vertex stays ≥ 18° off."""
    assert g.describe(g.cube()).shape == "cube"
    assert g.describe(g.square_antiprism()).shape == "square antiprism"
    np.testing.assert_allclose(g.dimensionality(g.cube()), 3 / 8)
    assert g.polytope_error(g.cube(), g.square_antiprism()) > 2 * g.TOLERANCE * 0.7
    assert g.polytope_error(g.cube(), random_rotation(3, 1) @ g.cube()) < 1e-6


def _jitter(V, degrees, rng):
    """Each column moved by an angle uniform in [0, degrees] in a random direction, its norm by ±10 %."""
    U = V / np.linalg.norm(V, axis=0)
    t = rng.normal(size=U.shape)
    t -= np.sum(t * U, axis=0) * U
    t /= np.linalg.norm(t, axis=0)
    a = np.radians(rng.uniform(0, degrees, U.shape[1]))
    return (np.cos(a) * U + np.sin(a) * t) * rng.uniform(0.9, 1.1, U.shape[1])


@pytest.mark.parametrize("blocks,m,name", [
    ([g.tetrahedron()], 3, "tetrahedron"),
    ([np.vstack([g.polygon(3), np.zeros((1, 3))])], 3, "triangle"),
    ([g.octahedron()], 3, "3 digons"),  # the paper: the octahedron is the tegum product of three digons
    ([g.cube()], 3, "cube"),
    ([g.square_antiprism()], 3, "square antiprism"),
    ([g.polygon(5), DEDICATED], 3, "pentagon + 1 dedicated"),
])
def test_noisy_polytopes_in_three_dims_keep_their_name_in_99_percent_of_draws(blocks, m, name):
    """Like the plane's rule (12.5° per vertex): 5° of noise per vertex, any orientation, seeded."""
    rng = np.random.default_rng(7)
    V = embed(blocks, m)
    names = [g.describe(random_rotation(m, 100 + i) @ _jitter(V, 5.0, rng)).shape for i in range(200)]
    assert names.count(name) >= 0.99 * len(names), {x: names.count(x) for x in set(names)}


def test_census_finds_tegum_factors_with_their_rank():
    """A pentagon, a tetrahedron and a digon in orthogonal subspaces (any rotation): three components with
    D = rank/size; a feature with D_i < 0.1 is left out; a non-uniform factor keeps "size in rank dims"."""
    W = random_rotation(6, 2) @ embed([g.polygon(5), g.tetrahedron(), DIGON], 6)
    W = np.concatenate([W, 0.01 * W[:, :1]], axis=1)  # a faint feature on the pentagon's first line
    comps = g.census(W)
    assert [(c["name"], c["size"], c["rank"]) for c in comps] == [("pentagon", 5, 2), ("tetrahedron", 4, 3), ("digon", 2, 1)]
    assert all(abs(c["D_mean"] - c["rank"] / c["size"]) < 0.01 for c in comps)
    assert g.census_counts(comps) == {"pentagon": 1, "tetrahedron": 1, "digon": 1}
    uneven = embed([np.array([[1.0, -1.0, 0.0], [0.0, 0.0, 1.0]]) @ np.array([[1, 0, 0], [0, 1, 0], [0, 0.3, 1]]).T], 2)
    assert [c["name"] for c in g.census(uneven)] == ["3 in 2 dims"]


def test_repeated_generic_groups_are_counted_not_pluralised_twice():
    # issue 24: two orthogonal copies of a stretched tetrahedron ("4 features in 3 dims", no polytope name)
    # in 6 dims read "2 × (4 features in 3 dims)"; the old join prefixed the count to the name and added
    # an "s" ("2 4 features in 3 dimss"), as inspect showed at n = 10,240
    tall = g.tetrahedron()
    tall[2] *= 2.0
    W = np.zeros((6, 8))
    W[:3, :4], W[3:, 4:] = tall, tall
    assert g.describe(W).shape == "2 × (4 features in 3 dims)"
    # a name that already counts (or holds a "+") is multiplied, a plain noun pluralised
    assert g._join([("antipodal pair + 1", (0,), 2)] * 2) == "2 × (antipodal pair + 1)"
    assert g._join([("two antipodal pairs", (0,), 2)] * 3) == "3 × (two antipodal pairs)"
    assert g._join([("pentagon", (0,), 2)] * 2 + [("tetrahedron", (1,), 3)] * 2) == "2 pentagons + 2 tetrahedra"
