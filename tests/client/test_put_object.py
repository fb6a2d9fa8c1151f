"""What either transport refuses before any byte moves."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelwright.client import Client
from modelwright.errors import InvalidInput
from modelwright.objects.models import ObjectScope


def test_a_path_that_names_no_file_is_refused_by_both_transports(
    client: Client, tmp_path: Path
) -> None:
    for source in (tmp_path / "missing.bin", tmp_path):
        with pytest.raises(InvalidInput, match="is not a file") as caught:
            client.transport.put_object(ObjectScope.artifacts(), source)
        assert caught.value.details == {"path": str(source)}


def test_a_file_and_bytes_are_stored_under_their_digest(client: Client, tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(b"some bytes")
    digest = client.transport.put_object(ObjectScope.artifacts(), path)
    assert client.transport.put_object(ObjectScope.artifacts(), b"some bytes") == digest
    assert client.transport.get_object(ObjectScope.artifacts(), digest) == b"some bytes"
