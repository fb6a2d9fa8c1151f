"""Garbage collection: reclaiming the stores' objects that no live record names."""
