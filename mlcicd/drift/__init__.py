"""Drift: simulate it, detect it, and act on it."""
