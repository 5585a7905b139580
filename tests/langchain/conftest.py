"""Fixtures for the ChatHermes tests: `make_llm` builds models pointed at the replica and closes them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from langchain_hermes import ChatHermes
from tests.langchain._support import SECRET
from tests.replica import Replica


@pytest.fixture
def make_llm(replica: Replica) -> Iterator[Any]:
    made: list[ChatHermes] = []

    def make(gateway: Any = "apipie", model: str = "hermes-3-llama-3.1-70b", **kw: Any) -> ChatHermes:
        base_url = replica.base_url(gateway)
        llm = ChatHermes(model=model, gateway=gateway, base_url=base_url, api_key=SecretStr(SECRET), **kw)
        made.append(llm)
        return llm

    yield make
    for llm in made:
        llm.close()
