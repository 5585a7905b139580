"""`python -m hermes_gateway doctor`: probe the live gateways with the user's key; compare with the catalog.

Why: several facts the library relies on are documented, not confirmed (gateways.md: AI/ML API drops unknown
request fields silently, its native tools for Hermes are unconfirmed, whether `[DONE]` is sent varies). The
doctor sends the requests the library would send (built by `_request.prepare_request`, read back through the
same `ReplyPipeline`) and looks at the raw answers too, so it can say what the gateway *actually* did:

- auth: the key is accepted;
- listed: the model's id is in the gateway's model list;
- reply: a non-streamed reply with content, usage, and a cost (where from: body or header);
- reasoning: which reasoning fields the reply carries (`reasoning`, `reasoning_content`, `<think>`, tokens);
- stream: a streamed reply that completes with usage, and whether `data: [DONE]` was sent;
- native tools: `tools` sent natively — calls back as `tool_calls`, as `<tool_call>` text, or not at all
  (dropped) — and, when calls came back, the round trip with the tool's result;
- prompt tools: the Hermes prompt format (what `tool_mode="auto"` uses where native is not confirmed);
- response_format: a `json_schema` the prompt does not ask for is honoured (or silently dropped);
- error body: the shape of the answer to a deliberately bad request, and that it reads as a typed error.

A check FAILs only when something the library relies on is wrong (exit code 1); what merely differs from the
documentation, or could be confirmed, is a `note`. Every request uses a small `max_tokens`; the total the
gateways reported spending is printed at the end. Offline (or with no key) it stops before the first
request with a one-line reason (exit code 2). `--record` writes the exchanges, scrubbed, under
`cassettes/live/doctor/` (`_doctor_record`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import httpx

from ._accumulator import StreamAccumulator
from ._catalog import lookup, resolve_model_id
from ._constants import USER_AGENT
from ._doctor_record import Exchange, write_cassette
from ._error_bodies import error_from_response
from ._exceptions import GatewayError
from ._gateways import get_dialect
from ._models_api import PARSERS, models_url
from ._request import prepare_request
from ._stream import ReplyPipeline

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from ._types import ChatRequest, ChatResult, ToolMode

Status = Literal["ok", "FAIL", "note", "skip"]
DOCTOR_GATEWAYS = ("apipie", "aimlapi")
DEFAULT_MODELS = ("hermes-4-70b",)
MAX_TOKENS = 48
"""Small on purpose: every probe costs the user money. Enough for a short answer or one tool call."""
_DONE = re.compile(rb"^data:[ \t]*\[DONE\][ \t]*\r?$", re.MULTILINE)
_WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "The city name"}},
            "required": ["city"],
        },
    },
}
_GREETING = {
    "type": "json_schema",
    "json_schema": {
        "name": "greeting",
        "strict": True,
        "schema": {
            "type": "object",
            "properties": {"greeting": {"type": "string"}},
            "required": ["greeting"],
            "additionalProperties": False,
        },
    },
}


class DoctorError(Exception):
    """The doctor cannot start (no key, gateway unreachable): one line for the user, exit code 2."""


@dataclass(frozen=True, slots=True)
class Finding:
    gateway: str
    model: str
    check: str
    status: Status
    observed: str
    assumed: str


@dataclass(slots=True)
class Spend:
    usd: float = 0.0
    requests: int = 0
    unpriced: int = 0
    """Replies that reported no cost (their spend is unknown, not zero)."""


@dataclass(slots=True)
class Probe:
    """One gateway: its key, HTTP client, spend, and (with --record) every exchange."""

    gateway: str
    base_url: str
    key: str
    client: httpx.Client
    spend: Spend
    exchanges: list[Exchange] | None = None
    findings: list[Finding] = field(default_factory=list)

    def _record(self, response: httpx.Response, content: bytes) -> None:
        if self.exchanges is None:
            return
        request = response.request
        self.exchanges.append(
            Exchange(
                method=request.method,
                url=str(request.url),
                request_headers=tuple(request.headers.multi_items()),
                request_body=request.content,
                status=response.status_code,
                reason=response.reason_phrase,
                response_headers=tuple(response.headers.multi_items()),
                response_body=content,
            )
        )

    def get(self, url: str) -> tuple[httpx.Response, bytes]:
        response = self.client.get(url, headers={"Accept": "application/json", "User-Agent": USER_AGENT})
        self._record(response, response.content)
        return response, response.content

    def post(self, body: dict[str, Any], *, stream: bool = False) -> tuple[httpx.Response, bytes]:
        headers = {
            "Authorization": f"Bearer {self.key}",
            "Accept": "text/event-stream" if stream else "application/json",
            "User-Agent": USER_AGENT,
        }
        response = self.client.post(f"{self.base_url}/chat/completions", json=body, headers=headers)
        self._record(response, response.content)
        self.spend.requests += 1
        return response, response.content

    def error(self, response: httpx.Response, content: bytes) -> GatewayError:
        return error_from_response(response.status_code, response.headers, content, gateway=self.gateway)


# --- reading answers ----------------------------------------------------------------------------------------


def _read(probe: Probe, response: httpx.Response, content: bytes, *, tools: bool) -> ChatResult:
    """The reply as the library reads it (same pipeline), and its cost added to the spend."""
    pipeline = ReplyPipeline(gateway=probe.gateway, parse_tool_calls=tools)
    pipeline.read_headers(response.headers)
    if "text/event-stream" in response.headers.get("content-type", ""):
        deltas = pipeline.feed(content)
    else:
        deltas = pipeline.feed_completion(json.loads(content))
    result = StreamAccumulator(gateway=probe.gateway).extend(deltas + pipeline.finish()).result()
    cost = result.usage.cost_usd if result.usage is not None else None
    if cost is None:
        probe.spend.unpriced += 1
    else:
        probe.spend.usd += cost
    return result


def _message(content: bytes) -> dict[str, Any]:
    try:
        data = json.loads(content)
    except ValueError:
        return {}
    choices = data.get("choices") if isinstance(data, dict) else None
    first = choices[0] if isinstance(choices, list) and choices and isinstance(choices[0], dict) else {}
    message = first.get("message")
    return message if isinstance(message, dict) else {}


def _cost_source(content: bytes, response: httpx.Response) -> str:
    try:
        data = json.loads(content)
    except ValueError:
        data = {}
    usage = data.get("usage") if isinstance(data, dict) else None
    if isinstance(usage, dict) and usage.get("cost") is not None:
        return "usage.cost"
    meta = data.get("meta") if isinstance(data, dict) else None
    if isinstance(meta, dict) and isinstance(meta.get("usage"), dict) and "usd_spent" in meta["usage"]:
        return "meta.usage.usd_spent"
    if response.headers.get("x-aimlapi-usd-spent"):
        return "x-aimlapi-usd-spent header"
    return "nowhere"


def _reasoning_fields(content: bytes) -> list[str]:
    message = _message(content)
    fields = [k for k in ("reasoning", "reasoning_content") if message.get(k)]
    text = message.get("content")
    if isinstance(text, str) and "<think>" in text:
        fields.append("<think> in content")
    try:
        usage = json.loads(content).get("usage") or {}
    except (ValueError, AttributeError):
        usage = {}
    details = usage.get("completion_tokens_details") if isinstance(usage, dict) else None
    if isinstance(details, dict) and details.get("reasoning_tokens"):
        fields.append("usage reasoning_tokens")
    return fields


def _error_shape(response: httpx.Response, content: bytes) -> str:
    if "problem+json" in response.headers.get("content-type", ""):
        return "problem+json"
    try:
        data = json.loads(content)
    except ValueError:
        return "not JSON"
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        return "OpenAI envelope {error:{message,type,code}}"
    if isinstance(data, dict) and {"message", "statusCode"} <= data.keys():
        return "{message, path, requestId, statusCode, timestamp}"
    return "other JSON"


# --- the checks ---------------------------------------------------------------------------------------------


def _body(model: str, gateway: str, mode: ToolMode = "auto", stream: bool = False, **extra: Any) -> Any:
    request: ChatRequest = {"model": model, "max_tokens": MAX_TOKENS, **extra}  # type: ignore[typeddict-item]
    info = lookup(model)
    return prepare_request(
        request, dialect=get_dialect(gateway), info=info, tool_mode=mode, stream=stream
    ).body


def check_model(probe: Probe, name: str, listed: set[str] | None) -> None:
    """Every check for one model on one gateway; findings are appended to `probe.findings`."""
    gateway = probe.gateway
    wire_id = resolve_model_id(name, gateway)
    info = lookup(name)
    dialect = get_dialect(gateway)

    def add(check: str, status: Status, observed: str, assumed: str) -> None:
        probe.findings.append(Finding(gateway, wire_id, check, status, observed, assumed))

    if listed is not None:
        add(
            "listed",
            "ok" if wire_id in listed else "FAIL",
            "listed" if wire_id in listed else "not listed",
            "the catalog's id is served",
        )

    hello = [{"role": "user", "content": "Say hello in one short sentence."}]
    response, content = probe.post(_body(wire_id, gateway, messages=hello))
    if response.status_code in (401, 403):
        add(
            "auth",
            "FAIL",
            f"{response.status_code}: {probe.error(response, content).message}",
            "key accepted",
        )
        return
    add("auth", "ok", "key accepted", "key accepted")
    if not response.is_success:
        add("reply", "FAIL", str(probe.error(response, content)), "a completion")
        return
    reply = _read(probe, response, content, tools=False)
    add(
        "reply",
        "ok" if reply.content or reply.reasoning else "FAIL",
        f"{len(reply.content)} chars, finish_reason={reply.finish_reason}",
        "text and a finish_reason",
    )
    usage = reply.usage
    add(
        "usage",
        "ok" if usage and usage.total_tokens else "FAIL",
        f"{usage.prompt_tokens}+{usage.completion_tokens} tokens" if usage else "none",
        "usage in the reply",
    )
    where = _cost_source(content, response)
    cost_text = f"${usage.cost_usd:.6f} from {where}" if usage and usage.cost_usd is not None else "no cost"
    assumed_cost = "usage.cost" if gateway == "apipie" else "meta.usage.usd_spent or x-aimlapi-usd-spent"
    add("cost", "ok" if where != "nowhere" else "FAIL", cost_text, assumed_cost)
    fields = _reasoning_fields(content)
    reasons = bool(info and info.reasoning)
    add(
        "reasoning",
        "ok" if bool(fields) == reasons else "note",
        ", ".join(fields) or "none",
        "a reasoning model" if reasons else "no reasoning",
    )

    response, content = probe.post(_body(wire_id, gateway, stream=True, messages=hello), stream=True)
    if not response.is_success:
        add("stream", "FAIL", str(probe.error(response, content)), "a streamed completion")
    else:
        try:
            streamed = _read(probe, response, content, tools=False)
        except GatewayError as exc:
            add("stream", "FAIL", str(exc), "a complete stream")
        else:
            add("stream", "ok", f"{len(streamed.content)} chars", "a complete stream")
            add(
                "stream usage",
                "ok" if streamed.usage else "FAIL",
                "present" if streamed.usage else "none",
                "usage on a final chunk",
            )
        done = bool(_DONE.search(content))
        expected = "sent (documented)" if gateway == "apipie" else "either (live captures end without)"
        add(
            "[DONE]",
            "ok" if done or gateway != "apipie" else "note",
            "sent" if done else "not sent",
            expected,
        )

    _check_tools(
        probe,
        wire_id,
        info is not None and info.supports_native_tools(gateway),
        info is not None and info.declares_tools(gateway),
        add,
    )
    if info is None or info.trained_tool_calls:
        _check_prompt_tools(probe, wire_id, add)

    ask = [{"role": "user", "content": "Say hello."}]
    response, content = probe.post(_body(wire_id, gateway, messages=ask, response_format=_GREETING))
    assumed = "honoured (documented)" if dialect.accepts_response_format else "not documented"
    if not response.is_success:
        status: Status = "FAIL" if dialect.accepts_response_format else "note"
        add("response_format", status, str(probe.error(response, content)), assumed)
    else:
        text = _read(probe, response, content, tools=False).content.strip()
        try:
            honoured = isinstance(json.loads(text), dict) and "greeting" in json.loads(text)
        except ValueError:
            honoured = False
        ok = honoured or not dialect.accepts_response_format
        add("response_format", "ok" if ok else "FAIL", "honoured" if honoured else "ignored", assumed)

    response, content = probe.post({"model": wire_id, "messages": [], "max_tokens": MAX_TOKENS})
    shape = _error_shape(response, content)
    assumed = (
        "OpenAI envelope" if gateway == "apipie" else "{message, path, requestId, statusCode} or problem+json"
    )
    if response.is_success:
        add("error body", "FAIL", f"{response.status_code}: an empty conversation was accepted", assumed)
    else:
        error = probe.error(response, content)
        readable = not error.message.startswith(f"HTTP {response.status_code} from")
        add(
            "error body",
            "ok" if readable else "FAIL",
            f"{response.status_code} {shape}: {error.message}",
            assumed,
        )


def _check_tools(probe: Probe, wire_id: str, confirmed: bool, declared: bool, add: Any) -> None:
    gateway = probe.gateway
    ask = [{"role": "user", "content": "What is the weather in Paris? Use the get_weather tool."}]
    body = _body(wire_id, gateway, "native", messages=ask, tools=[_WEATHER], tool_choice="auto")
    assumed = "native (confirmed)" if confirmed else ("declared, unconfirmed" if declared else "not native")
    response, content = probe.post(body)
    if not response.is_success:
        status: Status = "FAIL" if confirmed else "note"
        add("native tools", status, str(probe.error(response, content)), assumed)
        return
    message = _message(content)
    text = message.get("content") if isinstance(message.get("content"), str) else ""
    result = _read(probe, response, content, tools=True)
    if message.get("tool_calls"):
        observed = "tool_calls" if confirmed else "tool_calls: native works here, could be confirmed"
    elif "<tool_call>" in (text or ""):
        observed = "<tool_call> text in content"
    else:
        observed = "no tool call (tools dropped?)"
    # Unconfirmed: auto mode does not rely on it, so only a note (it says whether it could be confirmed).
    status = ("ok" if result.tool_calls else "FAIL") if confirmed else "note"
    add("native tools", status, observed, assumed)
    if not result.tool_calls:
        return
    call = result.tool_calls[0]
    history = [
        *ask,
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments},
                }
            ],
        },
        {"role": "tool", "tool_call_id": call.id, "content": "18 C and sunny"},
    ]
    response, content = probe.post(_body(wire_id, gateway, "native", messages=history, tools=[_WEATHER]))
    if not response.is_success:
        add("tools round trip", "FAIL" if confirmed else "note", str(probe.error(response, content)), assumed)
        return
    answer = _read(probe, response, content, tools=True)
    add(
        "tools round trip",
        "ok" if answer.content or answer.tool_calls else ("FAIL" if confirmed else "note"),
        f"answered ({len(answer.content)} chars)" if answer.content else "no answer",
        assumed,
    )


def _check_prompt_tools(probe: Probe, wire_id: str, add: Any) -> None:
    ask = [{"role": "user", "content": "What is the weather in Paris? Use the get_weather tool."}]
    body = _body(wire_id, probe.gateway, "hermes", messages=ask, tools=[_WEATHER])
    response, content = probe.post(body)
    if not response.is_success:
        add("prompt tools", "FAIL", str(probe.error(response, content)), "<tool_call> in the Hermes format")
        return
    result = _read(probe, response, content, tools=True)
    names = [c.name for c in result.tool_calls]
    add(
        "prompt tools",
        "ok" if "get_weather" in names else "FAIL",
        f"calls: {names or 'none'}",
        "<tool_call> in the Hermes format",
    )


# --- running ------------------------------------------------------------------------------------------------


def _start(gateway: str, client: httpx.Client, spend: Spend, record: bool) -> tuple[Probe, set[str] | None]:
    dialect = get_dialect(gateway)
    key = dialect.env_api_key()
    if not key:
        raise DoctorError(f"doctor needs a key for {gateway}: set {' or '.join(dialect.api_key_envs)}")
    base_url = (dialect.env_base_url() or dialect.default_base_url or "").rstrip("/")
    probe = Probe(gateway, base_url, key, client, spend, [] if record else None)
    url = models_url(gateway, base_url)
    try:
        response, content = probe.get(url)
    except httpx.TransportError as exc:
        raise DoctorError(
            f"cannot reach {gateway} at {base_url} ({type(exc).__name__}: {exc}): doctor probes the live "
            f"gateway, so it needs network access (set {dialect.base_url_env} to use another server)"
        ) from None
    listed: set[str] | None = None
    if response.is_success:
        try:
            listed = {m.id for m in PARSERS[gateway](json.loads(content))}
        except ValueError:
            listed = None
    return probe, listed


def run(
    gateways: Sequence[str] = DOCTOR_GATEWAYS,
    models: Sequence[str] = DEFAULT_MODELS,
    *,
    record_dir: Path | None = None,
    timeout: float = 60.0,
    explicit: bool = False,
) -> tuple[list[Finding], Spend, list[Path]]:
    """Probe each gateway (those with a key, unless `explicit`) and model; raises DoctorError before any
    chat request when a key is missing for an explicitly named gateway, none has one, or one is offline."""
    chosen = [g for g in gateways if explicit or get_dialect(g).env_api_key()]
    if not chosen:
        names = " / ".join(" or ".join(get_dialect(g).api_key_envs) for g in gateways)
        raise DoctorError(f"doctor needs a gateway key: set {names}")
    spend, findings, written = Spend(), [], []
    with httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0))) as client:
        started = [
            _start(g, client, spend, record_dir is not None) for g in chosen
        ]  # all offline checks first
        for probe, listed in started:
            for model in models:
                try:
                    check_model(probe, model, listed)
                except (httpx.TransportError, GatewayError) as exc:
                    probe.findings.append(
                        Finding(probe.gateway, model, "probe", "FAIL", str(exc), "an answer")
                    )
            findings += probe.findings
            if record_dir is not None and probe.exchanges:
                path = record_dir / f"{probe.gateway}.yaml"
                written.append(write_cassette(path, probe.exchanges, probe.key))
    return findings, spend, written


def render(findings: Sequence[Finding], spend: Spend) -> str:
    """The findings as aligned columns, then the spend line."""
    rows = [("GATEWAY", "MODEL", "CHECK", "STATUS", "OBSERVED", "CATALOG ASSUMES")]
    rows += [(f.gateway, f.model, f.check, f.status, f.observed, f.assumed) for f in findings]
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r[:5], widths, strict=True)) + "  " + r[5] for r in rows]
    unknown = f", {spend.unpriced} without a reported cost" if spend.unpriced else ""
    lines.append(f"\nspent: ${spend.usd:.6f} over {spend.requests} chat requests{unknown}")
    failed = sum(f.status == "FAIL" for f in findings)
    lines.append(f"{failed} assumption(s) wrong" if failed else "every assumption held")
    return "\n".join(lines)
