"""Tools for rule authors: the case runner, hypothesis strategies, invariants, a pytest plugin."""
