"""Checks a request must pass before any I/O: the context guard and the vision guard. Pure functions.

Both run inside `_request.prepare_request`, on the body about to be sent (so Hermes prompt mode's rendered
tool prompt counts), and only when the catalog knows the model: an unknown model always passes.

Vision guard: an image part (`{"type": "image_url", ...}`, also `image` / `input_image`) sent to a model the
catalog marks as text-only raises `VisionNotSupportedError`, naming the model and the catalog's vision
models. It is a `BadRequestError` (the gateway would refuse the request with a 400: retrying or failing over
cannot help, and `except GatewayError` catches it like every other failure) and also a `ValueError` (the
request itself is wrong, which is what a framework user expects to catch).

Context guard: the rule is `estimate > context_window * CONTEXT_GUARD_MARGIN` (1.10), with an estimate that is
deliberately biased LOW, so it never fires on a prompt that could fit:
- text counts its non-whitespace characters / CHARS_PER_TOKEN (4), and a run of one repeated character
  (`=====`, which BPE merges) counts as at most 4 characters. English runs at about 3.6 non-whitespace
  characters per token on the Llama 3 and Mistral tokenizers, so the estimate is ~10% under; digits, code,
  JSON, base64 and non-Latin scripts have more tokens per character, so they are underestimated further;
- each message adds MESSAGE_TOKEN_OVERHEAD (3) template tokens, each image IMAGE_TOKEN_ESTIMATE (576);
- tool schemas (`tools`) count as their JSON text; message text, tool-call names and arguments count, the
  structural fields (`role`, `type`, ids) do not; audio and file parts count nothing.
`max_tokens` is NOT part of the rule: some providers clamp an over-long `max_tokens` to what is left of the
window instead of refusing, so a prompt that fits with a clamped answer must not be stopped here. It is
reported in the error. Whatever the guard lets through, the gateway's own context-length 400 still becomes
a `ContextWindowExceededError` (`_error_bodies`).

Cost: walking the body is only a `len()` per string. The careful count (whitespace, runs) is made only when
the plain character count / 4 is already over the limit, which the careful count can only lower.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from ._catalog import BUILTIN_MODELS
from ._constants import CHARS_PER_TOKEN, CONTEXT_GUARD_MARGIN, IMAGE_TOKEN_ESTIMATE, MESSAGE_TOKEN_OVERHEAD
from ._exceptions import ContextWindowExceededError, VisionNotSupportedError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from ._catalog import ModelInfo

IMAGE_PART_TYPES: frozenset[str] = frozenset({"image_url", "image", "input_image"})
"""Content part types that carry an image (OpenAI `image_url`, and the names other servers use)."""
UNCOUNTED_PART_TYPES: frozenset[str] = frozenset({"input_audio", "audio", "file"})
"""Parts whose base64 payload says nothing cheap about tokens: counted as nothing (the estimate stays low)."""
STRUCTURAL_KEYS: frozenset[str] = frozenset({"role", "type", "id", "tool_call_id", "format", "detail"})
"""Message and part fields the chat template does not render as text (the role is in the overhead)."""
_RUN = re.compile(r"(\S)\1{4,}")
"""Five or more of one non-space character: counted as four."""


# --- vision -----------------------------------------------------------------------------------------------


def _is_image_part(part: Any) -> bool:
    return isinstance(part, dict) and (part.get("type") in IMAGE_PART_TYPES or "image_url" in part)


def count_images(messages: Iterable[dict[str, Any]]) -> int:
    """How many image parts the messages carry."""
    total = 0
    for message in messages:
        content = message.get("content")
        if isinstance(content, list):
            total += sum(1 for part in content if _is_image_part(part))
    return total


def vision_models(gateway: str | None = None) -> list[tuple[str, str]]:
    """(model id, gateway) of each catalog model that takes images, on `gateway` or on any gateway."""
    found: list[tuple[str, str]] = []
    for info in BUILTIN_MODELS:
        if not info.vision:
            continue
        for name, model_id in info.gateway_ids.items():
            if (gateway is None or name == gateway) and info.deprecation(name) is None:
                found.append((model_id, name))
    return found


def check_vision(
    messages: Sequence[dict[str, Any]], info: ModelInfo | None, *, model: str, gateway: str
) -> None:
    """Raise `VisionNotSupportedError` when images go to a model the catalog knows has no vision."""
    if info is None or info.vision:
        return
    images = count_images(messages)
    if not images:
        return
    here = vision_models(gateway)
    options = here or vision_models()
    if options:
        advice = " or ".join(f"model={m!r} with gateway={g!r}" for m, g in options)
        advice = f"send images to a vision model ({advice}), or remove the image parts"
    else:
        advice = "remove the image parts"
    raise VisionNotSupportedError(
        f"{model} on {gateway} does not accept images (the catalog marks {info.name} as text-only) and the "
        f"request carries {images} image part{'s' if images != 1 else ''}: {advice}",
        model=model,
        gateway=gateway,
    )


# --- context ----------------------------------------------------------------------------------------------


def _collect(value: Any, texts: list[str]) -> int:
    """Append every countable string under `value` to `texts`; return the number of images found."""
    if isinstance(value, str):
        texts.append(value)
        return 0
    if isinstance(value, dict):
        if _is_image_part(value):
            return 1
        if value.get("type") in UNCOUNTED_PART_TYPES:
            return 0
        return sum(_collect(item, texts) for key, item in value.items() if key not in STRUCTURAL_KEYS)
    if isinstance(value, (list, tuple)):
        return sum(_collect(item, texts) for item in value)
    if value is not None and not isinstance(value, bool):
        texts.append(str(value))
    return 0


def _careful_chars(text: str) -> int:
    """Non-whitespace characters, with runs of one repeated character counted as four."""
    chars = len(text) - text.count(" ") - text.count("\n") - text.count("\t") - text.count("\r")
    for match in _RUN.finditer(text):
        chars -= len(match.group()) - 4
    return chars


def estimate_prompt_tokens(
    messages: Sequence[dict[str, Any]],
    tools: Sequence[dict[str, Any]] | None = None,
    *,
    careful: bool = True,
) -> int:
    """A cheap, low-biased estimate of the prompt's tokens (see the module docstring for the rule).

    `careful=False` gives the upper end (all characters / 4): the guard only makes the careful count when
    that is already over the limit.
    """
    texts: list[str] = []
    images = _collect(list(messages), texts)
    if tools:
        texts.append(json.dumps(list(tools), ensure_ascii=False, separators=(",", ":")))
    chars = sum(map(_careful_chars, texts)) if careful else sum(map(len, texts))
    return chars // CHARS_PER_TOKEN + MESSAGE_TOKEN_OVERHEAD * len(messages) + IMAGE_TOKEN_ESTIMATE * images


def check_context(
    messages: Sequence[dict[str, Any]],
    tools: Sequence[dict[str, Any]] | None,
    info: ModelInfo | None,
    *,
    model: str,
    gateway: str,
    max_tokens: int | None = None,
) -> None:
    """Raise `ContextWindowExceededError` when the prompt is clearly over the model's context window."""
    if info is None or info.context_window <= 0:
        return
    window = info.context_window
    limit = window * CONTEXT_GUARD_MARGIN
    if estimate_prompt_tokens(messages, tools, careful=False) <= limit:
        return
    estimate = estimate_prompt_tokens(messages, tools)
    if estimate <= limit:
        return
    wanted = f" plus max_tokens={max_tokens}" if max_tokens else ""
    raise ContextWindowExceededError(
        f"the prompt is about {estimate:,} tokens (a low estimate){wanted}, more than the {window:,}-token "
        f"context window of {model} ({info.name}): shorten or summarise the conversation, drop documents or "
        "tools, or use a model with a larger window. Nothing was sent.",
        prompt_tokens=estimate,
        context_window=window,
        max_tokens=max_tokens,
        gateway=gateway,
    )


def check_request(body: dict[str, Any], info: ModelInfo | None, *, gateway: str) -> None:
    """Both guards on a prepared body (vision first: its advice is more useful than a token count)."""
    if info is None:
        return
    messages: list[dict[str, Any]] = body.get("messages") or []
    model = str(body.get("model", info.name))
    check_vision(messages, info, model=model, gateway=gateway)
    max_tokens = body.get("max_tokens") or body.get("max_completion_tokens")
    check_context(
        messages,
        body.get("tools"),
        info,
        model=model,
        gateway=gateway,
        max_tokens=max_tokens if isinstance(max_tokens, int) else None,
    )
