"""Fixtures of the reliability tests (the replica itself comes from tests/conftest.py)."""

from __future__ import annotations
