"""The REST server: routes derived from the operation declarations in ``modelwright.api``."""

from modelwright.server.app import create_app

__all__ = ["create_app"]
