# Run from the repository root: .venv/bin/python tests/data/c_log/make_fixtures.py
"""Write tests/data/c_log fixtures: a 3-feature, 2-hidden C log of 250 runs with blocks after
runs 99 and 199 (the C program's format), plus malformed/truncated/NaN variants."""
def fmt(v):
    return " 0 " if v == 0 else " %1.03f " % v
def block(tag, rows):
    out = [f"{tag}: ["]
    for r in rows:
        out.append("".join(fmt(v) for v in r))
    out.append("]")
    return out
W1 = [[0.5, -0.25, 0.0], [0.125, 0.75, -0.0]]
b1 = [[0.01, 0.0, -0.02]]
W2 = [[1.0, -0.5, 0.25], [-0.125, 0.875, -0.375]]
b2 = [[-0.05, 0.03, 0.0]]
lines = []
for r in range(250):
    lines += [f"run: {r}", "L: %1.04f" % (0.2 - 0.0004 * r)]
    if r == 99:
        lines += block("b", b1) + block("W", W1) + block("grad w", [[0.001, 0, 0], [0, 0, -0.002]]) + block("grad b", [[0, 0, 0]])
    if r == 199:
        lines += block("b", b2) + block("W", W2) + block("grad w", [[0.0, 0, 0], [0, 0, 0.0]]) + block("grad b", [[0.003, 0, 0]])
text = "\n".join(lines) + "\n"
open("tests/data/c_log/small.log", "w").write(text)
# -0.000 as the C program prints tiny negatives (already in W1 via -0.0? no: -0.0 == 0 prints " 0 ")
assert "-0.000" not in text
text_neg = text.replace(" 0.125 ", " -0.000 ", 1)
open("tests/data/c_log/negzero.log", "w").write(text_neg)
L = text.split("\n")
# malformed: a bad number inside W of the first group
i = L.index("W: [") + 1
bad = L.copy(); bad[i] = " 0.500  x.250  0 "
open("tests/data/c_log/malformed.log", "w").write("\n".join(bad))
# cut off in the middle of the second group's W block
j = [k for k, l in enumerate(L) if l == "W: ["][1] + 1
open("tests/data/c_log/truncated.log", "w").write("\n".join(L[: j + 1]) + "\n")
# cut mid-line
open("tests/data/c_log/cut_line.log", "w").write(text[: text.index("run: 150")] + "run: 150\nL: 0.1")
# diverges: loss nan at run 230
k = L.index("run: 230")
nan = L[: k + 1] + ["L: nan"] + L[k + 2 :]
open("tests/data/c_log/nan.log", "w").write("\n".join(nan))
