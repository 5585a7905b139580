"""Fixtures of the core tests: `driver` runs a test through the sync and the async client path."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["sync", "async"])
def driver(request: pytest.FixtureRequest) -> str:
    """ "sync" or "async": which half of GatewayClient a test drives (see `_drivers.py`)."""
    return str(request.param)
