"""Experiment tracking: experiments, runs, params, metrics, tags, artifacts and snapshots."""
