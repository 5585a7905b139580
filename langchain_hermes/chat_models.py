"""`ChatHermes`: Hermes models on APIpie, AI/ML API or an OpenAI-compatible server, as a LangChain chat model.

Input flow:  LangChain messages + bound kwargs → `_prepare` (pure: wire messages, defaults, per-call
             overrides, checked by the core's `check_call_options`) → a `ChatRequest` for this model's
             `GatewayClient` (one route per gateway of `gateway=`).
Output flow: `GatewayClient.stream` → `ChatDelta`s → chunks (`_convert.delta_to_chunk`, and `final_chunk`
             for the one delta carrying finish_reason + usage); `GatewayClient.chat` (the same deltas, added
             up by the core) → `ChatResult` → `AIMessage` (`_convert.result_to_message`).

The four entry points (`_generate`, `_agenerate`, `_stream`, `_astream`) only call the client and map its
output: validation, tool-call parsing and judging, JSON mode, Hermes prompt mode, retries, failover and
usage all live in the core (`hermes_gateway`, through its public API only).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, cast

from langchain_core.language_models import BaseChatModel, LangSmithParams, LanguageModelInput
from langchain_core.language_models.model_profile import ModelProfile
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import AliasChoices, ConfigDict, Field, PrivateAttr, SecretStr, field_validator, model_validator
from typing_extensions import Self

from hermes_gateway import (
    CATALOG_GATEWAYS,
    DIALECTS,
    FEATURE_OPTIONS,
    REQUEST_FIELDS,
    APIpieMemory,
    GatewayClient,
    check_call_options,
    check_options,
    count_text_tokens,
    env_key,
    gateway_field,
    json_mode_via_prompt,
    lookup,
    merge_call_options,
    resolve_routes,
    warn_if_deprecated,
)

from . import _blocks  # noqa: F401  # registers the "hermes" content-block translator
from ._connection import ClientSlot, aclose_client, client_of, close_client, settings_key
from ._convert import (
    delta_to_chunk,
    final_chunk,
    messages_to_wire,
    result_to_generation,
    tool_choice_to_wire,
)
from ._errors import langchain_errors
from ._structured import build_structured_output
from ._tokens import NO_TOKEN_IDS, count_messages

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator, Sequence

    from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
    from langchain_core.load.serializable import SerializedConstructor, SerializedNotImplemented
    from langchain_core.messages import AIMessage, BaseMessage
    from langchain_core.outputs import ChatGeneration
    from langchain_core.runnables import Runnable
    from langchain_core.tools import BaseTool

    from hermes_gateway import ChatRequest, Route, ToolMode
    from hermes_gateway import ChatResult as CoreChatResult

_DROPPED_KWARGS = ("stream", "ls_structured_output_format", "structured_output_format")
"""Kwargs LangChain may pass through to `_generate` that are not request parameters."""

JSON_SCHEMA_KWARG = "hermes_json_schema"
"""Bound by `with_structured_output` for the JSON methods: the schema the reply must follow, sent as the
request's `json_schema` (the core puts it in `response_format`, the Hermes `<schema>` prompt, or both, per
route)."""

CALL_OPTIONS: frozenset[str] = frozenset(
    {
        *REQUEST_FIELDS,
        *FEATURE_OPTIONS,
        "model",
        "tool_mode",
        "extra_body",
        JSON_SCHEMA_KWARG,
        *_DROPPED_KWARGS,
    }
)
"""Per-call keywords `invoke` / `bind` accept; anything else is a TypeError before anything is sent."""

REASONING_WIRE_FIELD = "reasoning_content"
"""The assistant-message field reasoning is sent back in, for models the catalog marks as reasoning."""


@dataclass(slots=True)
class _Call:
    """One prepared call: the wire request and what the reply mapping needs."""

    request: ChatRequest
    tool_mode: ToolMode
    model_name: str


class ChatHermes(BaseChatModel):
    """Nous Research Hermes models through APIpie, AI/ML API or a local OpenAI-compatible server.

    ```python
    from langchain_hermes import ChatHermes

    llm = ChatHermes(model="hermes-3-llama-3.1-70b", gateway="aimlapi")  # key from AIMLAPI_API_KEY
    llm.invoke("Hello")

    # failover: AI/ML API gets the request when APIpie cannot serve it
    llm = ChatHermes(model="hermes-3-llama-3.1-70b", gateway=["apipie", "aimlapi"])
    llm.invoke("Hello").response_metadata["gateway"]  # the gateway that served
    ```

    `model` may be a canonical catalog name, a `NousResearch/...` name or any gateway's id: it is resolved to
    the id of the chosen gateway. Tool calling works for every model: natively where the catalog says the
    model supports `tools` on that gateway, otherwise through the Hermes `<tool_call>` prompt (`tool_mode`).
    """

    model_config = ConfigDict(
        populate_by_name=True, extra="forbid", arbitrary_types_allowed=True, hide_input_in_errors=True
    )
    """`hide_input_in_errors`: a validation error must not quote the constructor's input (it has the key)."""

    model: str = Field(default="hermes-3-llama-3.1-70b", validation_alias=AliasChoices("model", "model_name"))
    """Catalog name, `NousResearch/` name, or a gateway's model id; unknown names are sent unchanged."""
    gateway: str | list[str] = "apipie"
    """`apipie`, `aimlapi`, or `openai` (any OpenAI-compatible server; needs `base_url`); or a list of them,
    tried in order: the next gateway gets the request when one fails with what another could serve (outage,
    5xx, 429, timeout, retired model; retries spent), never once a streamed reply has started. The gateway
    that served is `response_metadata["gateway"]`. A one-item list is the same as the name."""
    api_key: SecretStr | dict[str, SecretStr] | None = None
    """Read from the gateway's env var (APIPIE_API_KEY, AIMLAPI_API_KEY / AIML_API_KEY, OPENAI_API_KEY) when
    not given. Never required at construction: a missing key is reported at the first request. With several
    gateways, a mapping per gateway (`{"apipie": ..., "aimlapi": ...}`); missing ones come from the env."""
    base_url: str | dict[str, str] | None = None
    """None: the gateway's `*_BASE_URL` env var, else its public endpoint. With several gateways, a mapping
    per gateway."""
    temperature: float | None = None
    """0 to 2 (checked by the core, as every sampling range is)."""
    max_tokens: int | None = None
    top_p: float | None = None
    stop: list[str] | None = Field(default=None, validation_alias=AliasChoices("stop", "stop_sequences"))
    timeout: float | None = None
    """Seconds for connecting and for each read; None: the core's default (60 s)."""
    max_retries: int | None = None
    """Retries after the first attempt on connection errors, 408/409/429/5xx; None: the core's default (2)."""
    streaming: bool = False
    """Stream under `invoke` too (LangChain's `streaming=True` convention)."""
    stream_usage: bool = True
    """Report usage on the last streamed chunk (the core always asks for it where the gateway allows);
    False leaves `usage_metadata` off streamed replies."""
    tool_mode: Literal["auto", "native", "hermes"] = "auto"
    """`auto`: native `tools` where the catalog says they work, else the Hermes prompt; or force one."""
    starts_in_reasoning: bool | None = None
    """The chat template opens `<think>` itself (QwQ, R1 distills, Qwen3 thinking, Hermes 4 with thinking
    forced on): the reply starts inside reasoning. None: the catalog decides. Also a per-call kwarg."""
    provider: str | None = None
    """Upstream provider to route to (APIpie `provider`, e.g. `openrouter`; AI/ML API `provider` override)."""
    force_provider: bool | None = None
    """APIpie: fail instead of falling back when `provider` cannot serve the request."""
    routing: Literal["price", "perf", "perf_avg", "perf-avg"] | None = None
    """APIpie: route by lowest price, best performance or best average performance (`perf-avg`, the other
    spelling in APIpie's docs, is sent as `perf_avg`)."""
    thinking: bool | None = None
    """Hermes 4 reasoning: True adds the model card's thinking system prompt (works on every gateway)."""
    reasoning_effort: Literal["low", "medium", "high"] | None = None
    """Sent where documented (AI/ML API); not sent to APIpie, which documents no reasoning control."""
    memory: APIpieMemory | None = None
    """APIpie Integrated Model Memory: send only the new turn when set (docs/gateway-features.md)."""
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Extra top-level request fields (e.g. `seed`, `presence_penalty`)."""
    extra_body: dict[str, Any] | None = None
    """Merged into the JSON body last: gateway extensions such as `top_k`, `repetition_penalty`, `min_p`."""
    default_headers: dict[str, str] | None = None
    allow_insecure_http: bool = False
    """Allow plain http to a non-loopback `base_url`."""

    _slot: ClientSlot = PrivateAttr(default_factory=ClientSlot)

    @property
    def gateways(self) -> tuple[str, ...]:
        """The gateway names in the order they are tried (one for a plain `gateway="apipie"`)."""
        return (self.gateway,) if isinstance(self.gateway, str) else tuple(self.gateway)

    @property
    def _primary(self) -> str:
        """The first gateway: what LangSmith and replies name unless another one is known to have served."""
        return self.gateways[0]

    # --- validation --------------------------------------------------------------------------------------

    @model_validator(mode="before")
    @classmethod
    def _check_unknown(cls, values: Any) -> Any:
        if isinstance(values, dict):
            known = set(cls.model_fields)
            for field in cls.model_fields.values():
                if isinstance(field.validation_alias, AliasChoices):
                    known.update(str(c) for c in field.validation_alias.choices)
            unknown = sorted(k for k in values if k not in known)
            if unknown:
                raise ValueError(
                    f"unknown ChatHermes parameter(s) {unknown}: pass request fields in model_kwargs= "
                    "(top-level) or extra_body= (gateway extensions)"
                )
        return values

    @field_validator("gateway", mode="before")
    @classmethod
    def _check_gateway_list(cls, value: Any) -> Any:
        """One clear message for a misspelt or repeated gateway (the core's wording)."""
        return gateway_field(value)

    @model_validator(mode="after")
    def _check_gateway_options(self) -> Self:
        gateways = self.gateways
        check_options(
            {
                "temperature": self.temperature,
                "max_tokens": self.max_tokens,
                "top_p": self.top_p,
                "timeout": self.timeout,
                "max_retries": self.max_retries,
                **self.model_kwargs,
            }
        )
        # Keys, base URLs and "openai needs a base_url": the core's checks, now rather than at the first call.
        routes = resolve_routes(
            gateways,
            api_key=self.api_key,
            base_url=self.base_url,
            allow_insecure_http=self.allow_insecure_http,
        )
        self.api_key = _with_env_keys(routes, isinstance(self.api_key, dict))
        if gateways != ("apipie",) and (self.routing is not None or self.force_provider is not None):
            raise ValueError(
                "routing= and force_provider= are APIpie options; use them with gateway='apipie' alone "
                "(with a gateway list the other gateways would get them too)"
            )
        if self.provider is not None and (len(gateways) > 1 or gateways == ("openai",)):
            raise ValueError(
                "provider= routes on one gateway (APIpie or AI/ML API): use it with gateway='apipie' or "
                "'aimlapi' alone, not with gateway='openai' or a gateway list"
            )
        overlap = sorted(set(self.model_kwargs) & set(type(self).model_fields))
        if overlap:
            raise ValueError(f"model_kwargs {overlap} are ChatHermes parameters: pass them directly")
        if "model" in self.model_kwargs or "messages" in self.model_kwargs:
            raise ValueError("model_kwargs may not set 'model' or 'messages'")
        if not self.model.strip():
            raise ValueError("model must be a non-empty model name")
        warn_if_deprecated(self.model, gateways, stacklevel=4)
        return self

    # --- LangChain metadata ------------------------------------------------------------------------------

    @property
    def _llm_type(self) -> str:
        return "hermes-chat"

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["langchain_hermes", "chat_models"]

    @property
    def lc_secrets(self) -> dict[str, str]:
        # A per-gateway mapping is still declared under "api_key" (LangChain only trusts secret markers under
        # a declared top-level name); `to_json` then writes one marker per gateway.
        return {"api_key": DIALECTS[self._primary].api_key_envs[0]}

    def to_json(self) -> SerializedConstructor | SerializedNotImplemented:
        """LangChain serialisation. A per-gateway `api_key` becomes one secret marker per gateway (named by
        that gateway's env var): no key is written, and `loads(..., secrets_map=...)` restores the mapping."""
        serialized = super().to_json()
        if isinstance(self.api_key, dict) and serialized["type"] == "constructor":
            serialized["kwargs"]["api_key"] = {
                gateway: {"lc": 1, "type": "secret", "id": [DIALECTS[gateway].api_key_envs[0]]}
                for gateway in self.api_key
            }
        return serialized

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "gateway": self.gateway,
            "base_url": self.base_url,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "top_p": self.top_p,
            "stop": self.stop,
            "tool_mode": self.tool_mode,
            "provider": self.provider,
            "force_provider": self.force_provider,
            "routing": self.routing,
            "model_kwargs": self.model_kwargs,
            "extra_body": self.extra_body,
        }

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = LangSmithParams(
            ls_provider=self._primary,
            ls_model_name=str(kwargs.get("model") or self.model),
            ls_model_type="chat",
        )
        temperature = kwargs.get("temperature", self.temperature)
        if temperature is not None:
            params["ls_temperature"] = temperature
        max_tokens = kwargs.get("max_tokens", self.max_tokens)
        if max_tokens is not None:
            params["ls_max_tokens"] = max_tokens
        if ls_stop := stop or kwargs.get("stop") or self.stop:
            params["ls_stop"] = ls_stop
        return params

    def _resolve_model_profile(self) -> ModelProfile | None:
        info = lookup(self.model)
        if info is None:
            return None
        # Deprecated when no gateway in the list still serves it undeprecated.
        deprecated = all(g in CATALOG_GATEWAYS and info.deprecation(g) is not None for g in self.gateways)
        return ModelProfile(
            name=info.name,
            status="deprecated" if deprecated else "active",
            open_weights=True,
            max_input_tokens=info.context_window,
            max_output_tokens=info.max_output_tokens,
            text_inputs=True,
            text_outputs=True,
            image_inputs=info.vision,
            image_url_inputs=info.vision,
            pdf_inputs=False,
            audio_inputs=False,
            video_inputs=False,
            image_tool_message=False,
            pdf_tool_message=False,
            reasoning_output=info.reasoning,
            # Every model can call tools: natively where the catalog says so, else via the Hermes prompt.
            tool_calling=True,
            tool_choice=True,
            tool_call_streaming=True,
            structured_output=not json_mode_via_prompt(self.gateways, info, "auto"),
        )

    # --- the client --------------------------------------------------------------------------------------

    def _client_key(self) -> tuple[Any, ...]:
        return settings_key(self)

    def _get_client(self) -> GatewayClient:
        """This model's client (one route per gateway), created on first use and reused."""
        return client_of(self)

    def close(self) -> None:
        """Close this model's HTTP connections (a new client is created if the model is used again)."""
        close_client(self)

    async def aclose(self) -> None:
        await aclose_client(self)

    # --- request building (pure) -------------------------------------------------------------------------

    def _prepare(self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]) -> _Call:
        check_call_options(kwargs, CALL_OPTIONS, where="ChatHermes")  # before anything is built or sent
        kwargs = dict(kwargs)
        for name in _DROPPED_KWARGS:
            kwargs.pop(name, None)
        model_name = str(kwargs.pop("model", None) or self.model)
        tool_mode = cast("ToolMode", kwargs.pop("tool_mode", None) or self.tool_mode)
        json_schema = kwargs.pop(JSON_SCHEMA_KWARG, None)
        info = lookup(model_name)

        wire = messages_to_wire(
            messages, reasoning_field=REASONING_WIRE_FIELD if info is not None and info.reasoning else None
        )
        # The core resolves the name to this gateway's id (and looks it up again for tool mode and costs).
        request: ChatRequest = {"model": model_name, "messages": wire}
        if self.temperature is not None:
            request["temperature"] = self.temperature
        if self.top_p is not None:
            request["top_p"] = self.top_p
        if self.max_tokens is not None:
            request["max_tokens"] = self.max_tokens
        stop_list = stop if stop is not None else self.stop
        if stop_list:
            request["stop"] = list(stop_list)
        if self.starts_in_reasoning is not None:
            request["starts_in_reasoning"] = self.starts_in_reasoning
        body = cast("dict[str, Any]", request)
        body.update(self.model_kwargs)

        extra: dict[str, Any] = {}
        if self.provider is not None:
            extra["provider"] = self.provider
        if self.force_provider is not None:
            extra["force_provider"] = self.force_provider
        if self.routing is not None:
            extra["routing"] = self.routing
        if self.thinking is not None:
            extra["thinking"] = self.thinking
        if self.reasoning_effort is not None:
            extra["reasoning_effort"] = self.reasoning_effort
        if self.memory is not None:
            extra["memory"] = self.memory
        if self.extra_body:
            extra.update(self.extra_body)
        merge_call_options(body, extra, kwargs)
        if extra:
            request["extra_body"] = extra
        if json_schema is not None:  # the core decides per route where the schema goes
            request["json_schema"] = json_schema
        return _Call(request=request, tool_mode=tool_mode, model_name=model_name)

    # --- the four entry points ---------------------------------------------------------------------------

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        call = self._prepare(messages, stop, kwargs)
        with langchain_errors():
            result = self._get_client().chat(call.request, tool_mode=call.tool_mode)
        return ChatResult(generations=self._generations(result, call.model_name))

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        call = self._prepare(messages, stop, kwargs)
        with langchain_errors():
            result = await self._get_client().achat(call.request, tool_mode=call.tool_mode)
        return ChatResult(generations=self._generations(result, call.model_name))

    def _generations(self, result: CoreChatResult, model_name: str) -> list[ChatGeneration]:
        """One generation per model: an APIpie multi-model request (`model="a,b"`) answers one completion per
        model (`result.others`), each named after the model it came from; never dropped."""
        names = [name.strip() for name in model_name.split(",")]
        results = [result, *result.others]
        return [
            result_to_generation(
                one,
                model_name=names[i] if i < len(names) else (one.model or model_name),
                gateway=self._primary,
            )
            for i, one in enumerate(results)
        ]

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        call = self._prepare(messages, stop, kwargs)
        model_name, primary, usage = call.model_name, self._primary, self.stream_usage
        with langchain_errors(), self._get_client().stream(call.request, tool_mode=call.tool_mode) as deltas:
            for delta in deltas:
                if delta.finish_reason is None:
                    yield delta_to_chunk(delta)
                else:
                    yield final_chunk(delta, model_name=model_name, gateway=primary, usage=usage)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        call = self._prepare(messages, stop, kwargs)
        model_name, primary, usage = call.model_name, self._primary, self.stream_usage
        with langchain_errors():
            async with self._get_client().astream(call.request, tool_mode=call.tool_mode) as deltas:
                async for delta in deltas:
                    if delta.finish_reason is None:
                        yield delta_to_chunk(delta)
                    else:
                        yield final_chunk(delta, model_name=model_name, gateway=primary, usage=usage)

    # --- token counting: an offline estimate (`_tokens`) unless custom_get_token_ids is set -------------

    def get_token_ids(self, text: str) -> list[int]:
        if self.custom_get_token_ids is None:
            raise NotImplementedError(NO_TOKEN_IDS)
        return self.custom_get_token_ids(text)

    def get_num_tokens(self, text: str) -> int:
        """Tokens in `text`: an estimate of the Hermes tokenizers' count (docs/langchain.md)."""
        if self.custom_get_token_ids is not None:
            return len(self.custom_get_token_ids(text))
        return count_text_tokens(text)

    def get_num_tokens_from_messages(
        self, messages: list[BaseMessage], tools: Sequence[Any] | None = None
    ) -> int:
        """Prompt tokens of `messages` (and `tools`) with the chat template: an estimate (docs/langchain.md).

        What `trim_messages(..., token_counter=llm)` and agent middleware call."""
        if self.custom_get_token_ids is not None:
            return super().get_num_tokens_from_messages(messages, tools)
        return count_messages(messages, tools)

    # --- tools and structured output ---------------------------------------------------------------------

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: dict[str, Any] | str | bool | None = None,
        strict: bool | None = None,
        parallel_tool_calls: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools (BaseTool, functions, pydantic models, TypedDicts or OpenAI dicts) to this model.

        `tool_choice`: a tool's name, `"auto"`, `"none"`, or `"any"` / `"required"` / True to force a call.
        In prompt mode the core renders the tools and the choice into the Hermes system prompt.
        """
        formatted = [convert_to_openai_tool(tool, strict=strict) for tool in tools]
        names = [t["function"]["name"] for t in formatted if "function" in t]
        choice = tool_choice_to_wire(tool_choice, names)
        if choice is not None:
            kwargs["tool_choice"] = choice
        if parallel_tool_calls is not None:
            kwargs["parallel_tool_calls"] = parallel_tool_calls
        return super().bind(tools=formatted, **kwargs)

    def with_structured_output(
        self,
        schema: dict[str, Any] | type | None = None,
        *,
        method: Literal["function_calling", "json_mode", "json_schema"] = "function_calling",
        include_raw: bool = False,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, dict[str, Any] | Any]:
        """Structured output via tool calling (default), `json_mode` or `json_schema`.

        Where the gateway does not take `response_format` (APIpie, prompt mode), the JSON methods put the
        schema in the Hermes `<schema>` system prompt and read the JSON out of the reply leniently.
        """
        return build_structured_output(
            self, schema, method=method, include_raw=include_raw, strict=strict, **kwargs
        )


def _with_env_keys(routes: Sequence[Route], as_mapping: bool) -> SecretStr | dict[str, SecretStr] | None:
    """The checked keys (whitespace stripped), completed from the environment at construction (LangChain's
    convention): one key for one gateway, else a mapping per gateway."""
    keys = {r.gateway: key for r in routes if (key := r.api_key or env_key(r.dialect)) is not None}
    if len(routes) == 1 and not as_mapping:
        return keys.get(routes[0].gateway)
    return keys or None


__all__ = ["ChatHermes"]
