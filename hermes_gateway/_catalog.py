"""The built-in catalog of Hermes models: ids per gateway, limits, formats, deprecations, prices.

Why a built-in catalog at all: the two gateways name the same model differently (APIpie
`hermes-3-llama-3-1-70b`, AI/ML API `nousresearch/hermes-3-llama-3.1-70b`, Hugging Face
`NousResearch/Hermes-3-Llama-3.1-70B`), and the client needs facts before the first request: whether `tools`
may be sent natively, which role tool results go back in, the context window for the context guard, and
whether the model was retired (so a 404 can be explained instead of being opaque).

Sources, cited per entry below: the APIpie Hermes page (the "seed table": Max Tokens / Response Tokens /
Provider per model), the AI/ML API Nous-Hermes-2 page and model specs, and the Nous Research model cards as
summarised in the project's reference notes (`hermes.md`, `gateways.md`). Where a number is not documented
the comment says what was used instead. No price is documented in those sources, so every built-in price is
unknown (`cost_usd` returns None); live prices come from `_models_api`.

Lookup is O(1): every name a user may type (canonical name, `NousResearch/` form, each gateway's id, aliases)
is normalised once into `_INDEX` at import.
"""

from __future__ import annotations

import datetime as _dt
import warnings
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

ToolRole = Literal["tool", "user"]

APIPIE = "apipie"
AIMLAPI = "aimlapi"
OPENAI = "openai"
"""Any OpenAI-compatible server (vLLM, Ollama, llama.cpp, LM Studio); it names models as it was started."""
CATALOG_GATEWAYS: tuple[str, ...] = (APIPIE, AIMLAPI)
"""Gateways whose model ids the catalog knows."""

_PREFIX = "nousresearch/"


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


# --- the entries -----------------------------------------------------------------------------------------

_AIMLAPI_MIXTRAL_RETIRED = Deprecation(
    date=_dt.date(2025, 9, 9),
    # AI/ML API model database, "deprecated (no longer supported) models": "you cannot call them".
    message="AI/ML API no longer serves this model; requests to it fail",
    replacement="nousresearch/hermes-3-llama-3.1-70b",
)

_LOCAL_TOOLS = "confirmed: vLLM's hermes tool parser and llama.cpp/Ollama templates (hermes.md)"
_TOOL_EVIDENCE: Mapping[str, str] = {
    OPENAI: _LOCAL_TOOLS,
    AIMLAPI: "unconfirmed: the model spec declares tools, the Function Calling page lists no nousresearch "
    "model, unknown fields are dropped silently (gateways.md Corrections); check with `doctor`",
    APIPIE: "not native: `tools` go to a separate tools_model (default gpt-4o-mini), charged twice "
    "(APIpie Tools.md); the Hermes prompt format is used",
}

BUILTIN_MODELS: tuple[ModelInfo, ...] = (
    # --- the seed table (APIpie Hermes page): context = "Max Tokens", max output = "Response Tokens" ---
    ModelInfo(
        name="nous-hermes-llama2-13b",
        gateway_ids={APIPIE: "nous-hermes-llama2-13b"},
        context_window=4096,  # seed table
        max_output_tokens=4096,  # seed table
        prompt_format="alpaca",
        hf_id="NousResearch/Nous-Hermes-Llama2-13b",
        providers={APIPIE: ("openrouter",)},  # seed table
        description="Llama 2 13B fine-tune, Alpaca prompt; not trained on a tool format.",
    ),
    ModelInfo(
        name="nous-hermes-2-mixtral-8x7b-dpo",
        gateway_ids={
            APIPIE: "nous-hermes-2-mixtral-8x7b-dpo",
            AIMLAPI: "NousResearch/Nous-Hermes-2-Mixtral-8x7B-DPO",
        },
        context_window=32768,  # seed table (APIpie, both rows)
        max_output_tokens=32768,  # seed table
        prompt_format="chatml",
        hf_id="NousResearch/Nous-Hermes-2-Mixtral-8x7B-DPO",
        # AI/ML API Nous-Hermes-2 spec: roles user|developer|system|assistant — no tools, no tool role.
        tool_roles={AIMLAPI: "user"},
        deprecations={AIMLAPI: _AIMLAPI_MIXTRAL_RETIRED},
        default_max_tokens={AIMLAPI: 512},  # AI/ML API Nous-Hermes-2 spec: max_tokens default 512
        # Seed table: `nous-hermes-2-mixtral-8x7b-dpo` via openrouter, `Nous-Hermes-2-Mixtral-8x7B-DPO` via
        # together; gateways.md saw `hermes-2-mixtral-8x7b-dpo` on APIpie in late 2025.
        providers={APIPIE: ("openrouter", "together"), AIMLAPI: ("together",)},
        alt_ids={APIPIE: ("Nous-Hermes-2-Mixtral-8x7B-DPO", "hermes-2-mixtral-8x7b-dpo")},
        aliases=("hermes-2-mixtral-8x7b-dpo",),
        description="Mixtral 8x7B DPO fine-tune, ChatML; not trained on a tool format.",
    ),
    ModelInfo(
        name="nous-hermes-2-vision-7b",
        gateway_ids={APIPIE: "nous-hermes-2-vision-7b"},
        context_window=4096,  # seed table
        max_output_tokens=4096,  # seed table
        prompt_format="llava",
        vision=True,  # seed table type "vision"; images as OpenAI image_url parts
        hf_id="NousResearch/Nous-Hermes-2-Vision-Alpha",
        providers={APIPIE: ("openrouter",)},
        aliases=("nous-hermes-2-vision-alpha",),
        description="OpenHermes-2.5 + SigLIP, LLaVA v1 prompt; image inputs; own <fn_call> format, no tools.",
    ),
    ModelInfo(
        name="openhermes-2.5-mistral-7b",
        gateway_ids={APIPIE: "openhermes-2.5-mistral-7b"},
        context_window=4096,  # seed table; the HF config says 32768 with a 4096 sliding window
        max_output_tokens=4096,  # seed table
        prompt_format="chatml",
        hf_id="teknium/OpenHermes-2.5-Mistral-7B",
        providers={APIPIE: ("openrouter",)},
        description="Mistral 7B fine-tune, ChatML; not trained on a tool format.",
    ),
    ModelInfo(
        name="chronos-hermes-13b-v2",
        gateway_ids={APIPIE: "chronos-hermes-13b-v2"},
        context_window=4096,  # seed table
        max_output_tokens=4096,  # seed table
        prompt_format="alpaca",
        hf_id="Austism/chronos-hermes-13b-v2",
        providers={APIPIE: ("deepinfra",)},  # seed table
        description="Chronos + Nous-Hermes Llama 2 13B merge, Alpaca prompt; not trained on a tool format.",
    ),
    # --- current models. Native tools are CONFIRMED only for "openai" (local vLLM / llama.cpp / Ollama parse
    # the Hermes format natively). AI/ML API: its Hermes 3/4 specs declare tools and the tool role, but its
    # Function Calling page lists no nousresearch model and it silently drops unknown fields (gateways.md
    # Corrections), so tools there are `declared_tools`, unconfirmed: auto mode uses the Hermes prompt format
    # and `python -m hermes_gateway doctor` checks native tools live. APIpie is deliberately NOT native: its
    # Tools feature sends a request carrying `tools` to a separate `tools_model` (default gpt-4o-mini, only
    # OpenAI/Anthropic models allowed) first, so the calls would not come from Hermes and are charged twice —
    # prompt mode lets Hermes make them. Max output is undocumented for these: the context window is used,
    # as the gateways cap a request at the context anyway. ---
    ModelInfo(
        name="hermes-2-pro-llama-3-8b",
        gateway_ids={APIPIE: "hermes-2-pro-llama-3-8b"},  # gateways.md: seen on APIpie
        context_window=8192,  # hermes.md (Llama 3 8B)
        max_output_tokens=8192,  # undocumented: the context window
        prompt_format="chatml",
        native_tools=frozenset({OPENAI}),
        trained_tool_calls=True,
        hf_id="NousResearch/Hermes-2-Pro-Llama-3-8B",
        aliases=("hermes-2-pro-llama3-8b",),
        description="Llama 3 8B, ChatML; the first Hermes trained on <tool_call> / <tool_response>.",
    ),
    *(
        ModelInfo(
            name=f"hermes-3-llama-3.1-{size}",
            gateway_ids=ids,
            context_window=131072,  # hermes.md (one provider served 65536); AI/ML API lists ~131k
            max_output_tokens=131072,  # undocumented: the context window
            prompt_format="chatml",
            native_tools=frozenset({OPENAI}),
            declared_tools=frozenset(ids.keys() & {AIMLAPI}),
            tool_evidence=_TOOL_EVIDENCE if ids else {OPENAI: _LOCAL_TOOLS},
            trained_tool_calls=True,
            hf_id=f"NousResearch/Hermes-3-Llama-3.1-{size.upper()}",
            # Ollama library tags; a bare `hermes3` (and `:latest`) is the 8B
            aliases=(f"hermes3:{size}", *(("hermes3", "hermes3:latest") if size == "8b" else ())),
            description=f"Llama 3.1 {size.upper()}, ChatML; <tool_call> tools, tool role.",
        )
        for size, ids in (
            ("8b", {}),  # served by neither gateway (not in either list): local servers only
            ("70b", {APIPIE: "hermes-3-llama-3-1-70b", AIMLAPI: "nousresearch/hermes-3-llama-3.1-70b"}),
            ("405b", {APIPIE: "hermes-3-llama-3-1-405b", AIMLAPI: "nousresearch/hermes-3-llama-3.1-405b"}),
        )
    ),
    *(
        ModelInfo(
            name=f"hermes-4-{size}",
            gateway_ids={APIPIE: f"hermes-4-{size}", AIMLAPI: f"nousresearch/hermes-4-{size}"},
            context_window=131072,  # hermes.md; AI/ML API lists ~131k
            max_output_tokens=131072,  # undocumented: the context window
            # hermes.md: "Llama-3-chat (card contradicts itself)" — the gateways apply the template anyway.
            prompt_format="llama3",
            native_tools=frozenset({OPENAI}),
            declared_tools=frozenset({AIMLAPI}),
            tool_evidence=_TOOL_EVIDENCE,
            reasoning=True,  # emits <think> reasoning
            trained_tool_calls=True,
            hf_id=f"NousResearch/Hermes-4-{size.upper()}",
            description=f"Llama 3.1 {size.upper()} base, hybrid reasoning (<think>); <tool_call> tools.",
        )
        for size in ("70b", "405b")
    ),
)


# --- resolution -------------------------------------------------------------------------------------------


def _norm(name: str) -> str:
    """The lookup key: case-folded, `NousResearch/` dropped, `.` and `_` spelled as `-` (3.1 ≡ 3-1)."""
    key = name.strip().lower()
    if key.startswith(_PREFIX):
        key = key[len(_PREFIX) :]
    return key.replace(".", "-").replace("_", "-")


def _names_of(info: ModelInfo) -> Iterable[str]:
    yield info.name
    yield from info.aliases
    yield from info.gateway_ids.values()
    for ids in info.alt_ids.values():
        yield from ids
    if info.hf_id:
        yield info.hf_id


def build_index(models: Iterable[ModelInfo]) -> dict[str, ModelInfo]:
    """Map every normalised name of every model to it; two models claiming one name is a catalog bug."""
    index: dict[str, ModelInfo] = {}
    for info in models:
        for raw in _names_of(info):
            key = _norm(raw)
            other = index.setdefault(key, info)
            if other is not info:
                raise ValueError(f"catalog name {raw!r} is claimed by both {other.name!r} and {info.name!r}")
    return index


_INDEX: dict[str, ModelInfo] = build_index(BUILTIN_MODELS)


def _lookup_exact(name_or_id: str) -> ModelInfo | None:
    found = _INDEX.get(_norm(name_or_id))
    if found is None and ":" in name_or_id:
        base, _, tag = name_or_id.partition(":")
        found = _INDEX.get(_norm(f"{base}:{tag.split('-', 1)[0]}"))
    return found


def provider_prefix(name_or_id: str) -> str | None:
    """The upstream provider of a `provider/model` id (`openrouter/hermes-3-llama-3-1-70b` → `openrouter`).

    None when the name is not of that form, or when the whole name is already a catalog name (a Hugging Face
    path such as `NousResearch/Hermes-3-Llama-3.1-70B` is a name, not a provider choice).
    """
    prefix, slash, rest = name_or_id.strip().partition("/")
    if not slash or not prefix or not rest or _lookup_exact(name_or_id) is not None:
        return None
    return prefix.lower() if _lookup_exact(rest) is not None else None


def lookup(name_or_id: str) -> ModelInfo | None:
    """The catalog entry for a canonical name, `NousResearch/` name, any gateway's id or an alias.

    Ollama tags with a quantisation suffix (`hermes3:8b-llama3.1-q4_K_M`) resolve to their size's tag. A
    provider-prefixed id (`openrouter/hermes-3-llama-3-1-70b`, as APIpie's Cline fork and AnythingLLM send
    them; gateways.md Corrections) resolves to the model after the prefix.
    """
    found = _lookup_exact(name_or_id)
    if found is None and "/" in name_or_id:
        found = _lookup_exact(name_or_id.strip().partition("/")[2])
    return found


def resolve_model_id(name: str, gateway: str) -> str:
    """The id to send on `gateway`. Unknown names, and models the catalog has no id for there, pass through.

    For `openai` (local servers) the name is always sent as given: those servers name a model however they
    were started (vLLM the Hugging Face path, Ollama a tag such as `hermes3:8b`). A provider-prefixed id
    (`openrouter/hermes-3-llama-3-1-70b`) is sent as given too: the prefix picks the upstream provider.
    """
    info = lookup(name)
    if info is None or provider_prefix(name) is not None:
        return name
    own = info.gateway_ids.get(gateway)
    if own is None or name == own or name in info.alt_ids.get(gateway, ()):
        return name
    return own


def deprecation_message(info: ModelInfo, gateway: str) -> str | None:
    """A sentence naming the model, gateway, date and what to use instead; None if not deprecated there."""
    dep = info.deprecation(gateway)
    if dep is None:
        return None
    model_id = info.gateway_ids.get(gateway, info.name)
    verb = "was retired" if dep.date <= _dt.date.today() else "will be retired"
    text = f"{model_id} {verb} on {gateway} on {dep.date.isoformat()}: {dep.message}."
    options: list[str] = []
    if dep.replacement:
        options.append(f"use {dep.replacement!r} instead")
    others = [g for g in info.gateways if g != gateway and info.deprecation(g) is None]
    if others:
        options.append("use the same model on " + " or ".join(f"gateway={g!r}" for g in others))
    if options:
        advice = ", or ".join(options)
        text += f" {advice[0].upper()}{advice[1:]}."
    return text


def warn_if_deprecated(name: str, gateway: str, *, stacklevel: int = 2) -> Deprecation | None:
    """Warn (HermesModelDeprecatedWarning) when `name` is deprecated on `gateway`; for adapter constructors.

    The model still constructs with its metadata: the warning only says a request may be refused and what to
    use instead. `stacklevel` means what it would in a `warnings.warn` call made by the caller: the default
    points at whoever called the adapter's constructor. Returns the deprecation, or None.
    """
    info = lookup(name)
    if info is None:
        return None
    message = deprecation_message(info, gateway)
    if message is None:
        return None
    warnings.warn(HermesModelDeprecatedWarning(message), stacklevel=stacklevel + 1)
    return info.deprecation(gateway)


def models_for(gateway: str | None = None) -> tuple[ModelInfo, ...]:
    """The built-in models, optionally only those with an id on `gateway`."""
    if gateway is None:
        return BUILTIN_MODELS
    return tuple(m for m in BUILTIN_MODELS if gateway in m.gateway_ids)
