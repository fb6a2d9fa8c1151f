"""Every declared operation names a service function that exists and takes its request."""

from __future__ import annotations

import inspect
import subprocess
import sys
import typing

import pytest

from modelwright.api import OPERATIONS
from modelwright.core.context import Context


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
def test_handler_resolves_and_takes_the_request(op: typing.Any) -> None:
    fn = op.handler_function
    assert callable(fn), op.handler
    hints = typing.get_type_hints(fn)
    ctx_param, req_param = list(inspect.signature(fn).parameters)[:2]
    assert hints[ctx_param] is Context
    # The handler may accept a base class of the declared request, never an unrelated type.
    assert issubclass(op.request, hints[req_param]), (op.name, hints[req_param], op.request)


def test_declaring_operations_imports_no_service() -> None:
    # The HTTP client and a cold model load import the declarations; services load on use.
    code = (
        "import sys, modelwright.api;"
        "print(sorted(m for m in sys.modules if m.endswith('.service') and 'modelwright' in m))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
