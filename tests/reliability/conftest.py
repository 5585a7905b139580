"""Fixtures of the reliability tests (the replica itself comes from tests/conftest.py)."""

from __future__ import annotations

import pytest

from tests.replica._handler import _Handler


@pytest.fixture(autouse=True)
def _replica_without_nagle(monkeypatch: pytest.MonkeyPatch) -> None:
    """TCP_NODELAY on the replica's connections while these tests run.

    The replica writes a response's headers and body in separate small writes; with Nagle's algorithm on,
    the body waits for the client's delayed ACK (~40 ms on Linux) on every error reply, which made the
    1,000-request leak test take minutes' worth of idle waits. The client under test is not involved:
    `socketserver.StreamRequestHandler.disable_nagle_algorithm` is the server's own switch.
    """
    monkeypatch.setattr(_Handler, "disable_nagle_algorithm", True)
