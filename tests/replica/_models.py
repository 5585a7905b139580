"""The replica's model table: which ids each dialect serves and how each model behaves on the wire.

One row per (dialect, model id). The behaviours are the documented quirks from
shared/reference/gateways.md and hermes.md, so that a test can pick a model to get a quirk:
refused `tools`, tool calls left as `<tool_call>` text, inline `<think>` versus a `reasoning` field,
finish_reason `eos`, a stream without `data: [DONE]`, a deprecated id.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

Dialect = Literal["apipie", "aimlapi", "openai"]
DIALECTS: tuple[Dialect, ...] = ("apipie", "aimlapi", "openai")

ToolSupport = Literal["native", "text", "refused"]
"""native: `tools` answered with message.tool_calls; text: accepted, but the calls come back as
`<tool_call>` text in content (the provider leaves them unparsed); refused: `tools` is an error."""

Reasoning = Literal["none", "inline", "field", "reasoning_content"]
"""inline: `<think>...</think>` at the start of content; field: `message.reasoning` / `delta.reasoning`
(OpenRouter style, AI/ML API); reasoning_content: vLLM's field name."""


@dataclass(frozen=True, slots=True)
class ReplicaModel:
    id: str
    name: str
    tools: ToolSupport
    provider: str = "openrouter"
    route: str = ""
    """APIpie answers with the upstream route as `model` (send `gpt-4o`, get `openai/gpt-4o`)."""
    vision: bool = False
    reasoning: Reasoning = "none"
    finish_eos: bool = False
    """AI/ML API over Together: finish_reason "eos" instead of "stop"."""
    done_marker: bool = True
    """Whether a stream ends with `data: [DONE]`."""
    deprecated: str | None = None
    """The date after which every request is refused."""
    context_length: int = 131072
    max_output: int = 8192
    subtype: str = "chat"
    input_cost_per_m: float = 0.5
    output_cost_per_m: float = 0.5
    fenced_json: bool = False
    """In `<schema>` prompt JSON mode the model wraps its JSON in a ```json fence (older Hermes 2)."""

    @property
    def wire_model(self) -> str:
        return self.route or self.id


_APIPIE: tuple[ReplicaModel, ...] = (
    ReplicaModel(
        "nous-hermes-llama2-13b",
        "Nous Hermes Llama2 13B",
        "refused",
        provider="deepinfra",
        route="nousresearch/nous-hermes-llama2-13b",
        context_length=4096,
        max_output=2048,
        input_cost_per_m=0.18,
        output_cost_per_m=0.18,
    ),
    ReplicaModel(
        "nous-hermes-2-mixtral-8x7b-dpo",
        "Nous Hermes 2 Mixtral 8x7B DPO",
        "refused",
        provider="together",
        route="NousResearch/Nous-Hermes-2-Mixtral-8x7B-DPO",
        context_length=32768,
        max_output=4096,
        input_cost_per_m=0.6,
        output_cost_per_m=0.6,
        fenced_json=True,
    ),
    ReplicaModel(
        "nous-hermes-2-vision-7b",
        "Nous Hermes 2 Vision 7B",
        "refused",
        provider="deepinfra",
        route="nousresearch/nous-hermes-2-vision-7b",
        vision=True,
        context_length=4096,
        max_output=2048,
        subtype="multimodal",
        input_cost_per_m=0.2,
        output_cost_per_m=0.2,
    ),
    ReplicaModel(
        "openhermes-2.5-mistral-7b",
        "OpenHermes 2.5 Mistral 7B",
        "refused",
        provider="deepinfra",
        route="teknium/openhermes-2.5-mistral-7b",
        context_length=4096,
        max_output=2048,
        input_cost_per_m=0.17,
        output_cost_per_m=0.17,
    ),
    ReplicaModel(
        "chronos-hermes-13b-v2",
        "Chronos Hermes 13B v2",
        "refused",
        provider="together",
        route="austism/chronos-hermes-13b-v2",
        context_length=4096,
        max_output=2048,
        input_cost_per_m=0.3,
        output_cost_per_m=0.3,
    ),
    ReplicaModel(
        "hermes-2-pro-llama-3-8b",
        "Hermes 2 Pro Llama 3 8B",
        "native",
        route="nousresearch/hermes-2-pro-llama-3-8b",
        context_length=8192,
        max_output=2048,
        input_cost_per_m=0.14,
        output_cost_per_m=0.14,
    ),
    ReplicaModel(
        "hermes-3-llama-3-1-70b",
        "Hermes 3 Llama 3.1 70B",
        "native",
        route="nousresearch/hermes-3-llama-3.1-70b",
        input_cost_per_m=0.12,
        output_cost_per_m=0.3,
    ),
    ReplicaModel(
        "hermes-3-llama-3-1-405b",
        "Hermes 3 Llama 3.1 405B",
        "native",
        route="nousresearch/hermes-3-llama-3.1-405b",
        input_cost_per_m=1.0,
        output_cost_per_m=1.0,
    ),
    ReplicaModel(
        "hermes-4-70b",
        "Hermes 4 70B",
        "text",
        route="nousresearch/hermes-4-70b",
        reasoning="inline",
        subtype="reasoning",
        input_cost_per_m=0.13,
        output_cost_per_m=0.4,
    ),
    ReplicaModel(
        "hermes-4-405b",
        "Hermes 4 405B",
        "native",
        route="nousresearch/hermes-4-405b",
        reasoning="inline",
        subtype="reasoning",
        input_cost_per_m=1.0,
        output_cost_per_m=3.0,
    ),
)

_AIMLAPI: tuple[ReplicaModel, ...] = (
    ReplicaModel(
        "NousResearch/Nous-Hermes-2-Mixtral-8x7B-DPO",
        "Nous Hermes 2 Mixtral 8x7B DPO",
        "refused",
        provider="together",
        deprecated="2025-09-09",
        context_length=32768,
        max_output=512,
    ),
    ReplicaModel(
        "nousresearch/hermes-3-llama-3.1-70b",
        "Hermes 3 Llama 3.1 70B",
        "native",
        provider="together",
        finish_eos=True,
        done_marker=False,
        input_cost_per_m=0.16,
        output_cost_per_m=0.39,
    ),
    ReplicaModel(
        "nousresearch/hermes-3-llama-3.1-405b",
        "Hermes 3 Llama 3.1 405B",
        "native",
        input_cost_per_m=1.04,
        output_cost_per_m=1.04,
    ),
    ReplicaModel(
        "nousresearch/hermes-4-70b",
        "Hermes 4 70B",
        "native",
        reasoning="field",
        done_marker=False,
        input_cost_per_m=0.17,
        output_cost_per_m=0.52,
    ),
    ReplicaModel(
        "nousresearch/hermes-4-405b",
        "Hermes 4 405B",
        "native",
        reasoning="field",
        input_cost_per_m=1.3,
        output_cost_per_m=3.9,
    ),
)

_OPENAI: tuple[ReplicaModel, ...] = (
    ReplicaModel("NousResearch/Hermes-3-Llama-3.1-8B", "Hermes 3 Llama 3.1 8B", "native", provider="vllm"),
    ReplicaModel(
        "NousResearch/Hermes-2-Pro-Llama-3-8B",
        "Hermes 2 Pro Llama 3 8B",
        "native",
        provider="vllm",
        context_length=8192,
    ),
    ReplicaModel(
        "NousResearch/Hermes-4-70B",
        "Hermes 4 70B",
        "native",
        provider="vllm",
        reasoning="reasoning_content",
    ),
    ReplicaModel("hermes3:8b", "Hermes 3 8B (Ollama)", "native", provider="ollama"),
)

MODELS: dict[Dialect, tuple[ReplicaModel, ...]] = {"apipie": _APIPIE, "aimlapi": _AIMLAPI, "openai": _OPENAI}


def find_model(dialect: Dialect, model_id: str) -> ReplicaModel | None:
    """The dialect's model for an id; AI/ML API ids are matched case-insensitively, like the gateway does."""
    for model in MODELS[dialect]:
        if model.id == model_id or (dialect == "aimlapi" and model.id.lower() == model_id.lower()):
            return model
    prefix, slash, rest = model_id.partition("/")
    if dialect == "apipie" and slash and prefix and rest:
        # `provider/model` picks the upstream (gateways.md Corrections: APIpie's Cline fork, AnythingLLM)
        found = find_model(dialect, rest)
        return replace(found, provider=prefix.lower()) if found is not None else None
    return None
