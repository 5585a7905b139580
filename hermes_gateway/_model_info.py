"""The shapes of the model catalog: `ModelInfo`, `Deprecation`, `Price`, and the gateway names it keys on.

Types only; the entries are in `_catalog_data.py` and the lookup logic in `_catalog.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import datetime as _dt
    from collections.abc import Mapping

ToolRole = Literal["tool", "user"]

APIPIE = "apipie"
AIMLAPI = "aimlapi"
OPENAI = "openai"
"""Any OpenAI-compatible server (vLLM, Ollama, llama.cpp, LM Studio); it names models as it was started."""
CATALOG_GATEWAYS: tuple[str, ...] = (APIPIE, AIMLAPI)
"""Gateways whose model ids the catalog knows."""


class HermesModelDeprecatedWarning(UserWarning):
    """A model was retired (or is being retired) on the gateway it is about to be used with."""


@dataclass(frozen=True, slots=True)
class Deprecation:
    """A gateway's retirement of one model."""

    date: _dt.date
    """The day the gateway stopped (or will stop) serving it."""
    message: str
    """What the gateway said, in a sentence."""
    replacement: str | None = None
    """A model id to move to on the same gateway, if there is an obvious one."""


@dataclass(frozen=True, slots=True)
class Price:
    """USD per one million tokens on one gateway."""

    input_per_mtok: float
    output_per_mtok: float


def _frozen_map(value: Mapping[str, object] | None) -> Mapping[str, object]:
    return MappingProxyType(dict(value or {}))


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What the client needs to know about one Hermes model, on every gateway that serves it.

    Instances are immutable; mapping fields are read-only views (dicts passed in are copied).
    """

    name: str
    """Canonical name, e.g. `hermes-3-llama-3.1-70b`."""
    gateway_ids: Mapping[str, str]
    """The id to send as `model` on each gateway that serves it (`apipie`, `aimlapi`)."""
    context_window: int
    max_output_tokens: int
    prompt_format: str
    """`chatml` | `alpaca` | `llama3` | `llava` (or `unknown` for a model only the live list knows)."""
    native_tools: frozenset[str] = frozenset()
    """Gateways where sending `tools` natively is CONFIRMED to make *this model* produce the tool calls.

    `tool_mode="auto"` uses native tools only here and the Hermes prompt format everywhere else (Hermes
    models are trained on it). Where it was confirmed is in `tool_evidence`."""
    declared_tools: frozenset[str] = frozenset()
    """Gateways whose model spec declares `tools` without it being confirmed (AI/ML API's Hermes 3/4 specs:
    its Function Calling page lists no nousresearch model and it silently drops fields it does not use).
    Sending `tools` there is allowed (`tool_mode="native"`), just not relied on; `doctor` checks it."""
    tool_evidence: Mapping[str, str] = field(default_factory=dict)
    """Per gateway: what is known about native tools for this model, and from where (shown by `models`)."""
    vision: bool = False
    reasoning: bool = False
    aliases: tuple[str, ...] = ()
    """Other names that resolve to this model (spelling variants, Ollama tags)."""
    hf_id: str | None = None
    """The Hugging Face repository, which is also the name vLLM serves it under."""
    tool_roles: Mapping[str, ToolRole] = field(default_factory=dict)
    """Role for tool results per gateway, where it is not `tool` (see `tool_role`)."""
    deprecations: Mapping[str, Deprecation] = field(default_factory=dict)
    prices: Mapping[str, Price] = field(default_factory=dict)
    """Known prices per gateway; a gateway missing here means the price is unknown."""
    default_max_tokens: Mapping[str, int] = field(default_factory=dict)
    """The gateway's own default for `max_tokens` when none is sent, where documented (replies stop there)."""
    providers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Upstream providers each gateway routes this model to, where documented."""
    alt_ids: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Other ids the same gateway serves this model under; a user who names one keeps it."""
    trained_tool_calls: bool = False
    """Trained on the Hermes `<tool_call>` format, so prompt-mode tools work well."""
    think_opened: frozenset[str] = frozenset()
    """Gateways whose chat template for this model opens `<think>` itself, so replies start inside
    reasoning and only `</think>` comes (see `starts_in_reasoning`). None is confirmed for the catalog's
    gateways today; a request's `starts_in_reasoning` overrides it."""
    description: str = ""

    def __post_init__(self) -> None:
        # Freeze whatever the caller passed (dicts, lists, sets) so a shared catalog entry cannot be mutated.
        for name in (
            "gateway_ids",
            "tool_roles",
            "deprecations",
            "prices",
            "default_max_tokens",
            "tool_evidence",
        ):
            object.__setattr__(self, name, _frozen_map(getattr(self, name)))
        object.__setattr__(
            self, "providers", MappingProxyType({k: tuple(v) for k, v in self.providers.items()})
        )
        object.__setattr__(self, "alt_ids", MappingProxyType({k: tuple(v) for k, v in self.alt_ids.items()}))
        object.__setattr__(self, "native_tools", frozenset(self.native_tools))
        object.__setattr__(self, "think_opened", frozenset(self.think_opened))
        object.__setattr__(self, "declared_tools", frozenset(self.declared_tools))
        object.__setattr__(self, "aliases", tuple(self.aliases))

    def __hash__(self) -> int:
        return hash(self.name)

    @property
    def gateways(self) -> tuple[str, ...]:
        """The catalog gateways that list this model, in catalog order (deprecated ones included)."""
        return tuple(g for g in CATALOG_GATEWAYS if g in self.gateway_ids)

    def supports_native_tools(self, gateway: str) -> bool:
        """Native tools are confirmed on `gateway` (what `tool_mode="auto"` relies on)."""
        return gateway in self.native_tools

    def starts_in_reasoning(self, gateway: str) -> bool:
        """Replies on `gateway` start inside `<think>` (the template opened it): see `think_opened`."""
        return gateway in self.think_opened

    def declares_tools(self, gateway: str) -> bool:
        """The gateway's spec for this model takes `tools` (confirmed or not): sending them is no 400."""
        return gateway in self.native_tools or gateway in self.declared_tools

    def tool_role(self, gateway: str) -> ToolRole:
        """The role tool results go back in: `user` where the gateway or model has no tool role."""
        role = self.tool_roles.get(gateway)
        if role is not None:
            return role
        # Models older than Hermes 2 Pro were not trained with a tool role (hermes.md: "older: user").
        return "tool" if self.trained_tool_calls else "user"

    def deprecation(self, gateway: str) -> Deprecation | None:
        return self.deprecations.get(gateway)

    def price(self, gateway: str) -> Price | None:
        return self.prices.get(gateway)

    def cost_usd(self, gateway: str, prompt_tokens: int, completion_tokens: int) -> float | None:
        """The cost of one request from catalog prices, or None when the gateway's price is unknown."""
        if prompt_tokens < 0 or completion_tokens < 0:
            raise ValueError("token counts must be >= 0")
        price = self.prices.get(gateway)
        if price is None:
            return None
        return (prompt_tokens * price.input_per_mtok + completion_tokens * price.output_per_mtok) / 1_000_000
