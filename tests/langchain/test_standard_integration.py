"""langchain-tests' `ChatModelIntegrationTests` for ChatHermes, replayed from cassettes.

Three configurations, each the whole standard suite:
- APIpie, Hermes 3 70B with native `tools` (`tool_mode="native"`);
- AI/ML API, Hermes 4 70B (native tools per the catalog; reasoning in a separate field, no `[DONE]`);
- APIpie, Hermes 3 70B in prompt mode (`tool_mode="auto"`: the catalog lists no native tools on APIpie, so
  tools go into the Hermes `<tools>` system prompt and calls come back as `<tool_call>` text).

Every test replays `cassettes/replica/langchain/<Class>.<test>.yaml` (record mode none; no network). The
cassettes were recorded against the in-repo replica with
`python -m tests.record_cassettes --target replica tests/langchain/test_standard_integration.py`; the
same command with `--target live` and real keys records the live twins. `tests.cassette_support` gives the
base URL and key: the replica's while recording, the public gateway's (never contacted) while replaying —
replay matches on method, path and JSON body, not the host.

Capabilities that are off are off because the gateways do not offer them for these models: no PDF, audio or
video input on any Hermes model; image input only on nous-hermes-2-vision-7b (covered in
test_tools_and_media.py).
"""

from __future__ import annotations

import types
import uuid
from typing import Any

import pytest
from langchain_core.utils import function_calling
from langchain_tests.integration_tests import ChatModelIntegrationTests

from langchain_hermes import ChatHermes
from tests.cassette_support import gateway_api_key, gateway_base_url

pytestmark = pytest.mark.vcr
CASSETTE_SUITE = "langchain"


def _params(gateway: str, model: str, **extra: Any) -> dict[str, Any]:
    return {
        "model": model,
        "gateway": gateway,
        "base_url": gateway_base_url(gateway),
        "api_key": gateway_api_key(gateway),
        **extra,
    }


@pytest.fixture(autouse=True)
def _deterministic_example_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    """`tool_example_to_messages` (test_structured_few_shot_examples) names its example tool calls with
    uuid4, so each run would send a new request body and never match its cassette; number them instead."""
    counter = iter(range(1, 1_000_000))
    fake = types.SimpleNamespace(uuid4=lambda: uuid.UUID(int=next(counter)))
    monkeypatch.setattr(function_calling, "uuid", fake)


class _HermesIntegrationBase(ChatModelIntegrationTests):
    override_model = "hermes-3-llama-3.1-405b"

    @property
    def chat_model_class(self) -> type[ChatHermes]:
        return ChatHermes

    @property
    def enable_vcr_tests(self) -> bool:
        return True

    @property
    def has_tool_choice(self) -> bool:
        return True

    @property
    def supports_json_mode(self) -> bool:
        return True

    @property
    def supports_model_override(self) -> bool:
        return True

    @property
    def model_override_value(self) -> str:
        return self.override_model


class TestChatHermesApipie(_HermesIntegrationBase):
    @property
    def chat_model_params(self) -> dict[str, Any]:
        return _params("apipie", "hermes-3-llama-3.1-70b", tool_mode="native")


class TestChatHermesAimlapi(_HermesIntegrationBase):
    override_model = "hermes-3-llama-3.1-70b"

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return _params("aimlapi", "hermes-4-70b")


class TestChatHermesApipiePromptMode(_HermesIntegrationBase):
    @property
    def chat_model_params(self) -> dict[str, Any]:
        return _params("apipie", "hermes-3-llama-3.1-70b", tool_mode="auto")
