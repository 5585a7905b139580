"""Unit tests of `Hermes` that need no HTTP: construction, metadata, secrets, pickling, request building."""

from __future__ import annotations

import inspect
import pickle
import warnings

import pytest
from llama_index.core.base.llms.types import ChatMessage, ChatResponse, MessageRole
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.core.tools import FunctionTool
from pydantic import SecretStr

from hermes_gateway import get_dialect, lookup
from hermes_gateway._request import prepare_request
from llamaindex_hermes import DEFAULT_CONTEXT_WINDOW, Hermes

SECRET = "sk-hermes-unit-test-secret-0123456789"


def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return city


def test_is_a_function_calling_llm_and_builds_without_a_key() -> None:
    llm = Hermes()
    assert isinstance(llm, FunctionCallingLLM)
    assert llm.api_key is None
    assert llm.metadata.is_chat_model
    assert llm.metadata.is_function_calling_model
    assert llm.class_name() == "hermes_llm"


def test_unknown_gateway_is_a_clear_value_error() -> None:
    with pytest.raises(ValueError, match=r"unknown gateway 'openrouter'.*apipie"):  # the core's wording
        Hermes(gateway="openrouter")


@pytest.mark.parametrize(
    ("model", "gateway", "window"),
    [
        ("nous-hermes-2-mixtral-8x7b-dpo", "apipie", 32768),
        ("nous-hermes-llama2-13b", "apipie", 4096),
        ("openhermes-2.5-mistral-7b", "apipie", 4096),
        ("chronos-hermes-13b-v2", "apipie", 4096),
        ("nous-hermes-2-vision-7b", "apipie", 4096),
        ("NousResearch/Hermes-3-Llama-3.1-70B", "aimlapi", 131072),
        ("hermes-4-405b", "apipie", 131072),
    ],
)
def test_seed_models_report_their_real_context_windows(model: str, gateway: str, window: int) -> None:
    metadata = Hermes(model=model, gateway=gateway).metadata
    assert metadata.context_window == window
    assert metadata.model_name == model
    # room is left for the prompt: LlamaIndex packs context_window - num_output tokens of prompt
    assert 0 < metadata.num_output <= window // 4


def test_max_tokens_and_context_window_override_the_catalog() -> None:
    metadata = Hermes(model="nous-hermes-llama2-13b", max_tokens=300, context_window=2048).metadata
    assert (metadata.context_window, metadata.num_output) == (2048, 300)


def test_gateway_default_max_tokens_caps_num_output() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # retired on AI/ML API: tested below
        metadata = Hermes(model="nous-hermes-2-mixtral-8x7b-dpo", gateway="aimlapi").metadata
    assert metadata.num_output == 512  # AI/ML API answers at most 512 tokens unless max_tokens is sent


def test_unknown_model_warns_and_reports_a_conservative_window() -> None:
    with pytest.warns(UserWarning, match="not in the catalog"):
        llm = Hermes(model="hermes-9-experimental", gateway="openai", base_url="http://localhost:8000/v1")
    assert llm.metadata.context_window == DEFAULT_CONTEXT_WINDOW
    assert llm.metadata.context_window != 3900
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Hermes(model="hermes-9-experimental", context_window=65536).metadata.context_window == 65536


def test_deprecated_model_constructs_with_a_warning() -> None:
    with pytest.warns(UserWarning, match="retired"):
        llm = Hermes(model="NousResearch/Nous-Hermes-2-Mixtral-8x7B-DPO", gateway="aimlapi")
    assert llm.metadata.context_window == 32768


@pytest.mark.parametrize("key", [SECRET, "secret-as-plain-str-9876543210"])
def test_the_key_is_never_serialised(key: str) -> None:
    llm = Hermes(api_key=key, default_headers={"x-api-key": key})
    assert isinstance(llm.api_key, SecretStr)
    assert llm.api_key.get_secret_value() == key
    texts = [repr(llm), str(llm), llm.to_json(), str(llm.to_dict())]
    if hasattr(llm, "to_payload"):  # newer llama-index-core releases only
        texts.append(str(llm.to_payload()))
    for text in texts:
        assert key not in text
    assert "api_key" not in llm.to_dict()


def test_pickle_round_trip_keeps_settings_and_drops_the_client() -> None:
    llm = Hermes(model="hermes-4-70b", api_key=SECRET, temperature=0.3, tool_mode="hermes")
    client = llm._get_client()
    clone = pickle.loads(pickle.dumps(llm))
    assert llm._client is client  # pickling did not take the live object's client away
    assert clone._client is None
    assert (clone.model, clone.temperature, clone.tool_mode) == ("hermes-4-70b", 0.3, "hermes")
    assert clone.api_key is not None
    assert clone.api_key.get_secret_value() == SECRET


def test_one_lazily_created_client_per_object() -> None:
    llm = Hermes(api_key=SECRET)
    assert llm._client is None
    assert llm._get_client() is llm._get_client()
    llm.close()
    assert llm._client is None


def test_async_methods_are_real_async() -> None:
    llm = Hermes()
    for name in ("achat", "acomplete", "astream_chat", "astream_complete"):
        assert inspect.iscoroutinefunction(getattr(llm, name))


def test_prepare_chat_with_tools() -> None:
    llm = Hermes()
    history = [ChatMessage(role=MessageRole.SYSTEM, content="be brief")]
    prepared = llm._prepare_chat_with_tools(
        [FunctionTool.from_defaults(get_weather)],
        user_msg="weather in Rome?",
        chat_history=history,
        tool_required=True,
        allow_parallel_tool_calls=True,
    )
    assert len(history) == 1  # not mutated
    assert [m.content for m in prepared["messages"]] == ["be brief", "weather in Rome?"]
    [tool] = prepared["tools"]
    assert tool["type"] == "function"
    assert tool["function"]["name"] == "get_weather"
    assert "city" in tool["function"]["parameters"]["properties"]
    assert prepared["tool_choice"] == "required"
    assert prepared["parallel_tool_calls"] is True
    named = llm._prepare_chat_with_tools([FunctionTool.from_defaults(get_weather)], tool_choice="get_weather")
    assert named["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert llm._prepare_chat_with_tools([], user_msg="hi").keys() == {"messages"}


def test_request_building_routes_kwargs() -> None:
    llm = Hermes(model="hermes-3-llama-3.1-70b", temperature=0.2, additional_kwargs={"top_k": 40, "seed": 7})
    request = llm._build_request(
        [ChatMessage(role="user", content="hi")],
        {"max_tokens": 64, "extra_body": {"provider": "together"}, "tool_mode": "hermes"},
    )
    assert request["model"] == "hermes-3-llama-3.1-70b"
    assert request["messages"] == [{"role": "user", "content": "hi"}]
    assert (request["temperature"], request["max_tokens"], request["seed"]) == (0.2, 64, 7)
    assert request["extra_body"] == {"top_k": 40, "provider": "together"}
    assert "tool_mode" not in request
    assert "tool_mode" not in request["extra_body"]


def test_get_tool_calls_from_response_without_calls() -> None:
    llm = Hermes()
    response = ChatResponse(message=ChatMessage(role="assistant", content="no tools needed"))
    assert llm.get_tool_calls_from_response(response, error_on_no_tool_call=False) == []
    with pytest.raises(ValueError, match="at least one tool call"):
        llm.get_tool_calls_from_response(response)


JSON_SCHEMA_FORMAT = {
    "type": "json_schema",
    "json_schema": {
        "name": "Person",
        "schema": {"type": "object", "properties": {"name": {"type": "string"}}},
    },
}


@pytest.mark.parametrize(
    ("gateway", "model", "tool_mode", "as_prompt"),
    [
        ("apipie", "hermes-3-llama-3.1-70b", "auto", True),  # APIpie documents no response_format
        ("aimlapi", "hermes-3-llama-3.1-70b", "auto", False),
        # tool_mode="hermes" puts tools in the prompt; without tools JSON mode is the gateway's, as in native
        ("aimlapi", "hermes-3-llama-3.1-70b", "hermes", False),
        ("openai", "hermes-3-llama-3.1-70b", "native", False),
    ],
)
@pytest.mark.parametrize("response_format", [{"type": "json_object"}, JSON_SCHEMA_FORMAT])
def test_response_format_follows_the_dialect(
    gateway: str, model: str, tool_mode: str, as_prompt: bool, response_format: dict[str, object]
) -> None:
    llm = Hermes(model=model, gateway=gateway, base_url="http://localhost:8000/v1", tool_mode=tool_mode)  # type: ignore[arg-type]
    system = ChatMessage(role="system", content="Be brief.")
    messages = [system, ChatMessage(role="user", content="Who wrote Dune?")]
    # issue 12: the adapter passes response_format on; the core decides per route
    request = prepare_request(
        llm._build_request(messages, {"response_format": response_format}),
        dialect=get_dialect(gateway),
        info=lookup(model),
        tool_mode=tool_mode,  # type: ignore[arg-type]
    ).body
    if not as_prompt:
        assert request["response_format"] == response_format
        assert request["messages"][0] == {"role": "system", "content": "Be brief."}
        return
    assert "response_format" not in request
    first = request["messages"][0]
    assert first["role"] == "system"
    assert first["content"].startswith("You are a helpful assistant that answers in JSON")
    assert first["content"].endswith("\n\nBe brief.")  # the user's own system text kept after the schema
    assert len(request["messages"]) == 2
    if response_format["type"] == "json_schema":
        assert '"title": "Person"' in first["content"]
        assert '"name": {"type": "string"}' in first["content"]


def test_response_format_text_is_sent_unchanged() -> None:
    request = Hermes()._build_request(
        [ChatMessage(role="user", content="hi")], {"response_format": {"type": "text"}}
    )
    assert request["response_format"] == {"type": "text"}
    assert request["messages"] == [{"role": "user", "content": "hi"}]
