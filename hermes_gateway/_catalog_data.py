"""The built-in catalog entries (data only): ids per gateway, limits, formats, deprecations, prices.

Sources, cited per entry below: the APIpie Hermes page (the "seed table": Max Tokens / Response Tokens /
Provider per model), the AI/ML API Nous-Hermes-2 page and model specs, and the Nous Research model cards as
summarised in the project's reference notes (`hermes.md`, `gateways.md`). Where a number is not documented
the comment says what was used instead. No price is documented in those sources, so every built-in price is
unknown (`cost_usd` returns None); live prices come from `_models_api`.

The lookup logic is in `_catalog.py`; the types in `_model_info.py`.
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING

from ._model_info import AIMLAPI, APIPIE, OPENAI, Deprecation, ModelInfo

if TYPE_CHECKING:
    from collections.abc import Mapping

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
