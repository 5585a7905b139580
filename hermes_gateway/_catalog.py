"""The built-in catalog of Hermes models: name resolution, deprecations (the lookup logic).

Why a built-in catalog at all: the two gateways name the same model differently (APIpie
`hermes-3-llama-3-1-70b`, AI/ML API `nousresearch/hermes-3-llama-3.1-70b`, Hugging Face
`NousResearch/Hermes-3-Llama-3.1-70B`), and the client needs facts before the first request: whether `tools`
may be sent natively, which role tool results go back in, the context window for the context guard, and
whether the model was retired (so a 404 can be explained instead of being opaque).

The entries live in `_catalog_data.py` (data only) and the types in `_model_info.py`; both are re-exported
here so `_catalog` stays the one import for catalog facts.

Lookup is O(1): every name a user may type (canonical name, `NousResearch/` form, each gateway's id, aliases)
is normalised once into `_INDEX` at import.
"""

from __future__ import annotations

import datetime as _dt
import warnings
from typing import TYPE_CHECKING

from ._catalog_data import BUILTIN_MODELS
from ._model_info import (
    AIMLAPI,
    APIPIE,
    CATALOG_GATEWAYS,
    OPENAI,
    Deprecation,
    HermesModelDeprecatedWarning,
    ModelInfo,
    Price,
    ToolRole,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

__all__ = [
    "AIMLAPI",
    "APIPIE",
    "BUILTIN_MODELS",
    "CATALOG_GATEWAYS",
    "OPENAI",
    "Deprecation",
    "HermesModelDeprecatedWarning",
    "ModelInfo",
    "Price",
    "ToolRole",
    "build_index",
    "deprecation_message",
    "lookup",
    "model_id_on",
    "models_for",
    "provider_prefix",
    "resolve_model_id",
    "warn_if_deprecated",
]

_PREFIX = "nousresearch/"


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
    return model_id_on(lookup(name), name, gateway)


def model_id_on(info: ModelInfo | None, name: str, gateway: str) -> str:
    """`resolve_model_id` from an entry already looked up (the client looks each request up once)."""
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


def warn_if_deprecated(name: str, gateway: str | Sequence[str], *, stacklevel: int = 2) -> Deprecation | None:
    """Warn (HermesModelDeprecatedWarning) for each of `gateway` (a name or a list: a client's routes) that
    retired `name`; the one check both adapters' constructors call. Gateways the catalog does not cover
    (`openai`) are skipped.

    The model still constructs with its metadata: the warning only says a request may be refused and what to
    use instead. `stacklevel` means what it would in a `warnings.warn` call made by the caller: the default
    points at whoever called the adapter's constructor. Returns the first deprecation, or None.
    """
    info = lookup(name)
    if info is None:
        return None
    found: Deprecation | None = None
    for each in (gateway,) if isinstance(gateway, str) else gateway:
        message = deprecation_message(info, each)
        if message is None:
            continue
        warnings.warn(HermesModelDeprecatedWarning(message), stacklevel=stacklevel + 1)
        found = found or info.deprecation(each)
    return found


def models_for(gateway: str | None = None) -> tuple[ModelInfo, ...]:
    """The built-in models, optionally only those with an id on `gateway`."""
    if gateway is None:
        return BUILTIN_MODELS
    return tuple(m for m in BUILTIN_MODELS if gateway in m.gateway_ids)
