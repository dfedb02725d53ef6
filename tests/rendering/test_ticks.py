"""Tick labels of the short log axes (animsup.rendering.draw.ticks.fit_log_ticks): a range inside
one 1-2-5 step (a test loss between 0.0125 and 0.017) still gets labelled ticks."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from animsup.rendering.draw.ticks import fit_log_ticks, mantissa_label  # noqa: E402


@pytest.mark.parametrize("lo, hi", [(0.0125, 0.017), (0.9, 1.8), (3.1e-4, 4.4e-4)])
def test_a_narrow_log_range_gets_at_least_two_labelled_ticks(lo, hi):
    fig, ax = plt.subplots()
    ax.set_yscale("log")
    ax.set_ylim(lo, hi)
    ticks = fit_log_ticks(ax.yaxis, lo, hi, 200, 10)
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    plt.close(fig)
    assert len(ticks) >= 2 and all(lo <= t <= hi for t in ticks)
    assert labels == [mantissa_label(t) for t in ticks] and len(set(labels)) == len(labels)


def test_a_range_with_decades_keeps_the_powers_of_ten():
    fig, ax = plt.subplots()
    ax.set_yscale("log")
    assert fit_log_ticks(ax.yaxis, 1e-4, 1e-1, 400, 10) == [1e-4, 1e-3, 1e-2, 1e-1]
    plt.close(fig)


def test_mantissa_labels():
    assert mantissa_label(0.014) == "1.4×10⁻²"
    assert mantissa_label(0.01) == "10⁻²"
    assert mantissa_label(0.0999) == "10⁻¹"   # two digits round up to the next power
    assert mantissa_label(250.0) == "2.5×10²"
