"""Shared fixtures: the replica servers, environment hygiene, and the vcr (pytest-recording) set-up.

- `replica` (function scope, backed by one session-wide `Replica`): `replica.apipie.base_url`,
  `replica["aimlapi"].enqueue(Fault.rate_limited(1), PASS)`, `replica.openai.requests`, `replica.reset()`.
  It is reset before and after every test that uses it.
- `vcr_config` / `vcr_cassette_dir`: used by pytest-recording for tests marked `@pytest.mark.vcr`; cassettes
  go to `cassettes/<replica|live>/<suite>/`, where suite is the module's `CASSETTE_SUITE`, else its file
  name without the `test_` prefix, folder not included
  (tests/test_cassettes_scrubbed.py → `cassettes_scrubbed`).
- Outside recording, the gateways' key and base-URL environment variables are removed for every test, so a
  developer's shell never leaks a key into a test or a cassette.
- A test module that imports a framework (or langchain-tests) which is not installed is not collected: the
  core alone (`pip install hermes-gateway`, no extra) runs the core's tests, and the lowest-versions run
  does without langchain-tests (`scripts/check_ranges.py lowest`).
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import cassette_support
from tests.replica import Replica

_FRAMEWORK_IMPORT = re.compile(
    r"^\s*(?:from|import)\s+"
    r"(langchain_core|langchain_tests|langchain|langgraph|llama_index|langchain_hermes|llamaindex_hermes)\b",
    re.MULTILINE,
)
_FRAMEWORK_PACKAGES = {
    "langchain_core": "langchain_core",
    "langchain_tests": "langchain_tests",
    "langchain": "langchain",
    "langgraph": "langgraph",
    "llama_index": "llama_index.core",
    "langchain_hermes": "langchain_core",
    "llamaindex_hermes": "llama_index.core",
}


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def pytest_ignore_collect(collection_path: Path, config: Any) -> bool | None:
    """Skip a test module whose framework is not installed (the core-only range check); None: collect."""
    if collection_path.suffix != ".py" or not collection_path.name.startswith("test_"):
        return None
    wanted = {m.group(1) for m in _FRAMEWORK_IMPORT.finditer(collection_path.read_text(encoding="utf-8"))}
    if all(_installed(_FRAMEWORK_PACKAGES[name]) for name in wanted):
        return None
    return True


def pytest_recording_configure(config: Any, vcr: Any) -> None:
    cassette_support.register(vcr)


@pytest.fixture(scope="session")
def replica_session() -> Iterator[Replica]:
    with Replica() as servers:
        yield servers


@pytest.fixture
def replica(replica_session: Replica) -> Iterator[Replica]:
    """The replica servers, freshly reset (request log, fault queue, stream shape)."""
    replica_session.reset()
    yield replica_session
    replica_session.reset()


@pytest.fixture(autouse=True)
def _gateway_env_hygiene(monkeypatch: pytest.MonkeyPatch) -> None:
    if cassette_support.record_target() is None:
        for name in cassette_support.GATEWAY_ENV_VARS:
            monkeypatch.delenv(name, raising=False)


@pytest.fixture
def vcr_config() -> dict[str, Any]:
    return cassette_support.vcr_config()


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    module = request.module
    suite = getattr(module, "CASSETTE_SUITE", None) or module.__name__.rsplit(".", 1)[-1].removeprefix(
        "test_"
    )
    return cassette_support.cassette_dir(str(suite))
