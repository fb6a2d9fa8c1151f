"""How ``modelwright server`` runs uvicorn; the tests' live server uses the same options."""

from __future__ import annotations

from typing import Any

__all__ = ["uvicorn_options"]


def uvicorn_options(*, host: str, port: int, log_level: str = "info") -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.run`` and ``uvicorn.Config``."""
    return {
        "host": host,
        "port": port,
        "log_level": log_level,
        # No "server: uvicorn" banner: it tells a scanner which exploits to try.
        "server_header": False,
        "date_header": True,
    }
