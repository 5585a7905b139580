"""Turn an error answer — any body shape either gateway (or its upstream) sends — into one typed
`GatewayError`.

Shapes seen (see ../shared/reference/gateways.md):
- OpenAI envelope `{"error": {"message", "type", "param", "code"}}` (APIpie, OpenRouter upstreams, vLLM), also
  `{"error": "text"}`;
- AI/ML API `{"message", "path", "requestId", "statusCode", "timestamp"}`;
- problem+json `{"title", "status", "message", "instance", "requestId", "timestamp", "error": {"name",
  "message"}}`;
- APIpie out of credit `{"code": "ACCOUNT_ERROR"}` (no message at all);
- FastAPI-style `{"detail": "..."}` or `{"detail": [{"msg": ...}]}` from local servers;
- HTML error pages (proxies, Cloudflare), plain text, empty bodies;
- a 200 whose JSON (or one SSE chunk) carries an `error` object.

`parse_error_data` reads the fields, `error_from_response` / `error_from_payload` pick the class: first the
status (`STATUS_ERRORS`), then the refinements below, which look at the body (credits, context window).
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._constants import ERROR_EXCERPT_CHARS
from ._exceptions import (
    ContextWindowExceededError,
    GatewayError,
    InsufficientCreditsError,
    error_class_for_status,
)
from ._retry import parse_retry_after

if TYPE_CHECKING:
    from collections.abc import Mapping

REQUEST_ID_HEADERS = ("x-inference-id", "x-request-id", "request-id")
"""Checked in order, then the body's requestId, then `cf-ray` as a last resort. `x-inference-id` is AI/ML
API's id of the request (gateways.md Corrections: live replies)."""

_CREDIT_CODES = frozenset({"account_error", "insufficient_quota", "insufficient_credits", "payment_required"})
_CREDIT_TEXT = re.compile(
    r"run out of credits|out of credit|insufficient[ _](?:credit|balance|funds|quota)|credit balance|top up",
    re.IGNORECASE,
)
_CONTEXT_CODES = frozenset({"context_length_exceeded", "context_window_exceeded", "string_above_max_length"})
_CONTEXT_TEXT = re.compile(
    r"context[ _](?:length|window)|maximum context|prompt is too long|too many (?:input )?tokens",
    re.IGNORECASE,
)
_CONTEXT_STATUSES = frozenset({200, 400, 413, 422})
_WINDOW_NUMBER = re.compile(r"(?:maximum context length|context window|context length) (?:is|of) (\d+)", re.I)
_PROMPT_NUMBER = re.compile(
    r"\((\d+) in the messages|resulted in (\d+) tokens|prompt (?:has|of|is) (\d+)", re.I
)
_COMPLETION_NUMBER = re.compile(r"(\d+) in the completion", re.I)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAG_OR_SCRIPT = re.compile(r"<(script|style)[^>]*>.*?</\1>|<[^>]+>", re.IGNORECASE | re.DOTALL)
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class ErrorData:
    """The fields of one error body, whatever its shape."""

    message: str | None = None
    type: str | None = None
    code: str | int | None = None
    param: str | None = None
    request_id: str | None = None
    status: int | None = None
    """A status the body itself names (AI/ML `statusCode`, problem+json `status`, an in-band `error.code`)."""


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, list):  # FastAPI validation: [{"loc": [...], "msg": "...", "type": "..."}]
        parts = [str(item.get("msg", item)) if isinstance(item, dict) else str(item) for item in value]
        return "; ".join(parts) or None
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else str(value)


def _status(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and 100 <= value < 600:
        return value
    if isinstance(value, str) and value.isdigit() and 100 <= int(value) < 600:
        return int(value)
    return None


def parse_error_data(data: Any) -> ErrorData:
    """Read message/type/code/param/requestId from a decoded JSON error body of any known shape."""
    if isinstance(data, list) and data and isinstance(data[0], dict):  # some proxies wrap errors in a list
        data = data[0]
    if not isinstance(data, dict):
        return ErrorData(message=_text(data))
    err = data.get("error")
    message = type_ = code = param = request_id = None
    status = None
    if isinstance(err, dict):
        message = _text(err.get("message")) or _text(err.get("msg"))
        type_ = _text(err.get("type")) or _text(err.get("name"))
        code = err.get("code")
        param = _text(err.get("param"))
        request_id = _text(err.get("requestId")) or _text(err.get("request_id"))
        status = _status(code) or _status(err.get("status"))
    elif isinstance(err, str) and err:
        message = err
    message = (
        message
        or _text(data.get("message"))
        or _text(data.get("detail"))
        or _text(data.get("title"))
        or _text(data.get("msg"))
    )
    if code is None:
        code = data.get("code")
    if code is not None and not isinstance(code, (str, int)):
        code = str(code)
    return ErrorData(
        message=message,
        type=type_ or _text(data.get("type")),
        code=code,
        param=param,
        request_id=request_id or _text(data.get("requestId")) or _text(data.get("request_id")),
        status=status or _status(data.get("statusCode")) or _status(data.get("status")),
    )


def text_excerpt(text: str, limit: int = ERROR_EXCERPT_CHARS) -> str:
    """A short excerpt of a non-JSON body: an HTML page's <title> (else its text), whitespace collapsed."""
    title = _TITLE.search(text)
    if title and title.group(1).strip():
        text = title.group(1)
    elif "<" in text and ">" in text:
        text = _TAG_OR_SCRIPT.sub(" ", text)
    text = _SPACES.sub(" ", html.unescape(text)).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _request_id(headers: Mapping[str, str], data: ErrorData) -> str | None:
    for name in REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return value
    return data.request_id or headers.get("cf-ray") or None


def _is_credits(data: ErrorData) -> bool:
    code = str(data.code).lower() if data.code is not None else ""
    type_ = (data.type or "").lower()
    return code in _CREDIT_CODES or type_ in _CREDIT_CODES or bool(_CREDIT_TEXT.search(data.message or ""))


def _is_context(data: ErrorData) -> bool:
    code = str(data.code).lower() if data.code is not None else ""
    return code in _CONTEXT_CODES or bool(_CONTEXT_TEXT.search(data.message or ""))


def _first_int(pattern: re.Pattern[str], text: str) -> int | None:
    match = pattern.search(text)
    if match is None:
        return None
    return next(int(group) for group in match.groups() if group is not None)


def _build(
    data: ErrorData,
    *,
    status: int | None,
    message: str,
    gateway: str,
    headers: Mapping[str, str],
    body: Any,
) -> GatewayError:
    common: dict[str, Any] = {
        "status_code": status,
        "gateway": gateway,
        "request_id": _request_id(headers, data),
        "body": body,
        "retry_after": parse_retry_after(headers),
        "headers": headers,
    }
    if _is_credits(data) and (status is None or 400 <= status < 500 or status == 200):
        return InsufficientCreditsError(message, **common)
    if _is_context(data) and status in _CONTEXT_STATUSES:
        return ContextWindowExceededError(
            message,
            context_window=_first_int(_WINDOW_NUMBER, message),
            prompt_tokens=_first_int(_PROMPT_NUMBER, message),
            max_tokens=_first_int(_COMPLETION_NUMBER, message),
            **common,
        )
    return error_class_for_status(status)(message, **common)


def error_from_response(
    status: int,
    headers: Mapping[str, str],
    content: bytes,
    *,
    gateway: str,
    hint: str | None = None,
) -> GatewayError:
    """The error for a non-2xx answer. `hint` (e.g. a deprecation note) is appended to 400/404 messages."""
    text = content.decode("utf-8", errors="replace").strip()
    body: Any = None
    data = ErrorData()
    if text:
        try:
            body = json.loads(text)
        except ValueError:
            body = text
        else:
            data = parse_error_data(body)
    if data.message:
        message = data.message
    elif data.code is not None and str(data.code).lower() == "account_error":
        message = f"ACCOUNT_ERROR from {gateway}: the account is out of credit or not active; top it up"
    elif text:
        message = f"HTTP {status} from {gateway}: {text_excerpt(text)}"
    else:
        message = f"HTTP {status} from {gateway} (empty body)"
    if hint and status in (400, 404):
        message = f"{message} — {hint}"
    return _build(data, status=status, message=message, gateway=gateway, headers=headers, body=body)


def error_from_payload(
    payload: Mapping[str, Any],
    *,
    gateway: str,
    headers: Mapping[str, str] | None = None,
) -> GatewayError:
    """The error for a 2xx answer (a completion or an SSE chunk) that carries an `error` object in-band."""
    data = parse_error_data(dict(payload))
    status = data.status or 200
    message = data.message or f"{gateway} answered with an error object: {text_excerpt(json.dumps(payload))}"
    return _build(data, status=status, message=message, gateway=gateway, headers=headers or {}, body=payload)
