"""The analysis layer: geometry, events, feature dynamics, ranking, phase diagrams, local minima.

Numpy only: nothing here imports torch or matplotlib, so analysing a log is cheap.
"""
