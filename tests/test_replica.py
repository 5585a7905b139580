"""The replica speaks each dialect with its documented quirks, its brain behaves, and every fault works.

Plain httpx only: these tests check the replica itself, independently of hermes_gateway's client.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest

from tests.replica import PASS, Fault, Replica, ReplicaServer, http_date

KEY = {"Authorization": "Bearer test-key"}
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the weather at a location.",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string"}},
            "required": ["location"],
        },
    },
}
MAGIC = {
    "type": "function",
    "function": {
        "name": "magic_function",
        "description": "Apply a magic function to an input.",
        "parameters": {
            "type": "object",
            "properties": {"input": {"type": "integer", "exclusiveMinimum": -1000, "exclusiveMaximum": 1000}},
            "required": ["input"],
        },
    },
}
JOKE_SCHEMA = {
    "type": "object",
    "properties": {
        "setup": {"type": "string", "description": "question to set up a joke"},
        "punchline": {"type": "string", "description": "answer to resolve the joke"},
    },
    "required": ["setup", "punchline"],
}


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def post(
    server: ReplicaServer, body: dict[str, Any], headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.post(
        server.base_url + "/chat/completions",
        json=body,
        headers=KEY if headers is None else headers,
        timeout=10,
    )


def stream_raw(
    server: ReplicaServer, body: dict[str, Any], headers: dict[str, str] | None = None
) -> tuple[httpx.Response, bytes]:
    url = server.base_url + "/chat/completions"
    with httpx.stream("POST", url, json={**body, "stream": True}, headers=headers or KEY, timeout=10) as resp:
        return resp, resp.read()


def read_stream_lines(
    server: ReplicaServer, body: dict[str, Any], seen: list[str], timeout: httpx.Timeout | None = None
) -> None:
    """Stream `body`, appending each line to `seen` as it arrives (so a test can see how far it got)."""
    url = server.base_url + "/chat/completions"
    with httpx.stream(
        "POST", url, json={**body, "stream": True}, headers=KEY, timeout=timeout or httpx.Timeout(10.0)
    ) as resp:
        seen.extend(resp.iter_lines())


def drain(sock: socket.socket) -> None:
    while sock.recv(1024):
        pass


def events(raw: bytes) -> list[str]:
    """The SSE events of a body (CRLF or LF), comments included, as text."""
    text = raw.decode().replace("\r\n", "\n")
    return [e for e in text.split("\n\n") if e]


def data_chunks(raw: bytes) -> list[Any]:
    out: list[Any] = []
    for event in events(raw):
        if event.startswith("data: "):
            payload = event[len("data: ") :]
            out.append(payload if payload == "[DONE]" else json.loads(payload))
    return out


def joined_content(chunks: list[Any]) -> str:
    return "".join(
        c["choices"][0]["delta"].get("content") or ""
        for c in chunks
        if isinstance(c, dict) and c.get("choices")
    )


# ---- dialect quirks ---------------------------------------------------------------------------------
def test_apipie_completion_shape_and_cost_alternating(replica: Replica) -> None:
    body = {"model": "hermes-3-llama-3-1-70b", "messages": user("Hello")}
    first, second = post(replica.apipie, body).json(), post(replica.apipie, body).json()
    assert first["provider"] == "openrouter"
    assert first["model"] == "nousresearch/hermes-3-llama-3.1-70b"  # the upstream route, not the id sent
    assert first["system_fingerprint"].startswith("fp_")
    usage = first["usage"]
    assert {"prompt_characters", "response_characters", "cost", "latency_ms"} <= set(usage)
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["response_characters"] == len(first["choices"][0]["message"]["content"])
    assert isinstance(first["usage"]["cost"], float)
    assert isinstance(second["usage"]["cost"], str)
    assert float(second["usage"]["cost"]) == pytest.approx(first["usage"]["cost"])


def test_apipie_stream_quirks(replica: Replica) -> None:
    resp, raw = stream_raw(replica.apipie, {"model": "hermes-3-llama-3-1-70b", "messages": user("Hello")})
    assert resp.headers["content-type"].startswith("text/event-stream")
    assert resp.headers["transfer-encoding"] == "chunked"
    evs = events(raw)
    assert evs[0] == ": OPENROUTER PROCESSING"
    assert "\r\n" not in raw.decode()
    chunks = data_chunks(raw)
    assert chunks[-1] == "[DONE]"
    usage_chunk, finish_chunk, content_chunks = chunks[-2], chunks[-3], chunks[:-3]
    assert [c["choices"][0]["index"] for c in content_chunks] == list(range(len(content_chunks)))
    assert len(content_chunks) > 5
    assert finish_chunk["choices"][0]["index"] == 0
    assert finish_chunk["choices"][0]["finish_reason"] == "stop"
    assert all(c["system_fingerprint"] == "null" for c in chunks[:-1])
    assert all(c["provider"] == "openrouter" for c in content_chunks)
    assert usage_chunk["choices"] == []
    assert "provider" not in usage_chunk
    assert isinstance(usage_chunk["usage"]["cost"], str)
    non_stream = post(replica.apipie, {"model": "hermes-3-llama-3-1-70b", "messages": user("Hello")}).json()
    assert joined_content(chunks) == non_stream["choices"][0]["message"]["content"]
    assert usage_chunk["usage"]["completion_tokens"] == non_stream["usage"]["completion_tokens"]


def test_aimlapi_completion_shape(replica: Replica) -> None:
    data = post(
        replica.aimlapi, {"model": "nousresearch/hermes-3-llama-3.1-70b", "messages": user("Hi")}
    ).json()
    assert re.fullmatch(r"[A-Za-z0-9]{7}-[A-Za-z0-9]{5}-[0-9a-f]{16}", data["id"])
    message = data["choices"][0]["message"]
    assert message["tool_calls"] == []
    assert data["choices"][0]["finish_reason"] == "eos"
    assert data["meta"]["usage"]["usd_spent"] > 0
    assert data["model"] == "nousresearch/hermes-3-llama-3.1-70b"
    h4 = post(replica.aimlapi, {"model": "nousresearch/hermes-4-405b", "messages": user("Hi")}).json()
    assert h4["choices"][0]["finish_reason"] == "stop"
    assert "<think>" not in h4["choices"][0]["message"]["content"]
    assert h4["choices"][0]["message"]["reasoning"].startswith("The user asked")


def test_aimlapi_stream_quirks(replica: Replica) -> None:
    body = {"model": "nousresearch/hermes-3-llama-3.1-70b", "messages": user("Tell me about tides")}
    _, raw = stream_raw(replica.aimlapi, body)
    assert b"\r\n\r\n" in raw
    assert raw.count(b"\n") == raw.count(b"\r\n")
    chunks = data_chunks(raw)
    assert chunks[-1] != "[DONE]"  # this model's stream just ends
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["meta"]["usage"]["usd_spent"] > 0
    assert chunks[-2]["choices"][0]["finish_reason"] == "eos"
    with_usage = [c["usage"]["completion_tokens"] for c in chunks if "usage" in c]
    assert len(with_usage) == 4  # two content chunks, the finish chunk, the usage chunk
    assert with_usage == sorted(with_usage)
    assert with_usage[-1] == with_usage[-2]
    _, raw405 = stream_raw(replica.aimlapi, {**body, "model": "nousresearch/hermes-4-405b"})
    chunks405 = data_chunks(raw405)
    assert chunks405[-1] == "[DONE]"
    reasoning = "".join(c["choices"][0]["delta"].get("reasoning", "") for c in chunks405[:-1] if c["choices"])
    assert reasoning.startswith("The user asked")
    assert "<think>" not in joined_content(chunks405)


def test_aimlapi_tool_call_deltas_omit_index_after_first(replica: Replica) -> None:
    body = {
        "model": "nousresearch/hermes-3-llama-3.1-405b",
        "messages": user("Weather in Paris?"),
        "tools": [WEATHER],
    }
    _, raw = stream_raw(replica.aimlapi, body)
    fragments = [
        tc
        for c in data_chunks(raw)
        if isinstance(c, dict) and c["choices"]
        for tc in c["choices"][0]["delta"].get("tool_calls", [])
    ]
    assert fragments[0]["id"].startswith("call_")
    assert fragments[0]["function"]["name"] == "get_weather"
    assert any("index" not in f for f in fragments[1:])
    assert any("function" not in f for f in fragments[1:])
    assert all("id" not in f for f in fragments[1:])
    args = "".join(f.get("function", {}).get("arguments", "") for f in fragments)
    assert json.loads(args) == {"location": "Paris"}


def test_openai_dialect_usage_only_on_request(replica: Replica) -> None:
    body = {"model": "NousResearch/Hermes-3-Llama-3.1-8B", "messages": user("Hello")}
    _, raw = stream_raw(replica.openai, body)
    chunks = data_chunks(raw)
    assert chunks[-1] == "[DONE]"
    assert not any("usage" in c for c in chunks[:-1])
    _, raw = stream_raw(replica.openai, {**body, "stream_options": {"include_usage": True}})
    chunks = data_chunks(raw)
    assert chunks[-2]["choices"] == []
    assert chunks[-2]["usage"]["total_tokens"] > 0


@pytest.mark.parametrize("dialect", ["apipie", "aimlapi", "openai"])
def test_missing_key_is_401_in_dialect_shape(replica: Replica, dialect: str) -> None:
    model = {"apipie": "hermes-3-llama-3-1-70b", "aimlapi": "nousresearch/hermes-4-70b"}.get(
        dialect, "hermes3:8b"
    )
    resp = post(replica[dialect], {"model": model, "messages": user("hi")}, headers={})
    assert resp.status_code == 401
    data = resp.json()
    if dialect == "apipie":
        assert data["error"]["code"] == "invalid_api_key"
    elif dialect == "aimlapi":
        assert data["statusCode"] == 401
        assert data["message"].startswith("This request requires a valid API key")
        assert {"path", "requestId", "timestamp"} <= set(data)
    else:
        assert data["object"] == "error"
        assert data["code"] == 401
    assert (
        post(
            replica[dialect],
            {"model": model, "messages": user("hi")},
            {"Authorization": "Basic dXNlcjpwdw=="},
        ).status_code
        == 401
    )


def test_apipie_accepts_x_api_key(replica: Replica) -> None:
    resp = post(replica.apipie, {"model": "hermes-4-405b", "messages": user("hi")}, {"x-api-key": "k"})
    assert resp.status_code == 200


def test_models_endpoints(replica: Replica) -> None:
    apipie = httpx.get(replica.apipie.base_url + "/models").json()["data"]
    row = next(r for r in apipie if r["id"] == "hermes-3-llama-3-1-70b")
    assert row["enabled"] == 1
    assert row["available"] == 1
    assert isinstance(row["input_cost"], str)
    assert float(row["input_cost"]) > 0
    assert any(float(r["input_cost"]) < 0 for r in apipie)  # the noisy entry
    vision = httpx.get(replica.apipie.base_url + "/models", params={"type": "vision"}).json()["data"]
    assert [r["id"] for r in vision] == ["nous-hermes-2-vision-7b"]
    detailed = httpx.get(replica.apipie.base_url + "/models/detailed").json()["data"]
    assert "confirmed" in detailed[0]["pricing"]

    url = replica.aimlapi.base_url + "/models"
    plain = httpx.get(url)
    listing = plain.json()
    assert listing["object"] == "list"
    ids = [m["id"] for m in listing["data"]]
    assert "nousresearch/hermes-4-405b" in ids
    assert "NousResearch/Nous-Hermes-2-Mixtral-8x7B-DPO" not in ids
    entry = listing["data"][0]
    assert entry["type"] == "openai/chat-completions"
    assert entry["info"]["contextLength"] == 131072
    assert "pricing" not in entry
    full = httpx.get(url, params={"include": "all"})
    assert {"pricing", "modalities", "capabilities"} <= set(full.json()["data"][0])
    assert full.headers["etag"] != plain.headers["etag"]
    cached = httpx.get(url, params={"include": "all"}, headers={"If-None-Match": full.headers["etag"]})
    assert cached.status_code == 304
    assert cached.content == b""
    one = httpx.get(replica.aimlapi.root_url + "/model/nousresearch/hermes-4-70b").json()
    assert one["id"] == "nousresearch/hermes-4-70b"
    assert "tools" in one["capabilities"]

    vllm = httpx.get(replica.openai.base_url + "/models").json()
    assert vllm["object"] == "list"
    assert vllm["data"][0]["object"] == "model"


def test_model_refusals(replica: Replica) -> None:
    gone = post(
        replica.aimlapi, {"model": "NousResearch/Nous-Hermes-2-Mixtral-8x7B-DPO", "messages": user("hi")}
    )
    assert gone.status_code == 404
    assert "no longer supported" in gone.json()["message"]
    no_tools = post(
        replica.apipie,
        {"model": "nous-hermes-2-mixtral-8x7b-dpo", "messages": user("hi"), "tools": [WEATHER]},
    )
    assert no_tools.status_code == 405
    assert "Tool calling is not supported for model" in no_tools.json()["error"]["message"]
    unknown = post(replica.apipie, {"model": "hermes-9000", "messages": user("hi")})
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "model_not_found"
    bad = post(replica.aimlapi, {"model": "nousresearch/hermes-4-70b", "messages": user("hi"), "seed": 0})
    assert bad.status_code == 400
    assert bad.json()["message"] == "Body validation error!"
    empty = post(replica.apipie, {"model": "hermes-4-70b", "messages": []})
    assert empty.status_code == 400
    assert "error" in empty.json()


IMAGE = [
    {"type": "text", "text": "Give a concise description of this image."},
    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
]


def test_images_only_on_the_vision_model(replica: Replica) -> None:
    ok = post(
        replica.apipie, {"model": "nous-hermes-2-vision-7b", "messages": [{"role": "user", "content": IMAGE}]}
    )
    assert ok.status_code == 200
    assert "image" in ok.json()["choices"][0]["message"]["content"]
    refused = post(
        replica.apipie, {"model": "hermes-4-405b", "messages": [{"role": "user", "content": IMAGE}]}
    )
    assert refused.status_code == 400
    assert "image" in refused.json()["error"]["message"]


def test_apipie_comma_separated_models_answer_an_array(replica: Replica) -> None:
    data = post(
        replica.apipie, {"model": "hermes-4-70b,hermes-3-llama-3-1-70b", "messages": user("hi")}
    ).json()
    assert isinstance(data, list)
    assert [d["model"] for d in data] == [
        "nousresearch/hermes-4-70b",
        "nousresearch/hermes-3-llama-3.1-70b",
    ]


# ---- the brain --------------------------------------------------------------------------------------
def message_of(resp: httpx.Response) -> dict[str, Any]:
    assert resp.status_code == 200, resp.text
    msg: dict[str, Any] = resp.json()["choices"][0]["message"]
    return msg


def calls_of(msg: dict[str, Any]) -> list[tuple[str, Any]]:
    return [
        (c["function"]["name"], json.loads(c["function"]["arguments"])) for c in msg.get("tool_calls") or []
    ]


def test_tool_calls_native(replica: Replica) -> None:
    model = "hermes-3-llama-3-1-70b"
    query = "What is the value of magic_function(3)? Use the tool."
    forced = post(
        replica.apipie, {"model": model, "messages": user(query), "tools": [MAGIC], "tool_choice": "required"}
    )
    assert calls_of(message_of(forced)) == [("magic_function", {"input": 3})]
    assert forced.json()["choices"][0]["finish_reason"] == "tool_calls"
    named = {"type": "function", "function": {"name": "magic_function"}}
    hello = post(
        replica.apipie,
        {"model": model, "messages": user("Hello!"), "tools": [WEATHER, MAGIC], "tool_choice": named},
    )
    assert calls_of(message_of(hello))[0][0] == "magic_function"
    auto = post(
        replica.apipie,
        {
            "model": model,
            "messages": user("What is the weather in San Francisco, CA?"),
            "tools": [MAGIC, WEATHER],
        },
    )
    assert calls_of(message_of(auto)) == [("get_weather", {"location": "San Francisco, CA"})]
    chat = post(replica.apipie, {"model": model, "messages": user("Hello!"), "tools": [WEATHER]})
    assert calls_of(message_of(chat)) == []
    assert message_of(chat)["content"]
    none = post(
        replica.apipie,
        {"model": model, "messages": user("Weather in Paris?"), "tools": [WEATHER], "tool_choice": "none"},
    )
    assert calls_of(message_of(none)) == []


def test_tool_arguments_from_schema(replica: Replica) -> None:
    customer = {
        "type": "function",
        "function": {
            "name": "unicode_customer",
            "description": "Tool for creating a customer with Unicode name.",
            "parameters": {
                "type": "object",
                "properties": {"customer_name": {"type": "string"}, "description": {"type": "string"}},
                "required": ["customer_name", "description"],
            },
        },
    }
    text = "Create a customer named '你好啊集团' (Hello Group) - a Chinese technology company"
    resp = post(
        replica.apipie,
        {"model": "hermes-4-405b", "messages": user(text), "tools": [customer], "tool_choice": "required"},
    )
    assert "你好啊集团" in resp.text  # not \u-escaped on the wire
    assert calls_of(message_of(resp))[0][1]["customer_name"] == "你好啊集团"

    booking = {
        "type": "function",
        "function": {
            "name": "book_trip",
            "description": "Book a trip.",
            "parameters": {
                "$defs": {
                    "Traveller": {
                        "type": "object",
                        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
                        "required": ["name", "age"],
                    }
                },
                "type": "object",
                "properties": {
                    "destination": {"type": "string"},
                    "nights": {"type": "integer", "minimum": 1},
                    "cabin": {"enum": ["economy", "business"]},
                    "refundable": {"type": "boolean"},
                    "traveller": {"$ref": "#/$defs/Traveller"},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "budget": {"anyOf": [{"type": "number"}, {"type": "null"}]},
                },
                "required": ["destination", "nights", "cabin", "refundable", "traveller", "tags", "budget"],
            },
        },
    }
    text = "Book 4 nights in Lisbon, business class, refundable, for 'Ana' aged 31 with a budget of 1200.5"
    resp = post(
        replica.apipie,
        {"model": "hermes-4-405b", "messages": user(text), "tools": [booking], "tool_choice": "required"},
    )
    args = calls_of(message_of(resp))[0][1]
    assert args["destination"] == "Lisbon"
    assert args["nights"] == 4
    assert args["cabin"] == "business"
    assert args["refundable"] is True
    assert args["traveller"] == {"name": "Ana", "age": 31}
    assert isinstance(args["tags"], list)
    assert args["tags"]
    assert args["budget"] == 1200.5

    style = {
        "type": "function",
        "function": {
            "name": "greeting_generator",
            "description": "Generate a greeting in a particular style of speaking.",
            "parameters": {
                "type": "object",
                "properties": {"answer_style": {"type": "string"}},
                "required": ["answer_style"],
            },
        },
    }
    resp = post(
        replica.apipie,
        {
            "model": "hermes-4-405b",
            "messages": user("Using the tool, generate a Pirate greeting."),
            "tools": [style],
            "tool_choice": "required",
        },
    )
    assert calls_of(message_of(resp))[0][1] == {"answer_style": "Pirate"}

    no_args = {
        "type": "function",
        "function": {
            "name": "magic_function_no_args",
            "description": "Calculate a magic function.",
            "parameters": {"type": "object", "properties": {}},
        },
    }
    query = "What is the value of magic_function_no_args()? Use the tool."
    resp = post(replica.apipie, {"model": "hermes-4-405b", "messages": user(query), "tools": [no_args]})
    assert calls_of(message_of(resp)) == [("magic_function_no_args", {})]


def test_parallel_calls_one_per_clause_or_place(replica: Replica) -> None:
    text = "What is the weather in Paris? And what is the weather in London?"
    resp = post(
        replica.apipie, {"model": "hermes-3-llama-3-1-405b", "messages": user(text), "tools": [WEATHER]}
    )
    assert calls_of(message_of(resp)) == [
        ("get_weather", {"location": "Paris"}),
        ("get_weather", {"location": "London"}),
    ]
    single = post(
        replica.apipie,
        {
            "model": "hermes-3-llama-3-1-405b",
            "messages": user(text),
            "tools": [WEATHER],
            "parallel_tool_calls": False,
        },
    )
    assert len(calls_of(message_of(single))) == 1


def test_tool_result_last_gives_text_that_uses_it(replica: Replica) -> None:
    messages = [
        *user("What is the weather in San Francisco, CA?"),
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "abc123",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"location": "San Francisco, CA"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "abc123", "content": "It's sunny."},
    ]
    msg = message_of(
        post(
            replica.aimlapi,
            {"model": "nousresearch/hermes-3-llama-3.1-405b", "messages": messages, "tools": [WEATHER]},
        )
    )
    assert msg["tool_calls"] == []
    assert "get_weather" in msg["content"]
    assert "It's sunny." in msg["content"]


def test_hermes_prompt_mode(replica: Replica) -> None:
    system = (
        "You are a function calling AI model. You are provided with function signatures within "
        f"<tools></tools> XML tags. Here are the available tools: <tools> {json.dumps(WEATHER)} </tools> "
        "For each function call return a json object with function name and arguments within "
        "<tool_call></tool_call> XML tags."
    )
    messages = [{"role": "system", "content": system}, *user("What's the weather in Tokyo?")]
    msg = message_of(post(replica.apipie, {"model": "nous-hermes-2-mixtral-8x7b-dpo", "messages": messages}))
    block = re.fullmatch(r"<tool_call>\n(.*)\n</tool_call>", msg["content"], re.S)
    assert block is not None
    assert json.loads(block.group(1)) == {
        "name": "get_weather",
        "arguments": {"location": "Tokyo"},
    }
    assert "tool_calls" not in msg
    history = [
        *messages,
        {"role": "assistant", "content": msg["content"]},
        {
            "role": "user",
            "content": '<tool_response>\n{"name": "get_weather", "content": "Rainy, 12 C"}\n</tool_response>',
        },
    ]
    answer = message_of(
        post(replica.apipie, {"model": "nous-hermes-2-mixtral-8x7b-dpo", "messages": history})
    )
    assert "Rainy, 12 C" in answer["content"]
    assert "<tool_call>" not in answer["content"]
    forced = [
        {"role": "system", "content": system + " You must call the function get_weather."},
        *user("Hello"),
    ]
    assert (
        "<tool_call>"
        in message_of(post(replica.apipie, {"model": "openhermes-2.5-mistral-7b", "messages": forced}))[
            "content"
        ]
    )


def test_prompt_mode_tool_role_results_are_parsed(replica: Replica) -> None:
    """Prompt-mode results in a "tool" message are read from the JSON in `<tool_response>`, tags dropped."""
    system = f"Here are the available tools: <tools> {json.dumps(WEATHER)} </tools>"
    call = '<tool_call>\n{"name": "get_weather", "arguments": {"location": "Tokyo"}}\n</tool_call>'
    history = [
        {"role": "system", "content": system},
        *user("What's the weather in Tokyo and in Oslo?"),
        {"role": "assistant", "content": call},
        {
            "role": "tool",
            "content": '<tool_response>\n{"name": "get_weather", "content": "Rainy, 12 C"}\n</tool_response>',
        },
        {
            "role": "tool",
            "content": "<tool_response>\n"
            + json.dumps({"name": "get_weather", "content": {"sky": "clear", "temp_c": 3}})
            + "\n</tool_response>\n<tool_response>\nnot json\n</tool_response>",
        },
    ]
    body = {"model": "nous-hermes-2-mixtral-8x7b-dpo", "messages": history}
    answer = message_of(post(replica.apipie, body))["content"]
    assert "<tool_response>" not in answer
    assert "</tool_response>" not in answer
    assert '"name"' not in answer
    assert "The get_weather tool returned Rainy, 12 C." in answer
    assert 'The get_weather tool returned {"sky": "clear", "temp_c": 3}.' in answer
    assert answer.endswith("So the answer is not json.")
    plain = [*history[:3], {"role": "tool", "tool_call_id": "x", "name": "get_weather", "content": "Sunny"}]
    answer = message_of(post(replica.apipie, {**body, "messages": plain}))["content"]
    assert "The get_weather tool returned Sunny." in answer


def test_quirk_models_on_apipie(replica: Replica) -> None:
    body = {"model": "hermes-4-70b", "messages": user("What is the weather in Oslo?"), "tools": [WEATHER]}
    resp = post(replica.apipie, body)
    msg = message_of(resp)
    assert "tool_calls" not in msg
    assert resp.json()["choices"][0]["finish_reason"] == "stop"
    assert msg["content"].startswith("<think>\n")
    assert "</think>\n<tool_call>\n" in msg["content"]
    _, raw = stream_raw(replica.apipie, body)
    streamed = joined_content(data_chunks(raw)[:-1])
    assert streamed == msg["content"]
    assert any(
        c["choices"] and c["choices"][0]["delta"].get("content") == "<" for c in data_chunks(raw)[:-1]
    )  # tags split
    native = message_of(post(replica.apipie, {**body, "model": "hermes-3-llama-3-1-70b"}))
    assert calls_of(native) == [("get_weather", {"location": "Oslo"})]


def test_json_modes(replica: Replica) -> None:
    fmt = {"type": "json_schema", "json_schema": {"name": "Joke", "schema": JOKE_SCHEMA}}
    msg = message_of(
        post(
            replica.aimlapi,
            {
                "model": "nousresearch/hermes-3-llama-3.1-405b",
                "messages": user("Tell me a joke about cats."),
                "response_format": fmt,
            },
        )
    )
    joke = json.loads(msg["content"])
    assert set(joke) == {"setup", "punchline"}
    assert "cats" in joke["setup"]
    text = (
        "Tell me a joke about cats. Return the result as a JSON with 'setup' and 'punchline' keys. "
        "Return nothing other than JSON."
    )
    msg = message_of(
        post(
            replica.apipie,
            {
                "model": "hermes-3-llama-3-1-70b",
                "messages": user(text),
                "response_format": {"type": "json_object"},
            },
        )
    )
    assert set(json.loads(msg["content"])) == {"setup", "punchline"}
    system = (
        "You are a helpful assistant that answers in JSON. Here's the json schema you must adhere to:\n"
        f"<schema>\n{json.dumps(JOKE_SCHEMA)}\n</schema>"
    )
    messages = [{"role": "system", "content": system}, *user("Tell me a joke about dogs.")]
    fenced = message_of(
        post(replica.apipie, {"model": "nous-hermes-2-mixtral-8x7b-dpo", "messages": messages})
    )["content"]
    assert fenced.startswith("```json\n")
    assert set(json.loads(fenced[8:-4])) == {"setup", "punchline"}
    plain = message_of(post(replica.apipie, {"model": "hermes-3-llama-3-1-70b", "messages": messages}))[
        "content"
    ]
    assert set(json.loads(plain)) == {"setup", "punchline"}


def test_stop_and_max_tokens(replica: Replica) -> None:
    resp = post(replica.apipie, {"model": "hermes-3-llama-3-1-70b", "messages": user("hi"), "stop": ["you"]})
    content = message_of(resp)["content"]
    assert content
    assert "you" not in content
    assert resp.json()["choices"][0]["finish_reason"] == "stop"
    full = message_of(post(replica.apipie, {"model": "hermes-3-llama-3-1-70b", "messages": user("hi")}))[
        "content"
    ]
    assert full.startswith(content)
    assert "you" in full
    resp = post(
        replica.openai, {"model": "hermes3:8b", "messages": user("Tell me about whales"), "max_tokens": 5}
    )
    assert resp.json()["choices"][0]["finish_reason"] == "length"
    assert resp.json()["usage"]["completion_tokens"] == 5
    assert len(message_of(resp)["content"].split()) <= 5
    _, raw = stream_raw(
        replica.openai, {"model": "hermes3:8b", "messages": user("Tell me about whales"), "max_tokens": 5}
    )
    chunks = data_chunks(raw)
    assert joined_content(chunks[:-1]) == message_of(resp)["content"]
    assert chunks[-2]["choices"][0]["finish_reason"] == "length"


def test_reasoning_can_be_switched_off(replica: Replica) -> None:
    body = {"model": "hermes-4-405b", "messages": user("hi"), "reasoning": {"enabled": False}}
    assert "<think>" not in message_of(post(replica.apipie, body))["content"]


def test_replies_are_deterministic(replica: Replica) -> None:
    body = {"model": "hermes-4-405b", "messages": user("Describe the moon"), "tools": [WEATHER]}
    first, second = post(replica.apipie, body).json(), post(replica.apipie, body).json()
    first["usage"].pop("cost"), second["usage"].pop("cost")
    assert first == second


# ---- faults -----------------------------------------------------------------------------------------
BODY = {"model": "hermes-3-llama-3-1-70b", "messages": user("Tell me about the sea")}


def test_status_sequence_with_retry_headers(replica: Replica) -> None:
    date = http_date(2)
    replica.apipie.enqueue(
        Fault.rate_limited(retry_after=3),
        Fault.rate_limited(retry_after=date, retry_after_ms=1500),
        Fault.error(503),
        PASS,
        Fault.error(500),
    )
    first = post(replica.apipie, BODY)
    assert first.status_code == 429
    assert first.headers["retry-after"] == "3"
    assert first.json()["error"]["code"] == "rate_limit_exceeded"
    second = post(replica.apipie, BODY)
    assert second.headers["retry-after"] == date
    assert second.headers["retry-after-ms"] == "1500"
    assert post(replica.apipie, BODY).status_code == 503
    assert post(replica.apipie, BODY).status_code == 200
    assert post(replica.apipie, BODY).status_code == 500
    assert post(replica.apipie, BODY).status_code == 200
    assert replica.apipie.pending == 0


def test_error_body_variants(replica: Replica) -> None:
    replica.aimlapi.enqueue(
        Fault.error(429),
        Fault.account_error(),
        Fault.problem(400, "Invalid payload"),
        Fault.html(502),
        Fault.empty(500),
        Fault(status=418, body_kind="raw", body="plain words", content_type="text/plain"),
    )
    body = {**BODY, "model": "nousresearch/hermes-4-70b"}
    limited = post(replica.aimlapi, body).json()
    assert limited["statusCode"] == 429
    assert "requestId" in limited
    assert post(replica.aimlapi, body).json()["code"] == "ACCOUNT_ERROR"
    problem = post(replica.aimlapi, body)
    assert problem.headers["content-type"] == "application/problem+json"
    assert problem.json()["error"]["message"] == "Invalid payload"
    assert problem.json()["status"] == 400
    html = post(replica.aimlapi, body)
    assert html.status_code == 502
    assert html.text.startswith("<html>")
    assert "text/html" in html.headers["content-type"]
    empty = post(replica.aimlapi, body)
    assert empty.status_code == 500
    assert empty.content == b""
    raw = post(replica.aimlapi, body)
    assert raw.status_code == 418
    assert raw.text == "plain words"


def test_error_inside_200(replica: Replica) -> None:
    replica.apipie.enqueue(Fault.error_200("Provider crashed"), Fault.error_200("Provider crashed"))
    resp = post(replica.apipie, BODY)
    assert resp.status_code == 200
    assert resp.json()["error"]["message"] == "Provider crashed"
    _, raw = stream_raw(replica.apipie, BODY)
    assert data_chunks(raw) == [
        {
            "error": {
                "message": "Provider crashed",
                "code": 502,
                "type": "upstream_error",
                "metadata": {"provider_name": "replica-upstream"},
            }
        }
    ]


def test_delays(replica: Replica) -> None:
    replica.apipie.enqueue(Fault.slow_headers(0.4), Fault.slow_first_byte(0.4))
    start = time.monotonic()
    assert post(replica.apipie, BODY).status_code == 200
    assert time.monotonic() - start >= 0.4
    start = time.monotonic()
    with httpx.stream(
        "POST", replica.apipie.base_url + "/chat/completions", json={**BODY, "stream": True}, headers=KEY
    ) as resp:
        headers_at = time.monotonic() - start
        resp.read()
        body_at = time.monotonic() - start
    assert headers_at < 0.3 <= 0.4 <= body_at


def test_stall_triggers_read_timeout(replica: Replica) -> None:
    replica.apipie.enqueue(Fault.stall(after=2, seconds=1.5))
    timeout = httpx.Timeout(5.0, read=0.3)
    seen: list[str] = []
    with pytest.raises(httpx.ReadTimeout):
        read_stream_lines(replica.apipie, BODY, seen, timeout)
    assert sum(1 for line in seen if line.startswith("data:")) == 3


def test_truncated_stream_ends_cleanly_without_finish(replica: Replica) -> None:
    replica.aimlapi.enqueue(Fault.truncate(after=4))
    resp, raw = stream_raw(replica.aimlapi, {**BODY, "model": "nousresearch/hermes-4-405b"})
    chunks = data_chunks(raw)
    assert resp.status_code == 200
    assert len(chunks) == 4
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks)


def test_connection_resets(replica: Replica) -> None:
    replica.apipie.enqueue(Fault.reset(), Fault.reset(after=3))
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError, httpx.ConnectError)):
        post(replica.apipie, BODY)
    seen: list[str] = []
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        read_stream_lines(replica.apipie, BODY, seen)
    assert 1 <= sum(1 for line in seen if line.startswith("data:")) <= 3
    assert post(replica.apipie, BODY).status_code == 200  # the server survives


def test_reset_is_a_tcp_rst(replica: Replica) -> None:
    replica.apipie.enqueue(Fault.reset())
    sock = socket.create_connection(("127.0.0.1", replica.apipie.port), timeout=5)
    payload = json.dumps(BODY).encode()
    head = (
        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    )
    sock.sendall(head.encode() + payload)
    with pytest.raises(ConnectionResetError):
        drain(sock)
    sock.close()


def test_malformed_chunk(replica: Replica) -> None:
    replica.apipie.enqueue(Fault.malformed(at=2))
    _, raw = stream_raw(replica.apipie, BODY)
    data_events = [e for e in events(raw) if e.startswith("data: ")]
    with pytest.raises(json.JSONDecodeError):
        json.loads(data_events[2][6:])
    assert data_events[-1] == "data: [DONE]"


def test_custom_chunks_and_close_delimited(replica: Replica) -> None:
    script: list[str | bytes | dict[str, Any]] = [
        {"choices": [{"index": 0, "delta": {"content": "<tool"}}]},
        {"choices": [{"index": 0, "delta": {"content": '_call>{"name": "f", "arguments": {}}</tool_call>'}}]},
        b": keep-alive\n\n",
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        "[DONE]",
    ]
    replica.openai.enqueue(Fault.script_chunks(script, close_delimited=True))
    resp, raw = stream_raw(replica.openai, {"model": "hermes3:8b", "messages": user("x")})
    assert "transfer-encoding" not in resp.headers
    assert resp.headers["connection"] == "close"
    assert data_chunks(raw) == [script[0], script[1], script[3], "[DONE]"]
    assert ": keep-alive" in events(raw)


def test_fault_on_models_path_and_request_log(replica: Replica) -> None:
    replica.aimlapi.enqueue(Fault(status=503, path="/v1/models"))
    assert httpx.get(replica.aimlapi.base_url + "/models").status_code == 503
    assert httpx.get(replica.aimlapi.base_url + "/models").status_code == 200
    post(replica.aimlapi, {**BODY, "model": "nousresearch/hermes-4-70b"}, {**KEY, "X-Trace": "t1"})
    last = replica.aimlapi.requests[-1]
    assert (last.method, last.path, last.headers["x-trace"]) == ("POST", "/v1/chat/completions", "t1")
    assert last.json["model"] == "nousresearch/hermes-4-70b"
    assert [r.dialect for r in replica.requests] == ["aimlapi"] * 3
    replica.reset()
    assert replica.requests == []


def test_bench_stream_shape(replica: Replica) -> None:
    _, raw = stream_raw(
        replica.openai,
        {"model": "hermes3:8b", "messages": user("x")},
        headers={**KEY, "x-replica-chunks": "1000"},
    )
    chunks = data_chunks(raw)
    assert sum(1 for c in chunks[:-1] if c["choices"] and c["choices"][0]["delta"].get("content")) == 1000
    replica.apipie.set_stream_shape(chunks=50, chunk_size=64)
    _, raw = stream_raw(replica.apipie, BODY)
    pieces = [c["choices"][0]["delta"].get("content") for c in data_chunks(raw)[:-1] if c["choices"]]
    assert sum(1 for p in pieces if p) == 50
    assert all(len(p) == 64 for p in pieces if p)


async def test_concurrent_streams(replica: Replica) -> None:
    async with httpx.AsyncClient(headers=KEY, timeout=30, limits=httpx.Limits(max_connections=200)) as client:

        async def one(i: int) -> str:
            body = {
                "model": "hermes-3-llama-3-1-70b",
                "messages": user(f"Question {i} about rivers"),
                "stream": True,
            }
            async with client.stream(
                "POST", replica.apipie.base_url + "/chat/completions", json=body
            ) as resp:
                return joined_content(data_chunks(await resp.aread())[:-1])

        answers = await asyncio.gather(*(one(i) for i in range(200)))
    assert all(f"Question {i} about rivers" in a for i, a in enumerate(answers))


def test_standalone_process() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.replica", "--dialect", "openai"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        urls = json.loads(proc.stdout.readline())
        assert list(urls) == ["openai"]
        resp = httpx.post(
            urls["openai"] + "/chat/completions",
            json={"model": "hermes3:8b", "messages": user("hi")},
            headers=KEY,
            timeout=10,
        )
        assert resp.status_code == 200
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
