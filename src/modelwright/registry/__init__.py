"""The model registry: flavors, signatures, versions, aliases, packaging."""
