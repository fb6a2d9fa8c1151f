"""One declaration per operation: method, path, request and response models, service function.

The REST server builds its routes from these declarations and the HTTP client builds its
requests from the same ones, so the two can never drift apart.
"""

from modelwright.api.operation import Operation
from modelwright.api.operations import OPERATIONS

__all__ = ["OPERATIONS", "Operation"]
