"""The ``modelwright`` command line: a thin shell over the client (embedded or remote)."""

from modelwright.cli._app import app, main

__all__ = ["app", "main"]
