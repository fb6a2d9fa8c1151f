"""The REST server: routes derived from the operation declarations in ``modelwright.api``."""

from modelwright.server.app import create_app
from modelwright.server.limits import UploadQuota

__all__ = ["UploadQuota", "create_app"]
