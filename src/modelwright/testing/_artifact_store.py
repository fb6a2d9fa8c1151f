"""The conformance kit for artifact store backends: every built-in passes it in CI."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelwright.errors import ArtifactCorrupted, InvalidInput, NotFound
from modelwright.store.artifacts import ArtifactStore

__all__ = ["ARTIFACT_STORE_CHECKS", "check_artifact_store"]

EMPTY_DIGEST = hashlib.sha256(b"").hexdigest()

# Strings that must never be taken for a digest: wrong length, case or alphabet, prefixes,
# whitespace, and path tricks that would escape the store root if used as a path.
BAD_DIGESTS = (
    "",
    "abc",
    "a" * 63,
    "a" * 65,
    "A" * 64,
    "g" * 64,
    "sha256:" + "a" * 64,
    " " + "a" * 63,
    "a" * 64 + "\n",
    "../" + "a" * 61,
    "../../../../../../etc/passwd",
    "ab/" + "c" * 61,
)


@dataclass
class _Run:
    store: ArtifactStore
    tmp: Path
    corrupt: Callable[[str], None] | None
    large_size: int
    threads: int

    def scratch(self, name: str) -> Path:
        path = self.tmp / name
        path.mkdir()
        return path


def _expect(condition: bool, message: str) -> None:
    # Not `assert`: the kit must also check when Python runs with -O.
    if not condition:
        raise AssertionError(message)


def _raises(error: type[Exception], call: Callable[[], object], what: str) -> Exception:
    try:
        call()
    except error as exc:
        return exc
    except Exception as exc:
        raise AssertionError(
            f"{what} raised {type(exc).__name__} ({exc}), expected {error.__name__}"
        ) from exc
    raise AssertionError(f"{what} raised nothing, expected {error.__name__}")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _never_stored() -> str:
    return _sha(b"never stored " + os.urandom(16))


def check_round_trip(run: _Run) -> None:
    store, data = run.store, os.urandom(100_003)
    digest = store.put_bytes(data)
    _expect(digest == _sha(data), f"put_bytes returned {digest!r}, expected the sha256 of the data")
    _expect(store.exists(digest), "exists() is false right after put_bytes")
    _expect(store.size(digest) == len(data), f"size() is {store.size(digest)}, put {len(data)}")
    _expect(store.get_bytes(digest) == data, "get_bytes returned other bytes than were put")
    _expect(b"".join(store.iter_chunks(digest)) == data, "iter_chunks yields other bytes")
    store.verify(digest)
    dest = run.tmp / "round-trip" / "nested" / "out.bin"
    _expect(store.get_file(digest, dest) == dest, "get_file did not return the destination")
    _expect(dest.read_bytes() == data, "get_file wrote other bytes (parents must be created)")
    url = store.url_for(digest)
    _expect(isinstance(url, str) and bool(url), f"url_for returned {url!r}")
    _expect(store.url_for(store.put_bytes(b"other")) != url, "url_for is the same for two objects")


def check_dedup(run: _Run) -> None:
    store, data = run.store, os.urandom(300_007)
    path = run.scratch("dedup") / "data.bin"
    path.write_bytes(data)
    digests = {
        "put_bytes": store.put_bytes(data),
        "put_bytes again": store.put_bytes(data),
        "put_file": store.put_file(path),
        "put_stream(file)": store.put_stream(io.BytesIO(data)),
        "put_stream(chunks)": store.put_stream(
            data[i : i + 4099] for i in range(0, len(data), 4099)
        ),
    }
    _expect(
        set(digests.values()) == {_sha(data)},
        f"the same bytes got different digests: {digests}",
    )
    _expect(store.get_bytes(_sha(data)) == data, "content changed after being put again")


def check_empty_object(run: _Run) -> None:
    store = run.store
    path = run.scratch("empty") / "empty.bin"
    path.write_bytes(b"")
    for how, digest in (
        ("put_bytes", store.put_bytes(b"")),
        ("put_stream", store.put_stream(iter([]))),
        ("put_file", store.put_file(path)),
    ):
        _expect(digest == EMPTY_DIGEST, f"{how} of no bytes returned {digest!r}")
    _expect(store.size(EMPTY_DIGEST) == 0, "the empty object has a nonzero size")
    _expect(store.get_bytes(EMPTY_DIGEST) == b"", "the empty object reads back non-empty")
    store.verify(EMPTY_DIGEST)
    dest = path.with_name("out.bin")
    store.get_file(EMPTY_DIGEST, dest)
    _expect(dest.is_file() and dest.stat().st_size == 0, "get_file of the empty object")


def check_missing_object(run: _Run) -> None:
    store, digest = run.store, _never_stored()
    dest = run.scratch("missing") / "out.bin"
    _expect(not store.exists(digest), "exists() is true for a digest never stored")
    _expect(store.delete(digest) is False, "delete() of a missing object returned True")
    calls: dict[str, Callable[[], object]] = {
        "get_bytes": lambda: store.get_bytes(digest),
        "size": lambda: store.size(digest),
        "verify": lambda: store.verify(digest),
        "iter_chunks": lambda: list(store.iter_chunks(digest)),
        "get_file": lambda: store.get_file(digest, dest),
        "open": lambda: store.open(digest),
    }
    for name, call in calls.items():
        exc = _raises(NotFound, call, f"{name}() of a missing object")
        _expect(digest in str(exc), f"the NotFound of {name}() does not name the digest: {exc}")
    _expect(not dest.exists(), "get_file() of a missing object created the destination")


def check_invalid_digests(run: _Run) -> None:
    store, dest = run.store, run.scratch("invalid") / "out.bin"
    for bad in BAD_DIGESTS:
        for name, call in _digest_calls(store, bad, dest).items():
            _raises(InvalidInput, call, f"{name}({bad!r})")
    _expect(not dest.exists(), "get_file() with an invalid digest created the destination")


def _digest_calls(store: ArtifactStore, digest: str, dest: Path) -> dict[str, Callable[[], object]]:
    return {
        "exists": lambda: store.exists(digest),
        "size": lambda: store.size(digest),
        "get_bytes": lambda: store.get_bytes(digest),
        "get_file": lambda: store.get_file(digest, dest),
        "iter_chunks": lambda: list(store.iter_chunks(digest)),
        "verify": lambda: store.verify(digest),
        "delete": lambda: store.delete(digest),
        "url_for": lambda: store.url_for(digest),
        "open": lambda: store.open(digest),
        "local_path": lambda: store.local_path(digest),
        "missing": lambda: store.missing([digest]),
    }


def check_missing_digests(run: _Run) -> None:
    store = run.store
    stored = [store.put_bytes(os.urandom(1_000 + i)) for i in range(3)]
    absent = [_never_stored() for _ in range(150)]  # more than one batch of questions
    asked = [absent[0], stored[0], absent[0], *stored[1:], *absent[1:], stored[2]]
    got = store.missing(asked)
    _expect(got == absent, "missing() is not each absent digest once, in the order asked")
    _expect(store.missing([]) == [], "missing() of no digests is not empty")
    _expect(store.missing(iter(stored)) == [], "missing() of stored objects (an iterator)")


def check_open(run: _Run) -> None:
    store, data = run.store, os.urandom(70_001)
    digest = store.put_bytes(data)
    with store.open(digest) as f:
        _expect(f.read() == data, "open() reads other bytes than were put")
        f.seek(1_000)
        _expect(f.read(10) == data[1_000:1_010], "a range read after seek() gives other bytes")
    with store.open(store.put_bytes(b"")) as f:
        _expect(f.read() == b"", "open() of the empty object reads bytes")


def check_local_path(run: _Run) -> None:
    store, data = run.store, os.urandom(20_011)
    digest = store.put_bytes(data)
    path = store.local_path(digest)
    if path is None:
        # A store without local files says so for every object.
        _expect(store.local_path(_never_stored()) is None, "local_path() is None for one only")
        return
    _expect(isinstance(path, Path), f"local_path() returned {path!r}, not a Path")
    _expect(path.is_file() and path.read_bytes() == data, "local_path() is not the object's file")
    other = store.local_path(store.put_bytes(b"another object"))
    _expect(other is not None and other != path, "local_path() is the same for two objects")


def check_stream_sources(run: _Run) -> None:
    store, data = run.store, os.urandom(200_003)
    odd: list[bytes] = [data[:1], data[1:70_000], b"", data[70_000:]]
    for how, source in (("a binary file", io.BytesIO(data)), ("bytes chunks", iter(odd))):
        digest = store.put_stream(source)
        _expect(digest == _sha(data), f"put_stream of {how} returned {digest!r}")
    # Deliberately ill-typed: a text stream or str chunks must be refused, not mis-hashed.
    text_chunks: Any = ["text"]
    text_stream: Any = io.StringIO("text")
    _raises(InvalidInput, lambda: store.put_stream(text_chunks), "put_stream of str chunks")
    _raises(InvalidInput, lambda: store.put_stream(text_stream), "put_stream of a text stream")


def check_large_streamed_file(run: _Run) -> None:
    store = run.store
    path = run.scratch("large") / "large.bin"
    sha = hashlib.sha256()
    with path.open("wb") as f:
        for block in _random_blocks(run.large_size):
            sha.update(block)
            f.write(block)
    expected = sha.hexdigest()
    _expect(store.put_file(path) == expected, "put_file of a large file returned another digest")
    with path.open("rb") as f:
        _expect(store.put_stream(f) == expected, "put_stream of a large file: another digest")
    _expect(store.size(expected) == run.large_size, "size() of a large object is wrong")
    dest = path.with_name("out.bin")
    store.get_file(expected, dest)
    with dest.open("rb") as f:
        got = hashlib.file_digest(f, "sha256").hexdigest()
    _expect(got == expected, "get_file of a large object wrote other bytes")
    streamed = hashlib.sha256()
    for chunk in store.iter_chunks(expected):
        streamed.update(chunk)
    _expect(streamed.hexdigest() == expected, "iter_chunks of a large object yields other bytes")


def check_concurrent_puts(run: _Run) -> None:
    store, n = run.store, run.threads
    same = os.urandom(2 * 2**20 + 1)
    own = [os.urandom(100_000 + i) for i in range(n)]
    barrier = threading.Barrier(n)

    def put(i: int) -> tuple[str, str]:
        barrier.wait(timeout=60)
        first = store.put_bytes(same) if i % 2 else store.put_stream(io.BytesIO(same))
        return first, store.put_bytes(own[i])

    with ThreadPoolExecutor(n) as pool:
        results = list(pool.map(put, range(n)))
    _expect(
        {r[0] for r in results} == {_sha(same)},
        f"{n} threads putting the same bytes got digests {sorted({r[0] for r in results})}",
    )
    _expect(store.get_bytes(_sha(same)) == same, "bytes put concurrently read back differently")
    for i, (_, digest) in enumerate(results):
        _expect(store.get_bytes(digest) == own[i], f"thread {i}'s own object reads back wrong")


def check_delete(run: _Run) -> None:
    store, data = run.store, os.urandom(10_007)
    digest = store.put_bytes(data)
    _expect(store.delete(digest) is True, "delete() of a stored object returned False")
    _expect(not store.exists(digest), "exists() is true after delete()")
    _raises(NotFound, lambda: store.get_bytes(digest), "get_bytes() after delete()")
    _expect(store.delete(digest) is False, "a second delete() returned True")
    _expect(store.put_bytes(data) == digest, "put after delete returned another digest")
    _expect(store.get_bytes(digest) == data, "put after delete did not store the bytes again")


def check_list_objects(run: _Run) -> None:
    """Optional (what ``modelwright gc`` sweeps): a store with ``list_objects`` lists each
    object it holds, with its size and a time of last write, and no more once deleted."""
    lister = getattr(run.store, "list_objects", None)
    if lister is None:
        return
    store = run.store
    put = {store.put_bytes(os.urandom(1_000 + i)): 1_000 + i for i in range(3)}
    listed = {o.digest: o for o in lister()}
    for digest, size in put.items():
        _expect(digest in listed, f"list_objects() lacks a stored object {digest}")
        _expect(listed[digest].size == size, f"list_objects() gives {digest} a wrong size")
        _expect(listed[digest].modified > 0, f"list_objects() gives {digest} no time of write")
    gone = next(iter(put))
    store.delete(gone)
    _expect(all(o.digest != gone for o in lister()), "list_objects() lists a deleted object")


def check_get_file_is_atomic(run: _Run) -> None:
    store, data = run.store, os.urandom(50_001)
    folder = run.scratch("get-file")
    dest = folder / "model.bin"
    dest.write_bytes(b"previous")
    _raises(
        NotFound, lambda: store.get_file(_never_stored(), dest), "get_file() of a missing object"
    )
    _expect(dest.read_bytes() == b"previous", "a failed get_file() changed the destination")
    store.get_file(store.put_bytes(data), dest)
    _expect(dest.read_bytes() == data, "get_file() did not replace the destination")
    left = sorted(p.name for p in folder.iterdir())
    _expect(left == ["model.bin"], f"get_file() left files behind next to the destination: {left}")


def check_corruption_detected(run: _Run) -> None:
    if run.corrupt is None:
        return
    store, data = run.store, os.urandom(60_013)
    digest = store.put_bytes(data)
    run.corrupt(digest)
    folder = run.scratch("corrupt")
    calls: dict[str, Callable[[], object]] = {
        "get_bytes": lambda: store.get_bytes(digest),
        "verify": lambda: store.verify(digest),
        "iter_chunks": lambda: list(store.iter_chunks(digest)),
        "get_file": lambda: store.get_file(digest, folder / "out.bin"),
    }
    for name, call in calls.items():
        exc = _raises(ArtifactCorrupted, call, f"{name}() of a corrupted object")
        _expect(digest in str(exc), f"the error of {name}() does not name the digest: {exc}")
    left = sorted(p.name for p in folder.iterdir())
    _expect(left == [], f"get_file() of a corrupted object left files behind: {left}")
    _expect(store.delete(digest), "delete() of a corrupted object returned False")
    _expect(store.put_bytes(data) == digest, "storing the original again gave another digest")
    _expect(store.get_bytes(digest) == data, "delete and put did not repair a corrupted object")


def _random_blocks(total: int, block: int = 2**20) -> Iterator[bytes]:
    while total > 0:
        yield os.urandom(min(block, total))
        total -= block


ARTIFACT_STORE_CHECKS: dict[str, Callable[[_Run], None]] = {
    "round_trip": check_round_trip,
    "dedup": check_dedup,
    "empty_object": check_empty_object,
    "missing_object": check_missing_object,
    "invalid_digests": check_invalid_digests,
    "missing_digests": check_missing_digests,
    "open": check_open,
    "local_path": check_local_path,
    "stream_sources": check_stream_sources,
    "large_streamed_file": check_large_streamed_file,
    "concurrent_puts": check_concurrent_puts,
    "delete": check_delete,
    "list_objects": check_list_objects,
    "get_file_is_atomic": check_get_file_is_atomic,
    "corruption_detected": check_corruption_detected,
}


def check_artifact_store(
    store: ArtifactStore,
    *,
    corrupt: Callable[[str], None] | None = None,
    checks: list[str] | None = None,
    large_size: int = 24 * 2**20 + 12_345,
    threads: int = 8,
) -> list[str]:
    """Check ``store`` against the ``ArtifactStore`` contract; return the checks that ran.

    Raises ``AssertionError`` naming the check and what went wrong at the first failure. Run
    it against a scratch store: it writes random objects and deletes some of its own.

    ``corrupt(digest)`` must damage the stored bytes of that object in place (the kit cannot
    know how for an arbitrary backend); without it the corruption check is skipped and left
    out of the returned list, as is the listing check for a store without ``list_objects``
    (which garbage collection then leaves alone). ``checks`` picks names from
    ``ARTIFACT_STORE_CHECKS``.
    ``large_size`` should exceed the backend's multipart threshold so that path is covered.
    """
    names = list(ARTIFACT_STORE_CHECKS) if checks is None else checks
    unknown = sorted(set(names) - set(ARTIFACT_STORE_CHECKS))
    if unknown:
        raise ValueError(f"unknown checks {unknown}; known: {sorted(ARTIFACT_STORE_CHECKS)}")
    ran: list[str] = []
    with tempfile.TemporaryDirectory(prefix="mw-store-check-") as tmp:
        for name in names:
            if name == "corruption_detected" and corrupt is None:
                continue
            if name == "list_objects" and not hasattr(store, "list_objects"):
                continue  # optional: garbage collection leaves such a store alone
            run = _Run(store, Path(tmp) / name, corrupt, large_size, threads)
            run.tmp.mkdir()
            _run_one(name, run)
            ran.append(name)
    return ran


def _run_one(name: str, run: _Run) -> None:
    where = f"check_artifact_store[{name}] on {run.store!r}"
    try:
        ARTIFACT_STORE_CHECKS[name](run)
    except AssertionError as exc:
        raise AssertionError(f"{where}: {exc}") from exc
    except Exception as exc:
        raise AssertionError(f"{where}: unexpected {type(exc).__name__}: {exc}") from exc
