"""The geometry naming rule on hand-made weights: draws docs/img/geometry_m2.png (n_hidden = 2) and
docs/img/geometry_m3.png (n_hidden = 3) and prints the table of docs/analysis.md. Every name is
computed by animsup.analysis.geometry.describe, none is typed in.

    .venv/bin/python scripts/geometry_examples.py [--out docs/img]
"""

from __future__ import annotations

import argparse
import os

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def at(degrees, norms=None):
    t = np.radians(np.asarray(degrees, dtype=np.float64))
    r = np.ones(len(t)) if norms is None else np.asarray(norms, dtype=np.float64)
    return np.stack([r * np.cos(t), r * np.sin(t)])


def plane_examples():
    from animsup.analysis import geometry as g

    rng = np.random.default_rng(1)
    noisy = at(33 + np.array([0, 90, 180, 270]) + rng.uniform(-10, 10, 4), rng.uniform(0.9, 1.1, 4))
    return [
        ("regular pentagon", g.polygon(5, 1.1)),
        ("pentagon (1.1) + feature of norm 0.55 at 36°", np.concatenate([g.polygon(5, 1.1), at([36], [0.55])], axis=1)),
        ("square, 10° / 10% noise", noisy),
        ("square, one vertex 21° off", at([0, 111, 180, 270])),
        ("antipodal pairs at 0/60/180/240", at([0, 60, 180, 240])),
        ("antipodal pairs at 0/40/180/220", at([0, 40, 180, 220])),
        ("square + a feature at 45°", at([0, 45, 90, 180, 270])),
        ("gaps 117/27/72/72/72", at([0, 117, 144, 216, 288])),
        ("pentagon missing a vertex", g.polygon(5)[:, :4]),
        ("regular octagon", g.polygon(8)),
        ("antipodal pair + 1", at([0, 90, 180])),
        ("pentagon + feature on a vertex", np.concatenate([g.polygon(5), 0.9 * g.polygon(5)[:, :1]], axis=1)),
        ("two pentagons 3° apart (10 features)", np.concatenate([g.polygon(5), g.polygon(5, phase_degrees=3)], axis=1)),
    ]


def space_examples():
    from animsup.analysis import geometry as g

    def embed(blocks):
        n = sum(b.shape[1] for b in blocks)
        W, row, col = np.zeros((3, n)), 0, 0
        for b in blocks:
            W[row : row + b.shape[0], col : col + b.shape[1]] = b
            row, col = row + b.shape[0], col + b.shape[1]
        return W

    digon = np.array([[1.0, -1.0]])
    tall = g.tetrahedron()
    tall[2] *= 2.0
    return [
        ("tetrahedron", g.tetrahedron()),
        ("triangle in a plane + the third axis", embed([g.polygon(3), np.array([[1.0]])])),
        ("octahedron (three antipodal pairs)", embed([digon, digon, digon])),
        ("square antiprism", g.square_antiprism()),
        ("cube (8 vertices ±1/√3)", g.cube()),
        ("pentagon in a plane + the third axis", embed([g.polygon(5), np.array([[1.0]])])),
        ("stretched tetrahedron", tall),
    ]


def draw_plane(examples, path):
    from matplotlib.figure import Figure
    from matplotlib.patches import Circle

    from animsup.analysis import geometry as g

    cols = 4
    rows = int(np.ceil(len(examples) / cols))
    fig = Figure(figsize=(cols * 2.6, rows * 2.95), dpi=100)
    for j, (what, W) in enumerate(examples):
        ax = fig.add_subplot(rows, cols, j + 1)
        geo = g.describe(W)
        lim = 1.45
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.add_patch(Circle((0, 0), 1.0, fill=False, color="#dddddd", lw=0.8))
        weak = {f for f, *_ in geo.weak}
        stacked = {f for f, _ in geo.stacked}
        for f in range(W.shape[1]):
            x, y = W[:, f]
            colour = "#c0392b" if f in weak else "#7f8c8d" if f in stacked else "#1f4e79"
            ax.plot([0, x], [0, y], color=colour, lw=1.6)
            ax.plot([x], [y], "o", ms=4, color=colour)
        ax.set_title(f"{what}\n→ {geo.label()}", fontsize=7.5, pad=3)
    fig.text(0.5, 0.005, "blue: vertex   red: weak extra   grey: stacked on a vertex", ha="center", va="bottom", fontsize=8)
    fig.subplots_adjust(left=0.01, right=0.99, top=0.93, bottom=0.04, wspace=0.08, hspace=0.38)
    fig.savefig(path)


def draw_space(examples, path):
    from matplotlib.figure import Figure

    from animsup.analysis import geometry as g

    cols = 3
    rows = int(np.ceil(len(examples) / cols))
    fig = Figure(figsize=(cols * 3.3, rows * 3.5), dpi=100)
    palette = ["#1f4e79", "#c0392b", "#27ae60", "#8e44ad", "#d35400"]
    for j, (what, W) in enumerate(examples):
        ax = fig.add_subplot(rows, cols, j + 1, projection="3d")
        geo = g.describe(W)
        colour = {f: palette[k % len(palette)] for k, (_, feats, _) in enumerate(geo.groups) for f in feats}
        for f in range(W.shape[1]):
            x, y, z = W[:, f]
            c = colour.get(f, "#999999")
            ax.plot([0, x], [0, y], [0, z], color=c, lw=1.8)
            ax.scatter([x], [y], [z], color=c, s=14)
        for _, feats, _ in geo.groups:  # the polytope's edges: tips at most 1.2x the closest pair apart
            if len(feats) < 3:
                continue
            P = W[:, list(feats)]
            dist = np.linalg.norm(P[:, :, None] - P[:, None, :], axis=0)
            near = dist <= 1.2 * dist[dist > 0].min()
            for a, b in zip(*np.nonzero(np.triu(near, 1))):
                ax.plot(*[[P[d, a], P[d, b]] for d in range(3)], color=colour[feats[0]], lw=0.7, alpha=0.45)
        lim = max(1.0, float(np.abs(W).max()) * 1.02)
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_zlim(-lim, lim)
        ax.set_box_aspect((1, 1, 1))
        ax.view_init(elev=22, azim=35)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_zticks([])
        D = g.dimensionality(W)
        Ds = "D = " + ", ".join(sorted({f"{d:.3g}" for d in D}, reverse=True))
        ax.set_title(f"{what}\n→ {geo.label()}\n{Ds}", fontsize=8, pad=0)
    fig.text(0.5, 0.01, "one colour per group of features whose span is orthogonal to the others' (tegum factors)",
             ha="center", va="bottom", fontsize=8)
    fig.subplots_adjust(left=0.0, right=1.0, top=0.9, bottom=0.04, wspace=0.0, hspace=0.25)
    fig.savefig(path)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.strip().split("\n\n")[0])
    p.add_argument("--out", default=os.path.join(ROOT, "docs", "img"))
    args = p.parse_args()
    from animsup.analysis import geometry as g

    os.makedirs(args.out, exist_ok=True)
    plane, space = plane_examples(), space_examples()
    draw_plane(plane, os.path.join(args.out, "geometry_m2.png"))
    draw_space(space, os.path.join(args.out, "geometry_m3.png"))
    print("| weights | m | `shape` | `label()` | D_i |")
    print("|---|---|---|---|---|")
    for what, W in plane + space:
        geo = g.describe(W)
        D = ", ".join(sorted({f"{d:.3g}" for d in g.dimensionality(W)[list(geo.order)]}, reverse=True))
        print(f"| {what} | {W.shape[0]} | {geo.shape} | {geo.label()} | {D} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
