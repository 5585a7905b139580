"""Wire shapes per dialect: completions, SSE chunk sequences, error bodies and model lists.

Everything here is a pure function of the brain's `Reply`, the model row and the request, so a stream and a
non-streamed reply to the same request say the same thing. The quirks are the documented ones
(shared/reference/gateways.md): see each builder's docstring.
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
from typing import Any

from ._brain import Reply, count_tokens, pieces, text_of
from ._embeddings import embedding_models_aimlapi, embedding_models_apipie
from ._models import MODELS, Dialect, ReplicaModel

CREATED = 1767225600
"""A fixed `created` timestamp keeps recorded cassettes stable across re-recordings."""

_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _alnum(digest: str, start: int, length: int) -> str:
    raw = bytes.fromhex(digest)
    return "".join(_ALNUM[raw[(start + i) % len(raw)] % len(_ALNUM)] for i in range(length))


def completion_id(dialect: Dialect, reply: Reply) -> str:
    if dialect == "aimlapi":  # Together style: npNsb7U-z1gNr-92d8a505afd7ef73
        return f"{_alnum(reply.digest, 0, 7)}-{_alnum(reply.digest, 7, 5)}-{reply.digest[:16]}"
    return "chatcmpl-" + reply.digest[:29]


def _fingerprint(reply: Reply) -> str:
    return "fp_" + reply.digest[-10:]


def cost_usd(model: ReplicaModel, reply: Reply) -> float:
    return round(
        (reply.prompt_tokens * model.input_cost_per_m + reply.completion_tokens * model.output_cost_per_m)
        / 1e6,
        10,
    )


def _finish(model: ReplicaModel, reply: Reply) -> str:
    return "eos" if model.finish_eos and reply.finish_reason == "stop" else reply.finish_reason


def _tool_calls_wire(reply: Reply) -> list[dict[str, Any]]:
    return [
        {
            "id": c.id,
            "type": "function",
            "function": {"name": c.name, "arguments": json.dumps(c.arguments, ensure_ascii=False)},
        }
        for c in reply.tool_calls
    ]


def _apipie_usage(
    model: ReplicaModel, reply: Reply, request: dict[str, Any], cost: float | str
) -> dict[str, Any]:
    prompt_chars = sum(
        len(text_of(m.get("content"))) for m in request.get("messages") or [] if isinstance(m, dict)
    )
    return {
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": reply.completion_tokens,
        "total_tokens": reply.prompt_tokens + reply.completion_tokens,
        "prompt_characters": prompt_chars,
        "response_characters": len(reply.content),
        "cost": cost,
        "latency_ms": 120 + 7 * reply.completion_tokens,
    }


def _openai_usage(reply: Reply, completion: int | None = None) -> dict[str, Any]:
    done = reply.completion_tokens if completion is None else completion
    return {
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": done,
        "total_tokens": reply.prompt_tokens + done,
    }


def _aimlapi_usage(reply: Reply, completion: int | None = None) -> dict[str, Any]:
    usage = _openai_usage(reply, completion)
    usage["prompt_tokens_details"] = {"cached_tokens": 0}
    usage["completion_tokens_details"] = {"reasoning_tokens": count_tokens(reply.reasoning)}
    return usage


def aimlapi_meta(model: ReplicaModel, reply: Reply) -> dict[str, Any]:
    usd = cost_usd(model, reply)
    return {"usage": {"credits_used": round(usd * 2_000_000), "usd_spent": usd}}


def _nth_choice(choice: dict[str, Any], index: int) -> dict[str, Any]:
    """Choice `index` of an `n` > 1 reply: the same answer, its tool calls with ids of their own (as a real
    server numbers every call of every choice)."""
    nth = copy.deepcopy(choice)
    nth["index"] = index
    for call in nth["message"].get("tool_calls") or []:
        if index and isinstance(call.get("id"), str):
            call["id"] = f"{call['id']}_{index}"
    return nth


def completion_body(
    dialect: Dialect,
    model: ReplicaModel,
    reply: Reply,
    request: dict[str, Any],
    counter: int,
    quirks: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """A non-streamed completion. APIpie: top-level `provider`, `model` as the upstream route, usage with
    characters/cost/latency where `cost` is a number on odd-numbered requests and a numeric string on even
    ones. AI/ML API: Together ids, `tool_calls: []` on plain messages, `meta.usage.usd_spent`, `reasoning`."""
    tool_calls = _tool_calls_wire(reply)
    content: str | None = reply.content if reply.content or not tool_calls else None
    message: dict[str, Any] = {"role": "assistant", "content": content}
    choice: dict[str, Any] = {
        "index": 0,
        "message": message,
        "logprobs": None,
        "finish_reason": _finish(model, reply),
    }
    body: dict[str, Any] = {
        "id": completion_id(dialect, reply),
        "object": "chat.completion",
        "created": CREATED,
    }
    if dialect == "apipie":
        if tool_calls:
            message["tool_calls"] = tool_calls
        cost = cost_usd(model, reply)
        body |= {"provider": model.provider, "model": model.wire_model, "choices": [choice]}
        body["usage"] = _apipie_usage(model, reply, request, cost if counter % 2 else f"{cost:.8f}")
        body["system_fingerprint"] = _fingerprint(reply)
    elif dialect == "aimlapi":
        message["tool_calls"] = tool_calls
        message["refusal"] = None
        if model.reasoning == "field":
            message["reasoning"] = reply.reasoning or None
            details = [{"type": "reasoning.text", "text": reply.reasoning, "format": "unknown", "index": 0}]
            message["reasoning_details"] = details if reply.reasoning else []
        choice["native_finish_reason"] = choice["finish_reason"]
        body |= {"model": model.id, "choices": [choice], "system_fingerprint": _fingerprint(reply)}
        body["usage"] = _aimlapi_usage(reply)
        body["meta"] = aimlapi_meta(model, reply)
        if "no_meta" in quirks:  # a live Hermes 4 405B reply (2025-09, gateways.md Corrections)
            del body["meta"], body["system_fingerprint"]
            message["reasoning_content"] = None
        if "no_usage" in quirks:
            del body["usage"], body["meta"]
    else:
        message["tool_calls"] = tool_calls
        if model.reasoning == "reasoning_content":
            message["reasoning_content"] = reply.reasoning or None
        choice["stop_reason"] = None
        body |= {
            "model": model.id,
            "choices": [choice],
            "usage": _openai_usage(reply),
            "prompt_logprobs": None,
        }
    n = request.get("n")
    if isinstance(n, int) and not isinstance(n, bool) and n > 1:
        # OpenAI's `n` (AI/ML API documents 1-5): one choice per index, each a whole message of its own.
        body["choices"] = [_nth_choice(choice, i) for i in range(n)]
    return body


def bench_text(chunks: int, chunk_size: int | None) -> list[str]:
    """`chunks` content pieces for benchmarks: short words, or `chunk_size` characters each."""
    if chunk_size:
        return [("abcdefghij" * (chunk_size // 10 + 1))[:chunk_size] for _ in range(chunks)]
    return [f"w{i % 1000} " for i in range(chunks)]


def _split_arguments(text: str) -> list[str]:
    if len(text) < 6:
        return [text]
    third = len(text) // 3
    return [text[:third], text[third : 2 * third], text[2 * third :]]


def _sse(data: dict[str, Any] | str, newline: str) -> bytes:
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"data: {payload}{newline}{newline}".encode()


def stream_events(
    dialect: Dialect,
    model: ReplicaModel,
    reply: Reply,
    request: dict[str, Any],
    content_pieces: list[str] | None = None,
    quirks: frozenset[str] = frozenset(),
) -> list[bytes]:
    """See `_stream_events`; `quirks` (ReplicaServer.set_quirks) reshape the tail of the stream."""
    events = _stream_events(dialect, model, reply, request, content_pieces)
    if not quirks & {"usage_then_null", "no_done", "no_usage"}:
        return events
    done = _sse("[DONE]", "\r\n" if dialect == "aimlapi" else "\n")
    body = [e for e in events if e != done]
    if "no_usage" in quirks:
        body = [_strip_usage(e) for e in body]
        body = [e for e in body if e]
    elif "usage_then_null" in quirks:
        body = _usage_then_null(body)
    if "no_done" not in quirks and done in events:
        body.append(done)
    return body


def _decode(event: bytes) -> dict[str, Any] | None:
    text = event.decode().strip()
    if not text.startswith("data: ") or text == "data: [DONE]":
        return None
    data = json.loads(text[len("data: ") :])
    return data if isinstance(data, dict) else None


def _strip_usage(event: bytes) -> bytes:
    data = _decode(event)
    if data is None or ("usage" not in data and "meta" not in data):
        return event
    data.pop("usage", None)
    data.pop("meta", None)
    if not data.get("choices"):
        return b""  # a usage-only chunk: gone
    return _sse(data, "\r\n" if event.endswith(b"\r\n") else "\n")


def _usage_then_null(events: list[bytes]) -> list[bytes]:
    """Live AI/ML API capture (gateways.md Corrections): the full usage on the finish chunk, then a last chunk
    with `"usage": null`; no `choices: []` usage chunk, no `meta`."""
    out: list[bytes] = []
    usage: Any = None
    template: dict[str, Any] | None = None
    nl = "\n"
    for event in events:
        data = _decode(event)
        if data is None:
            out.append(event)
            continue
        nl = "\r\n" if event.endswith(b"\r\n") else "\n"
        usage = data.get("usage") or usage
        if not data.get("choices"):
            continue  # drop the usage-only chunk
        finishing = any(isinstance(c, dict) and c.get("finish_reason") for c in data["choices"])
        data.pop("meta", None)
        if finishing:
            data["usage"] = usage
            template = data
        else:
            data.pop("usage", None)
        out.append(_sse(data, nl))
    if template is not None:
        tail = {k: v for k, v in template.items() if k not in ("choices", "usage")}
        out.append(_sse({**tail, "choices": [], "usage": None}, nl))
    return out


def _stream_events(
    dialect: Dialect,
    model: ReplicaModel,
    reply: Reply,
    request: dict[str, Any],
    content_pieces: list[str] | None = None,
) -> list[bytes]:
    """The SSE events of a streamed reply, each a complete `data: ...` event (or comment) as bytes.

    APIpie: `: OPENROUTER PROCESSING` comments first; `choices[].index` counts up per chunk and is 0 on the
    finish chunk; `system_fingerprint` is the string "null"; a final `choices: []` chunk with usage (cost as a
    string, no `provider`) even without stream_options; then `[DONE]`.
    AI/ML API: CRLF line endings; reasoning in `delta.reasoning`; tool-call deltas after the first fragment
    omit `index`, `id` and `type` (one omits `function` too); usage repeated cumulatively on the last two
    chunks and the finish chunk, then a `choices: []` usage chunk (with `meta`) even without stream_options;
    `[DONE]` only on models whose row says so.
    openai (vLLM-like): plain OpenAI chunks; usage chunk only with stream_options.include_usage; `[DONE]`.
    """
    nl = "\r\n" if dialect == "aimlapi" else "\n"
    parts = content_pieces if content_pieces is not None else pieces(reply.content)
    deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
    reasoning_key = {"field": "reasoning", "reasoning_content": "reasoning_content"}.get(model.reasoning)
    if reasoning_key:
        deltas += [{reasoning_key: p} for p in pieces(reply.reasoning)]
    deltas += [{"content": p} for p in parts]
    for i, call in enumerate(reply.tool_calls):
        args = json.dumps(call.arguments, ensure_ascii=False)
        head = {
            "index": i,
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }
        deltas.append({"tool_calls": [head]})
        for n, frag in enumerate(_split_arguments(args)):
            if dialect == "aimlapi":
                fragment: dict[str, Any] = {"function": {"arguments": frag}} if n % 2 == 0 else {}
                if n % 2:
                    fragment = {"index": i, "function": {"arguments": frag}}
                deltas.append({"tool_calls": [fragment]})
                if n == 0:
                    deltas.append({"tool_calls": [{"index": i}]})
            else:
                deltas.append({"tool_calls": [{"index": i, "function": {"arguments": frag}}]})
    rid = completion_id(dialect, reply)
    events: list[bytes] = []
    finish = _finish(model, reply)
    if dialect == "apipie":
        events += [b": OPENROUTER PROCESSING\n\n", b": OPENROUTER PROCESSING\n\n"]
        base = {"id": rid, "object": "chat.completion.chunk", "created": CREATED, "provider": model.provider}
        base["model"] = model.wire_model
        for k, delta in enumerate(deltas):
            choice = {"index": k, "delta": delta, "finish_reason": None, "logprobs": None}
            events.append(_sse({**base, "choices": [choice], "system_fingerprint": "null"}, nl))
        last = {"index": 0, "delta": {}, "finish_reason": finish, "logprobs": None}
        events.append(_sse({**base, "choices": [last], "system_fingerprint": "null"}, nl))
        usage = _apipie_usage(model, reply, request, f"{cost_usd(model, reply):.8f}")
        tail = {"id": rid, "object": "chat.completion.chunk", "created": CREATED, "model": model.wire_model}
        events.append(_sse({**tail, "choices": [], "usage": usage, "system_fingerprint": "null"}, nl))
        events.append(_sse("[DONE]", nl))
        return events
    base = {"id": rid, "object": "chat.completion.chunk", "created": CREATED, "model": model.id}
    if dialect == "aimlapi":
        base["system_fingerprint"] = _fingerprint(reply)
        total = len(deltas)
        for k, delta in enumerate(deltas):
            chunk: dict[str, Any] = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
            if k >= total - 2:  # cumulative usage on the last two chunks before the finish chunk
                chunk["usage"] = _aimlapi_usage(reply, reply.completion_tokens * (k + 1) // (total + 1))
            events.append(_sse(chunk, nl))
        last_choice = {"index": 0, "delta": {}, "finish_reason": finish, "native_finish_reason": finish}
        events.append(_sse({**base, "choices": [last_choice], "usage": _aimlapi_usage(reply)}, nl))
        final = {**base, "choices": [], "usage": _aimlapi_usage(reply), "meta": aimlapi_meta(model, reply)}
        events.append(_sse(final, nl))
        if model.done_marker:
            events.append(_sse("[DONE]", nl))
        return events
    for delta in deltas:
        events.append(
            _sse(
                {**base, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}]},
                nl,
            )
        )
    last_choice = {
        "index": 0,
        "delta": {"content": ""},
        "logprobs": None,
        "finish_reason": finish,
        "stop_reason": None,
    }
    events.append(_sse({**base, "choices": [last_choice]}, nl))
    options = request.get("stream_options")
    if isinstance(options, dict) and options.get("include_usage"):
        events.append(_sse({**base, "choices": [], "usage": _openai_usage(reply)}, nl))
    events.append(_sse("[DONE]", nl))
    return events


def error_body(
    dialect: Dialect,
    status: int,
    message: str,
    *,
    code: str | None = None,
    kind: str = "invalid_request_error",
    path: str = "/v1/chat/completions",
) -> dict[str, Any]:
    """The dialect's own error shape: OpenAI envelope (APIpie), {message, path, requestId, statusCode,
    timestamp} (AI/ML API), vLLM's {object: "error", ...} (openai)."""
    if dialect == "apipie":
        return {"error": {"message": message, "type": kind, "param": None, "code": code}}
    if dialect == "aimlapi":
        request_id = hashlib.sha256(f"{message}:{path}".encode()).hexdigest()[:32]
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        return {
            "message": message,
            "path": path,
            "requestId": request_id,
            "statusCode": status,
            "timestamp": stamp,
        }
    return {"object": "error", "message": message, "type": kind, "param": None, "code": status}


def problem_json(status: int, message: str, path: str = "/v1/chat/completions") -> dict[str, Any]:
    """AI/ML API's newer application/problem+json error shape."""
    request_id = hashlib.sha256(f"{message}:{path}".encode()).hexdigest()[:32]
    return {
        "title": {400: "Bad Request", 401: "Unauthorized", 429: "Too Many Requests"}.get(status, "Error"),
        "status": status,
        "message": message,
        "instance": path,
        "requestId": request_id,
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        "error": {"name": "HttpException", "message": message},
    }


def html_page(status: int) -> str:
    reason = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Time-out"}.get(status, "Error")
    return (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n<hr><center>cloudflare</center>\r\n"
        "</body>\r\n</html>\r\n"
    )


_EXTRA_APIPIE = (
    {
        "id": "gpt-4o-mini",
        "model": "openai/gpt-4o-mini",
        "provider": "openai",
        "type": "llm",
        "subtype": "chat",
        "input": "0.00000015",
        "output": "0.00000060",
        "available": 1,
        "context": 128000,
        "out": 16384,
    },
    {
        "id": "llama-3.1-8b-instruct",
        "model": "meta-llama/llama-3.1-8b-instruct",
        "provider": "deepinfra",
        "type": "llm",
        "subtype": "chat",
        "input": "-0.00000002",
        "output": "0.00000005",
        "available": 0,
        "context": 131072,
        "out": 4096,
    },
)


def _apipie_models(query: dict[str, str], detailed: bool) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    for m in MODELS["apipie"]:
        price_in = f"{m.input_cost_per_m / 1e6:.10f}"
        price_out = f"{m.output_cost_per_m / 1e6:.10f}"
        rows.append(
            {
                "id": m.id,
                "model": m.route,
                "provider": m.provider,
                "type": "vision" if m.vision else "llm",
                "subtype": m.subtype,
                "route": m.route,
                "description": f"{m.name} by Nous Research",
                "enabled": 1,
                "available": 1,
                "avg_cost": f"{(m.input_cost_per_m + m.output_cost_per_m) / 2e6:.10f}",
                "input_cost": price_in,
                "output_cost": price_out,
                "price_type": "token",
                "latency": 850,
                "query_count": 1200,
                "max_tokens": m.context_length,
                "max_response_tokens": m.max_output,
            }
        )
        if detailed:
            # Live /v1/models/detailed (gateways.md Corrections; charmbracelet/catwalk `cmd/apipie`):
            # top-level modality lists; `pricing.confirmed` per 1M tokens, left empty for models that only
            # have `pricing.advertised` per token (here: every other model, so both readings get exercised).
            rows[-1]["input_modalities"] = ["text", "image"] if m.vision else ["text"]
            rows[-1]["output_modalities"] = ["text"]
            rows[-1]["supported_input_parameters"] = ["max_tokens", "temperature", "top_p", "stop"]
            advertised = {
                "input_cost_per_token": f"{m.input_cost_per_m / 1e6:.10f}",
                "output_cost_per_token": f"{m.output_cost_per_m / 1e6:.10f}",
            }
            confirmed = {
                "input_cost": f"{m.input_cost_per_m:.4f}",
                "output_cost": f"{m.output_cost_per_m:.4f}",
            }
            odd = len(rows) % 2 == 0
            rows[-1]["pricing"] = {"confirmed": {} if odd else confirmed, "advertised": advertised}
    for e in _EXTRA_APIPIE:
        rows.append(
            {
                "id": e["id"],
                "model": e["model"],
                "provider": e["provider"],
                "type": e["type"],
                "subtype": e["subtype"],
                "route": e["model"],
                "description": e["id"],
                "enabled": 1,
                "available": e["available"],
                "avg_cost": e["input"],
                "input_cost": e["input"],
                "output_cost": e["output"],
                "price_type": "token",
                "latency": 400,
                "query_count": 99999,
                "max_tokens": e["context"],
                "max_response_tokens": e["out"],
            }
        )
    rows.extend(embedding_models_apipie())
    # The older list shape (APIpie's 2024 Fetch Models docs): no `id`; `model` is the sendable id and
    # `route` the provider-qualified route; prices as `req_price` / `res_price` per `price_unit` tokens.
    rows.append(
        {
            "enabled": 1,
            "type": "llm",
            "subtype": None,
            "provider": "openrouter",
            "model": "nous-capybara-7b",
            "route": "nousresearch/nous-capybara-7b",
            "description": "The Capybara series is a collection of datasets and models",
            "max_tokens": 4096,
            "max_response_tokens": 4096,
            "req_price": "0.0000001800000000",
            "res_price": "0.0000001800000000",
            "price_type": "token",
            "price_unit": "1.00",
            "avg_cost": "0.0000912966",
            "latency": "1162/2145/6245/8234/18456/8162",
            "available": 1,
            "query_count": "310,000",
        }
    )
    for key in ("type", "subtype", "provider"):
        if key in query:
            rows = [r for r in rows if str(r[key]) == query[key]]
    if "model" in query:
        rows = [r for r in rows if query["model"] in (r.get("id"), r["model"])]
    return {"data": rows}


def _aimlapi_units(m: ReplicaModel) -> list[dict[str, Any]]:
    """Token price units. Live shape (gateways.md Corrections, aimlapi/models.dev-aimlapi sync): `origin`
    provided / generated / cached, `price` USD for `per` tokens. Hermes 4 405B keeps the documented older
    shape with `measure`, so a list carries both readings."""
    if m.id.endswith("hermes-4-405b"):
        return [
            {"name": "token", "measure": "input", "price": m.input_cost_per_m, "per": 1_000_000},
            {"name": "token", "measure": "output", "price": m.output_cost_per_m, "per": 1_000_000},
        ]
    per_k = m.id.endswith("hermes-4-70b")  # quoted per 1000 tokens: `per` must be read with `price`
    scale, per = (1000, 1000) if per_k else (1, 1_000_000)
    units = [("provided", m.input_cost_per_m), ("generated", m.output_cost_per_m)]
    units.append(("cached", m.input_cost_per_m / 2))
    return [
        {"name": "token", "content": "text", "origin": origin, "price": round(price / scale, 9), "per": per}
        for origin, price in units
    ]


def _aimlapi_entry(m: ReplicaModel, sections: set[str]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": m.id,
        "aliases": [m.id.split("/")[-1]],
        "type": "openai/chat-completions",
        "info": {
            "name": m.name,
            "developer": "Nous Research",
            "description": f"{m.name}: a Hermes model.",
            "contextLength": m.context_length,
            "outputMax": m.max_output,
            "url": f"https://aimlapi.com/models/{m.id.split('/')[-1]}",
            "docs_url": f"https://docs.aimlapi.com/api-references/text-models-llm/{m.id}",
        },
        "tags": ["text-to-text", "open-source", "function-calling"],
    }
    if "pricing" in sections:
        entry["pricing"] = {"units": _aimlapi_units(m)}
    if "modalities" in sections:
        entry["modalities"] = {"input": ["text"], "output": ["text"]}
    if "capabilities" in sections:
        caps = ["streaming", "structured_output"] + (["tools"] if m.tools == "native" else [])
        entry["capabilities"] = caps + (["reasoning"] if m.reasoning != "none" else [])
    return entry


def aimlapi_sections(query: dict[str, str]) -> set[str]:
    raw = {s.strip() for s in query.get("include", "").split(",") if s.strip()}
    return {"pricing", "modalities", "capabilities"} if "all" in raw else raw


def models_body(dialect: Dialect, path: str, query: dict[str, str]) -> dict[str, Any] | None:
    """The model list (or one model) for a models path; None for an unknown model id."""
    if dialect == "apipie":
        return _apipie_models(query, detailed=path.endswith("/detailed"))
    if dialect == "aimlapi":
        sections = aimlapi_sections(query)
        live = [m for m in MODELS["aimlapi"] if m.deprecated is None]
        if path.startswith("/model/"):
            wanted = path[len("/model/") :]
            found = next((m for m in live if m.id.lower() == wanted.lower()), None)
            return _aimlapi_entry(found, sections | {"pricing", "capabilities"}) if found else None
        data = [_aimlapi_entry(m, sections) for m in live]
        gpt: dict[str, Any] = {
            "id": "gpt-4o",
            "aliases": ["chatgpt-4o"],
            "type": "openai/chat-completions",
            "info": {"name": "GPT-4o", "developer": "OpenAI", "contextLength": 128000, "outputMax": 16384},
            "tags": ["text-to-text"],
        }
        return {"object": "list", "data": [*data, gpt, *embedding_models_aimlapi()]}
    rows = [
        {
            "id": m.id,
            "object": "model",
            "created": CREATED,
            "owned_by": m.provider,
            "root": m.id,
            "parent": None,
            "max_model_len": m.context_length,
        }
        for m in MODELS["openai"]
    ]
    return {"object": "list", "data": rows}
