"""Batch inference: a model version over an input dataset, chunked, parallel, resumable."""
