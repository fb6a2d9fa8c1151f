"""Integer fields no wider than the database columns they are stored in or compared with.

Python's integers have no bound, the databases' do: a value past a column's range fails in
the driver (SQLite cannot bind it at all; PostgreSQL refuses it even in a comparison), which
would surface as a server error. Request models use these types instead, so such a value is
a 400 that names the field, and the OpenAPI document states the range.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

__all__ = [
    "INT32_MAX",
    "INT32_MIN",
    "INT64_MAX",
    "INT64_MIN",
    "ByteSize",
    "DbInt32",
    "DbInt64",
    "VersionNumber",
]

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1

# BigInteger columns: metric steps and timestamps, object sizes.
DbInt64 = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]
# Integer columns: ids and version numbers (32 bits on PostgreSQL).
DbInt32 = Annotated[int, Field(ge=INT32_MIN, le=INT32_MAX)]
# A field's own ``Field(ge=...)`` does not narrow these types (pydantic keeps the type's
# bounds), so the narrower ranges are types of their own.
VersionNumber = Annotated[int, Field(ge=1, le=INT32_MAX)]
ByteSize = Annotated[int, Field(ge=0, le=INT64_MAX)]
