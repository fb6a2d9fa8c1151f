"""Lineage: edges from datasets to runs to artifacts and models, and the queries over them."""
