"""Pipelines: nodes over a data catalog, with per-environment configuration and caching.

``node``/``pipeline`` build the DAG; ``modelwright.runner`` runs it as a tracked run.
"""

from modelwright.pipelines.node import Node, node
from modelwright.pipelines.pipeline import Pipeline, pipeline

__all__ = ["Node", "Pipeline", "node", "pipeline"]
