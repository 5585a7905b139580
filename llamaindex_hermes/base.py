"""`Hermes`: Nous Research Hermes models on APIpie / AI/ML API as a LlamaIndex `FunctionCallingLLM`.

Input flow:  LlamaIndex messages (+ tools from `_prepare_chat_with_tools`) → `_convert.to_wire_messages` →
             a `ChatRequest` (`_build_request`, per-call options checked by the core) → this object's
             `GatewayClient` (created lazily; one route per gateway of `gateway=`).
Output flow: streamed: the client's `ChatDelta`s → `_convert.ResponseBuilder` → `ChatResponse`s;
             non-streamed: the client's `ChatResult` (the same delta pipeline, added up once in the core) →
             `_convert.response_from_result`. `complete` / `stream_complete` are the chat methods through
             LlamaIndex's `chat_to_completion` decorators.

The class only translates, through `hermes_gateway`'s public API: validation (the same checks and wording as
ChatHermes), retries, failover, SSE, the Hermes `<tool_call>` text parser and the verdict on tool-call
arguments, JSON mode, prompt-mode tools and usage all live in the core.
"""

from __future__ import annotations

import pickle
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, cast

from llama_index.core.base.llms.generic_utils import (
    achat_to_completion_decorator,
    astream_chat_to_completion_decorator,
    chat_to_completion_decorator,
    stream_chat_to_completion_decorator,
)
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
)
from llama_index.core.bridge.pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    field_validator,
    model_validator,
)
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.function_calling import FunctionCallingLLM
from typing_extensions import Self

from hermes_gateway import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    FEATURE_OPTIONS,
    GATEWAY_NAMES,
    REQUEST_FIELDS,
    APIpieMemory,
    BadRequestError,
    GatewayClient,
    ModelInfo,
    check_call_options,
    check_options,
    gateway_field,
    lookup,
    merge_call_options,
    resolve_routes,
    warn_if_deprecated,
)
from llamaindex_hermes._convert import (
    ResponseBuilder,
    force_single_tool_call,
    response_from_result,
    to_wire_messages,
    tool_choice_to_wire,
    tool_selections_from_response,
    tools_to_wire,
)

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Generator

    from llama_index.core.callbacks import CallbackManager
    from llama_index.core.llms.llm import ToolSelection
    from llama_index.core.tools.types import BaseTool

    from hermes_gateway import ChatRequest

GATEWAYS = GATEWAY_NAMES
"""The gateway names (the core's list, re-exported)."""
DEFAULT_MODEL = "hermes-3-llama-3.1-70b"
DEFAULT_CONTEXT_WINDOW = 8192
"""Context window reported for a model the catalog does not know (with a warning): small enough to be safe for
any Hermes model served today, so prompt packing never overflows; pass `context_window=` for the real one."""
NUM_OUTPUT_SHARE = 4
"""Without `max_tokens`, `num_output` is the catalog's max output capped at `context_window // 4`: the
catalog lists max output = the whole window for several models, and LlamaIndex reserves `num_output` out
of the window when it packs prompts, which would leave no room for the prompt at all."""

REASONING_WIRE_FIELD = "reasoning_content"
"""The assistant-message field a reasoning model's `ThinkingBlock`s are sent back in (as ChatHermes does)."""

_ADAPTER_KEYS = frozenset({"tool_mode", "formatted"})
CALL_OPTIONS: frozenset[str] = frozenset({*REQUEST_FIELDS, *FEATURE_OPTIONS, "extra_body", *_ADAPTER_KEYS})
"""Per-call keywords `chat` / `complete` accept; anything else is a TypeError before anything is sent
(gateway extensions go in `extra_body=`, or in `additional_kwargs` at construction)."""


class Hermes(FunctionCallingLLM):
    """A Hermes model on APIpie, AI/ML API or a local OpenAI-compatible server, for LlamaIndex.

    ```python
    from llama_index.core import Settings
    from llamaindex_hermes import Hermes

    Settings.llm = Hermes(model="hermes-3-llama-3.1-70b", gateway="aimlapi")  # key from AIMLAPI_API_KEY

    # failover: AI/ML API gets the request when APIpie cannot serve it; raw["gateway"] names who served
    Settings.llm = Hermes(model="hermes-3-llama-3.1-70b", gateway=["apipie", "aimlapi"])
    ```

    Tool calling always works: natively where the catalog says the model/gateway supports `tools`, otherwise
    through the Hermes `<tool_call>` prompt format (`tool_mode`). Usage and cost come from the gateway and are
    reported in `raw["usage"]` and `additional_kwargs`.
    """

    model: str = Field(default=DEFAULT_MODEL, description="Catalog name or gateway id of the Hermes model.")
    gateway: str | list[str] = Field(
        default="apipie",
        description='"apipie", "aimlapi", or "openai" (an OpenAI-compatible server); or a list of them tried '
        "in order (failover: the next one gets a request the previous could not serve; the one that served "
        'is `raw["gateway"]` and `additional_kwargs["gateway"]`).',
    )
    api_key: SecretStr | dict[str, SecretStr] | None = Field(
        default=None,
        exclude=True,
        repr=False,
        description="The gateway key, or a mapping per gateway; None (or a gateway missing from the mapping) "
        "reads APIPIE_API_KEY / AIMLAPI_API_KEY at the first request.",
    )
    base_url: str | dict[str, str] | None = Field(
        default=None,
        description="Overrides the gateway's base URL; with several gateways, a mapping per gateway.",
    )
    temperature: float | None = Field(
        default=None, description="Sampling temperature; None = gateway default."
    )
    max_tokens: int | None = Field(default=None, description="Answer length cap; None = gateway default.")
    timeout: float = Field(default=DEFAULT_TIMEOUT, description="Seconds to connect and for each read.")
    max_retries: int = Field(
        default=DEFAULT_MAX_RETRIES, description="Retries on 408/409/429/5xx/connection."
    )
    context_window: int | None = Field(
        default=None, description="Overrides the catalog's context window (needed for unknown models)."
    )
    tool_mode: Literal["auto", "native", "hermes"] = Field(
        default="auto",
        description='"native" sends `tools`; "hermes" uses the Hermes prompt; "auto" asks the catalog.',
    )
    starts_in_reasoning: bool | None = Field(
        default=None,
        description="The chat template opens <think> itself, so replies start inside reasoning (QwQ, "
        "R1 distills, Qwen3 thinking, Hermes 4 with thinking forced on); None: the catalog decides. "
        "Per call too.",
    )
    thinking: bool | None = Field(
        default=None,
        description="Hermes 4 reasoning: True adds the model card's thinking system prompt (every gateway).",
    )
    reasoning_effort: Literal["low", "medium", "high"] | None = Field(
        default=None,
        description="Sent where documented (AI/ML API); not sent to APIpie (no reasoning control there).",
    )
    memory: APIpieMemory | None = Field(
        default=None,
        description="APIpie Integrated Model Memory: send only the new turn (no chat-engine memory too).",
    )
    additional_kwargs: dict[str, Any] = Field(
        default_factory=dict,
        description="Extra request fields for every call (top_p, seed, or gateway extensions like top_k).",
    )
    default_headers: dict[str, str] | None = Field(
        default=None, exclude=True, repr=False, description="Extra HTTP headers (may carry credentials)."
    )
    allow_insecure_http: bool = Field(
        default=False,
        description="Allow plain http:// to a host that is not loopback (the key would travel unencrypted).",
    )

    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid", hide_input_in_errors=True)
    """`extra="forbid"`: a misspelt option (`max_retry=`) is an error, not silently ignored.
    `hide_input_in_errors`: a validation error must not quote the constructor's input (it holds the key)."""

    _client: GatewayClient | None = PrivateAttr(default=None)

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        gateway: str | Sequence[str] = "apipie",
        api_key: str | SecretStr | Mapping[str, str | SecretStr] | None = None,
        base_url: str | Mapping[str, str] | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        context_window: int | None = None,
        tool_mode: Literal["auto", "native", "hermes"] = "auto",
        additional_kwargs: dict[str, Any] | None = None,
        callback_manager: CallbackManager | None = None,
        allow_insecure_http: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            model=model,
            gateway=gateway if isinstance(gateway, str) else list(gateway),
            api_key=dict(api_key) if isinstance(api_key, Mapping) else api_key,
            base_url=dict(base_url) if isinstance(base_url, Mapping) else base_url,
            temperature=temperature,
            max_tokens=max_tokens,
            timeout=timeout,
            max_retries=max_retries,
            context_window=context_window,
            tool_mode=tool_mode,
            additional_kwargs=dict(additional_kwargs or {}),
            callback_manager=callback_manager,
            allow_insecure_http=allow_insecure_http,
            **kwargs,
        )
        if self.model_info is None:
            if context_window is None:
                warnings.warn(
                    f"Hermes model {model!r} is not in the catalog: reporting context_window="
                    f"{DEFAULT_CONTEXT_WINDOW}. Pass context_window= (and max_tokens=) with the real limits.",
                    UserWarning,
                    stacklevel=2,
                )
        else:
            warn_if_deprecated(model, self.gateways, stacklevel=2)

    @field_validator("model")
    @classmethod
    def _check_one_model(cls, value: str) -> str:
        if "," in value:
            raise ValueError(
                f"model={value!r} is an APIpie multi-model request (one completion per model), and a "
                "LlamaIndex ChatResponse holds one message: make one Hermes per model, or use "
                "langchain_hermes.ChatHermes (one generation per model) or hermes_gateway.GatewayClient "
                "(ChatResult.others)."
            )
        return value

    @field_validator("gateway", mode="before")
    @classmethod
    def _check_gateway(cls, value: Any) -> Any:
        """The core's check and wording (the same as ChatHermes)."""
        return gateway_field(value)

    @model_validator(mode="after")
    def _check_per_gateway_values(self) -> Self:
        """Sampling ranges, keys (stripped; refused if unusable), base URLs: the core's checks, now."""
        check_options(
            {
                "temperature": self.temperature,
                "max_tokens": self.max_tokens,
                "timeout": self.timeout,
                "max_retries": self.max_retries,
                **self.additional_kwargs,
            }
        )
        routes = resolve_routes(
            self.gateways,
            api_key=self.api_key,
            base_url=self.base_url,
            allow_insecure_http=self.allow_insecure_http,
        )
        keys = {r.gateway: r.api_key for r in routes if r.api_key is not None}
        if isinstance(self.api_key, dict):
            self.api_key = keys
        elif self.api_key is not None:
            self.api_key = keys.get(self.gateways[0])
        return self

    @property
    def gateways(self) -> tuple[str, ...]:
        """The gateway names in the order they are tried (one for a plain `gateway="apipie"`)."""
        return (self.gateway,) if isinstance(self.gateway, str) else tuple(self.gateway)

    @classmethod
    def class_name(cls) -> str:
        return "hermes_llm"

    # ----------------------------------------------------------------------------------- catalog & metadata

    @property
    def model_info(self) -> ModelInfo | None:
        """The catalog entry for `model`, or None for a model the catalog does not know."""
        return lookup(self.model)

    @property
    def metadata(self) -> LLMMetadata:
        info = self.model_info
        if self.context_window is not None:
            window = self.context_window
        else:
            window = info.context_window if info is not None else DEFAULT_CONTEXT_WINDOW
        if self.max_tokens is not None:
            num_output = self.max_tokens
        else:
            cap = info.max_output_tokens if info is not None else window
            if info is not None:  # a gateway that answers short unless asked (any of them may serve)
                cap = min(
                    [
                        cap,
                        *(info.default_max_tokens[g] for g in self.gateways if g in info.default_max_tokens),
                    ]
                )
            num_output = min(cap, window // NUM_OUTPUT_SHARE)
        return LLMMetadata(
            context_window=window,
            num_output=num_output,
            is_chat_model=True,
            is_function_calling_model=True,
            model_name=self.model,
            system_role=MessageRole.SYSTEM,
        )

    # ----------------------------------------------------------------------------------- client & requests

    def _get_client(self) -> GatewayClient:
        """This object's client (one route per gateway; each resolves the model name to its own id)."""
        if self._client is None:
            self._client = GatewayClient(
                self.gateways,
                api_key=self.api_key,
                base_url=self.base_url,
                timeout=self.timeout,
                max_retries=self.max_retries,
                default_headers=self.default_headers,
                allow_insecure_http=self.allow_insecure_http,
            )
        return self._client

    def _build_request(self, messages: Sequence[ChatMessage], kwargs: dict[str, Any]) -> ChatRequest:
        """Wire messages + the object's settings + per-call kwargs (checked: an unknown one is a TypeError).

        `additional_kwargs` keys that are not request fields are gateway extensions (`extra_body`). A JSON
        `response_format` is decided per route by the core (`response_format`, the Hermes `<schema>` prompt,
        or both). LlamaIndex's own structured output (`structured_predict`, `as_structured_llm`) goes
        through tool calling.
        """
        check_call_options(kwargs, CALL_OPTIONS, where="Hermes")
        info = self.model_info
        request: dict[str, Any] = {
            "model": self.model,  # the client resolves the gateway's id from the catalog
            "messages": to_wire_messages(
                messages,
                reasoning_field=REASONING_WIRE_FIELD if info is not None and info.reasoning else None,
            ),
        }
        if self.temperature is not None:
            request["temperature"] = self.temperature
        if self.max_tokens is not None:
            request["max_tokens"] = self.max_tokens
        if self.starts_in_reasoning is not None:
            request["starts_in_reasoning"] = self.starts_in_reasoning
        extra: dict[str, Any] = {}
        if self.thinking is not None:
            extra["thinking"] = self.thinking
        if self.reasoning_effort is not None:
            extra["reasoning_effort"] = self.reasoning_effort
        if self.memory is not None:
            extra["memory"] = self.memory
        for source in (self.additional_kwargs, kwargs):
            merge_call_options(request, extra, {k: v for k, v in source.items() if k not in _ADAPTER_KEYS})
        choices = request.get("n")
        if isinstance(choices, int) and choices > 1:
            raise BadRequestError(
                f"n={choices!r} asks for {choices} choices, but a LlamaIndex ChatResponse holds one message, "
                f"so the others would be dropped: make {choices} chat() calls instead (temperature > 0 for "
                "different answers), or use langchain_hermes.ChatHermes or hermes_gateway.GatewayClient "
                "(ChatResult.others). Nothing was sent.",
                gateway=self.gateways[0],
            )
        if not request.get("tools"):
            for key in ("tools", "tool_choice", "parallel_tool_calls"):
                request.pop(key, None)
        if extra:
            request["extra_body"] = extra
        return cast("ChatRequest", request)

    def _tool_mode(self, kwargs: dict[str, Any]) -> Any:
        return kwargs.get("tool_mode", self.tool_mode)

    # ----------------------------------------------------------------------------------- chat (the core)

    def _chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        request = self._build_request(messages, kwargs)
        result = self._get_client().chat(request, tool_mode=self._tool_mode(kwargs))
        return response_from_result(result, gateway=self.gateways[0])

    async def _achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        request = self._build_request(messages, kwargs)
        result = await self._get_client().achat(request, tool_mode=self._tool_mode(kwargs))
        return response_from_result(result, gateway=self.gateways[0])

    def _stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        request = self._build_request(messages, kwargs)  # before the generator: bad input raises at the call
        client = self._get_client()
        tool_mode = self._tool_mode(kwargs)

        def gen() -> Generator[ChatResponse, None, None]:
            builder = ResponseBuilder(gateway=self.gateways[0])
            feed = builder.feed
            with client.stream(request, tool_mode=tool_mode) as stream:
                for delta in stream:
                    yield feed(delta)

        return gen()

    async def _astream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseAsyncGen:
        request = self._build_request(messages, kwargs)
        client = self._get_client()
        tool_mode = self._tool_mode(kwargs)

        async def gen() -> AsyncGenerator[ChatResponse, None]:
            builder = ResponseBuilder(gateway=self.gateways[0])
            feed = builder.feed
            async with client.astream(request, tool_mode=tool_mode) as stream:
                async for delta in stream:
                    yield feed(delta)

        return gen()

    # ----------------------------------------------------------------------------------- public entry points

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return self._chat(messages, **kwargs)

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        return self._stream_chat(messages, **kwargs)

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return chat_to_completion_decorator(self._chat)(prompt, **kwargs)

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        return stream_chat_to_completion_decorator(self._stream_chat)(prompt, **kwargs)

    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return await self._achat(messages, **kwargs)

    @llm_chat_callback()
    async def astream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseAsyncGen:
        return await self._astream_chat(messages, **kwargs)

    @llm_completion_callback()
    async def acomplete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return await achat_to_completion_decorator(self._achat)(prompt, **kwargs)

    @llm_completion_callback()
    async def astream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseAsyncGen:
        return await astream_chat_to_completion_decorator(self._astream_chat)(prompt, **kwargs)

    # ----------------------------------------------------------------------------------- tools

    def _prepare_chat_with_tools(
        self,
        tools: Sequence[BaseTool],
        user_msg: str | ChatMessage | None = None,
        chat_history: list[ChatMessage] | None = None,
        verbose: bool = False,
        allow_parallel_tool_calls: bool = False,
        tool_required: bool = False,
        tool_choice: str | dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """The `chat(**...)` arguments for a tool call: messages (the caller's list is not mutated), tools,
        tool_choice (`tool_required` → "required"; a tool name forces that tool) and parallel_tool_calls."""
        messages = list(chat_history or [])
        if isinstance(user_msg, str):
            messages.append(ChatMessage(role=MessageRole.USER, content=user_msg))
        elif user_msg is not None:
            messages.append(user_msg)
        prepared: dict[str, Any] = {"messages": messages, **kwargs}
        wire_tools = tools_to_wire(tools)
        if wire_tools:
            prepared["tools"] = wire_tools
            prepared["tool_choice"] = tool_choice_to_wire(tool_choice, tool_required)
            prepared["parallel_tool_calls"] = allow_parallel_tool_calls
        return prepared

    def _validate_chat_with_tools_response(
        self,
        response: ChatResponse,
        tools: Sequence[BaseTool],
        allow_parallel_tool_calls: bool = False,
        **kwargs: Any,
    ) -> ChatResponse:
        if not allow_parallel_tool_calls:
            force_single_tool_call(response)
        return response

    def get_tool_calls_from_response(
        self, response: ChatResponse, error_on_no_tool_call: bool = True, **kwargs: Any
    ) -> list[ToolSelection]:
        """The response's tool calls; safe on every partial streamed chunk (never raises there).

        With `error_on_no_tool_call=True`, no tool call — or a final call whose arguments are not a JSON
        object — raises ValueError. With False, an invalid call is returned with its raw text under
        `llamaindex_hermes.INVALID_ARGUMENTS_KEY`, so running it fails visibly instead of guessing arguments.
        """
        selections = tool_selections_from_response(response, error_on_invalid=error_on_no_tool_call)
        if not selections and error_on_no_tool_call:
            raise ValueError("Expected at least one tool call, but the model answered without one.")
        return selections

    # ----------------------------------------------------------------------------------- lifecycle

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without the client (it holds connections); a copy, so this object keeps its own."""
        state = BaseModel.__getstate__(self)
        fields = {key: value for key, value in state["__dict__"].items() if _picklable(value)}
        private = dict(state.get("__pydantic_private__") or {})
        private["_client"] = None
        return {**state, "__dict__": fields, "__pydantic_private__": private}

    def close(self) -> None:
        """Close the HTTP connections (a new client is created on the next call)."""
        if self._client is not None:
            self._client.close()
            self._client = None

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _picklable(value: Any) -> bool:
    try:
        pickle.dumps(value)
    except Exception:
        return False
    return True
