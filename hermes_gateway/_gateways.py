"""The gateway dialects: where each one lives, how it authenticates, and which request fields it takes.

A `Dialect` is data. Adding a gateway, or learning that one rejects a parameter, is a table edit here:
- `extension_params`: the gateway's own request fields, passed through from `extra_body` (and listed so
  adapters can offer them as typed options);
- `drop_rules`: parameters known to make that gateway (or a model on it) answer 400. `_request.py` drops them,
  with a debug log naming the rule, instead of sending the request into an error;
- `accepts_response_format`: whether JSON modes may be sent as `response_format`; where not, the adapters put
  the schema in the Hermes `<schema>` system prompt instead (`json_mode_via_prompt`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._catalog import ModelInfo

logger = logging.getLogger("hermes_gateway")

DropPredicate = Callable[[Any, "dict[str, Any]", "ModelInfo | None", str], bool]
"""(value, body, model info, gateway) → True to drop the parameter."""


@dataclass(frozen=True, slots=True)
class DropRule:
    """One parameter a gateway (or a model on it) is known to reject, and when."""

    param: str
    when: DropPredicate
    reason: str


def _no_native_tools(_value: Any, _body: dict[str, Any], info: ModelInfo | None, gateway: str) -> bool:
    return info is not None and not info.declares_tools(gateway)  # the spec has no tools at all


def _without_tools(_value: Any, body: dict[str, Any], _info: ModelInfo | None, _gateway: str) -> bool:
    return not body.get("tools")


def _not_streaming(_value: Any, body: dict[str, Any], _info: ModelInfo | None, _gateway: str) -> bool:
    return not body.get("stream")


def _seed_below_one(value: Any, _body: dict[str, Any], _info: ModelInfo | None, _gateway: str) -> bool:
    return isinstance(value, int) and value < 1


COMMON_DROP_RULES: tuple[DropRule, ...] = (
    DropRule("tool_choice", _without_tools, "tool_choice without tools is a 400 on OpenAI-style servers"),
    DropRule("parallel_tool_calls", _without_tools, "parallel_tool_calls without tools is a 400"),
    DropRule("stream_options", _not_streaming, "stream_options is only allowed when stream is true"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Dialect:
    """Everything the client needs to know about one gateway."""

    name: str
    default_base_url: str | None
    """None: the user must give one (the generic OpenAI-compatible dialect)."""
    api_key_envs: tuple[str, ...]
    """Checked in order at each request when no api_key was passed."""
    base_url_env: str
    key_required: bool = True
    """False for local OpenAI-compatible servers, which usually need no key."""
    accepts_stream_options: bool = True
    """Whether `stream_options: {"include_usage": true}` may be sent on streams."""
    accepts_response_format: bool = True
    """Whether the gateway documents `response_format` (`json_object` / `json_schema`). APIpie does not, so
    JSON modes there go through the Hermes `<schema>` prompt, which works on every gateway."""
    extension_params: frozenset[str] = frozenset()
    drop_rules: tuple[DropRule, ...] = field(default=COMMON_DROP_RULES)

    def env_api_key(self) -> str | None:
        """The first non-empty key among `api_key_envs`."""
        for name in self.api_key_envs:
            value = os.environ.get(name)
            if value:
                return value
        return None

    def env_base_url(self) -> str | None:
        return os.environ.get(self.base_url_env) or None

    def missing_key_message(self) -> str:
        names = " or ".join(self.api_key_envs)
        return f"no API key for {self.name}: set {names} or pass api_key="


APIPIE = Dialect(
    name="apipie",
    default_base_url="https://apipie.ai/v1",
    api_key_envs=("APIPIE_API_KEY",),
    base_url_env="APIPIE_BASE_URL",
    accepts_response_format=False,
    extension_params=frozenset(
        {
            "provider",
            "force_provider",
            "routing",
            "pool",
            "top_k",
            "repetition_penalty",
            "beam_size",
            "memory",
            "mem_session",
            "mem_expire",
            "mem_clear",
            "mem_msgs",
            "mem_length",
            "rag_tune",
            "tools_model",
            "integrity",
            "integrity_model",
        }
    ),
    drop_rules=COMMON_DROP_RULES,
)

AIMLAPI = Dialect(
    name="aimlapi",
    default_base_url="https://api.aimlapi.com/v1",
    api_key_envs=("AIMLAPI_API_KEY", "AIML_API_KEY"),
    base_url_env="AIMLAPI_BASE_URL",
    extension_params=frozenset(
        {
            "top_k",
            "min_p",
            "repetition_penalty",
            "echo",
            "prediction",
            "normalize_tool_schemas",
            "reasoning",
            "reasoning_effort",
            "provider",
        }
    ),
    drop_rules=(
        *COMMON_DROP_RULES,
        DropRule("seed", _seed_below_one, "AI/ML API requires seed >= 1 (Body validation error)"),
        DropRule(
            "parallel_tool_calls",
            _no_native_tools,
            "the model's AI/ML API spec has no tools, so parallel_tool_calls fails validation",
        ),
    ),
)

OPENAI_COMPATIBLE = Dialect(
    name="openai",
    default_base_url=None,
    api_key_envs=("OPENAI_API_KEY",),
    base_url_env="OPENAI_BASE_URL",
    key_required=False,
)

DIALECTS: dict[str, Dialect] = {d.name: d for d in (APIPIE, AIMLAPI, OPENAI_COMPATIBLE)}


def get_dialect(gateway: str) -> Dialect:
    """The dialect for a gateway name; ValueError naming the choices otherwise."""
    try:
        return DIALECTS[gateway]
    except KeyError:
        raise ValueError(f"unknown gateway {gateway!r}: choose one of {', '.join(DIALECTS)}") from None


def apply_drop_rules(body: dict[str, Any], dialect: Dialect, info: ModelInfo | None) -> None:
    """Remove, in place, the parameters `dialect` is known to reject for this body and model."""
    for rule in dialect.drop_rules:
        if rule.param in body and rule.when(body[rule.param], body, info, dialect.name):
            del body[rule.param]
            logger.debug("dropped %s for %s: %s", rule.param, dialect.name, rule.reason)


def json_mode_via_prompt(gateways: Iterable[str], info: ModelInfo | None, tool_mode: str) -> bool:
    """Whether a JSON-mode request should use the Hermes `<schema>` system prompt, not `response_format`.

    Yes in prompt mode (forced, or `auto` for a model the catalog says has no native tools on a gateway: such
    models' specs have no `response_format` either), and when any of `gateways` does not document
    `response_format` — with failover the same request may reach each of them, and the prompt works on all.
    """
    if tool_mode == "hermes":
        return True
    for gateway in gateways:
        if not get_dialect(gateway).accepts_response_format:
            return True
        if tool_mode == "auto" and info is not None and not info.declares_tools(gateway):
            return True
    return False
