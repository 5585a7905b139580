"""ChatHermes errors are LangChain `ModelError`s too, and LangChain's own middleware acts on them.

Driven against the replica with the real `create_agent` and middleware: `ModelRetryMiddleware` (no resend on
401, resends on 503: counted at the replica), `ModelFallbackMiddleware`, and `SummarizationMiddleware`,
whose summary call is cut and retried on `ContextOverflowError` — raised here both by the core's context
guard (nothing sent) and by a gateway's context-length 400. ChatHermes runs with `max_retries=0` where the
count matters, so every request the replica sees was sent by the middleware.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain.agents.middleware import (
    ModelFallbackMiddleware,
    ModelRetryMiddleware,
    SummarizationMiddleware,
)
from langchain.agents.middleware import summarization as summarization_module
from langchain_core.exceptions import (
    ContextOverflowError,
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelError,
    ModelInvalidRequestError,
    ModelNotFoundError,
    ModelPermissionDeniedError,
    ModelRateLimitError,
)
from langchain_core.messages import AIMessage, HumanMessage
from pydantic import SecretStr

import hermes_gateway as hg
from langchain_hermes import ChatHermes
from tests.langchain._support import MODES, SECRET, invoke, stream
from tests.replica import PASS, Fault, Replica

SUMMARIZATION_RETRIES_ON_OVERFLOW = hasattr(summarization_module, "ContextOverflowError")
"""Whether the installed langchain's SummarizationMiddleware retries a summary that overflowed (newer
langchain releases do; langchain 1.4.1, installed beside langchain-core 1.6.0 by the lowest range check,
does not)."""
needs_overflow_retry = pytest.mark.skipif(
    not SUMMARIZATION_RETRIES_ON_OVERFLOW,
    reason="this langchain's SummarizationMiddleware does not catch ContextOverflowError",
)

CHAT_PATH = "/v1/chat/completions"

# (fault, hermes_gateway class, langchain_core class, retryable)
FAULTS = [
    pytest.param(Fault.error(401), hg.AuthenticationError, ModelAuthenticationError, False, id="401"),
    pytest.param(
        Fault.account_error(), hg.InsufficientCreditsError, ModelPermissionDeniedError, False, id="402"
    ),
    pytest.param(Fault.error(403), hg.AuthenticationError, ModelPermissionDeniedError, False, id="403"),
    pytest.param(Fault.error(400), hg.BadRequestError, ModelInvalidRequestError, False, id="400"),
    pytest.param(Fault.error(422), hg.BadRequestError, ModelInvalidRequestError, False, id="422"),
    pytest.param(Fault.error(404), hg.NotFoundError, ModelNotFoundError, False, id="404"),
    pytest.param(Fault.error(429), hg.RateLimitError, ModelRateLimitError, True, id="429"),
    pytest.param(Fault.error(503), hg.ServerError, ModelAPIError, True, id="503"),
    pytest.param(Fault.error(408), hg.GatewayError, ModelAPIError, True, id="408"),
    pytest.param(Fault.reset(), hg.APIConnectionError, ModelConnectionError, True, id="reset"),
    pytest.param(
        Fault(status=200, body_kind="raw", body="{not json", content_type="application/json"),
        hg.InvalidResponseError,
        ModelAPIError,
        False,
        id="malformed",
    ),
    pytest.param(
        Fault.error(400, "This model's maximum context length is 4096 tokens. However, you requested 9000"),
        hg.ContextWindowExceededError,
        ContextOverflowError,
        False,
        id="context-400",
    ),
]


def _chat_requests(replica: Replica, gateway: str = "apipie") -> int:
    return sum(1 for r in replica[gateway].requests if r.path == CHAT_PATH)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("fault", "core_cls", "lc_cls", "retryable"), FAULTS)
def test_every_error_is_both_classes_with_our_retry_rule(
    replica: Replica, make_llm: Any, mode: str, fault: Fault, core_cls: Any, lc_cls: Any, retryable: bool
) -> None:
    llm = make_llm(max_retries=0)
    for call in (invoke, stream):
        replica.apipie.enqueue(fault)
        with pytest.raises(core_cls) as caught:
            call(llm, "Hi", mode)
        error = caught.value
        assert isinstance(error, lc_cls), type(error).__mro__
        assert isinstance(error, ModelError)
        assert isinstance(error, hg.GatewayError)
        assert error.is_retryable is retryable is hg.is_retryable(error)
        assert error.gateway == "apipie"
    assert _chat_requests(replica) == 2


def test_the_context_guard_is_a_context_overflow_before_any_io(replica: Replica, make_llm: Any) -> None:
    llm = make_llm(model="nous-hermes-llama2-13b", max_retries=0)  # 4096-token window in the catalog
    with pytest.raises(ContextOverflowError) as caught:
        llm.invoke("lorem ipsum dolor " * 6000)
    assert isinstance(caught.value, hg.ContextWindowExceededError)
    assert caught.value.context_window == 4096
    assert caught.value.is_retryable is False
    assert _chat_requests(replica) == 0


def test_failover_attempts_are_translated_too(replica: Replica, make_llm: Any) -> None:
    llm = ChatHermes(
        gateway=["apipie", "aimlapi"],
        base_url={"apipie": replica.base_url("apipie"), "aimlapi": replica.base_url("aimlapi")},
        api_key={"apipie": SecretStr(SECRET), "aimlapi": SecretStr(SECRET)},
        max_retries=0,
    )
    replica.apipie.enqueue(Fault.error(503))
    replica.aimlapi.enqueue(Fault.error(401))
    with pytest.raises(hg.AuthenticationError) as caught:
        llm.invoke("Hi")
    assert isinstance(caught.value, ModelAuthenticationError)
    assert [type(a).__mro__[1] for a in caught.value.attempts] == [hg.ServerError, hg.AuthenticationError]
    assert all(isinstance(a, ModelError) for a in caught.value.attempts)
    llm.close()


# --- ModelRetryMiddleware --------------------------------------------------------------------------------


def _retry_agent(llm: Any) -> Any:
    retry = ModelRetryMiddleware(max_retries=3, initial_delay=0.0, jitter=False, on_failure="error")
    return create_agent(model=llm, tools=[], middleware=[retry])


@pytest.mark.parametrize("mode", MODES)
def test_retry_middleware_does_not_resend_a_401(replica: Replica, make_llm: Any, mode: str) -> None:
    agent = _retry_agent(make_llm(max_retries=0))
    replica.apipie.enqueue(Fault.error(401), PASS, PASS, PASS)
    inputs = {"messages": [HumanMessage("Hi")]}
    with pytest.raises(hg.AuthenticationError):
        agent.invoke(inputs) if mode == "sync" else asyncio.run(agent.ainvoke(inputs))
    assert _chat_requests(replica) == 1


@pytest.mark.parametrize("mode", MODES)
def test_retry_middleware_resends_a_503(replica: Replica, make_llm: Any, mode: str) -> None:
    agent = _retry_agent(make_llm(max_retries=0))
    replica.apipie.enqueue(Fault.error(503), Fault.error(503), PASS)
    inputs = {"messages": [HumanMessage("Hi")]}
    result = agent.invoke(inputs) if mode == "sync" else asyncio.run(agent.ainvoke(inputs))
    assert _chat_requests(replica) == 3
    answer = result["messages"][-1]
    assert isinstance(answer, AIMessage)
    assert answer.text


# --- ModelFallbackMiddleware -----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_fallback_middleware_moves_to_the_next_model(replica: Replica, make_llm: Any, mode: str) -> None:
    primary = make_llm(gateway="apipie", max_retries=0)
    backup = make_llm(gateway="aimlapi", max_retries=0)
    agent: Any = create_agent(model=primary, tools=[], middleware=[ModelFallbackMiddleware(backup)])
    replica.apipie.enqueue(Fault.error(404, "model not found"))
    inputs = {"messages": [HumanMessage("Hi")]}
    result = agent.invoke(inputs) if mode == "sync" else asyncio.run(agent.ainvoke(inputs))
    answer = result["messages"][-1]
    assert isinstance(answer, AIMessage)
    assert answer.text
    assert answer.response_metadata["gateway"] == "aimlapi"
    assert (_chat_requests(replica, "apipie"), _chat_requests(replica, "aimlapi")) == (1, 1)


# --- SummarizationMiddleware -----------------------------------------------------------------------------

LONG_TURN = "The quarterly report covers revenue, churn and hiring across every region in detail. " * 300
"""About 25,000 characters: two of these overflow a 4096-token window."""


def _history() -> list[Any]:
    return [
        HumanMessage(LONG_TURN),
        AIMessage("Noted the first report."),
        HumanMessage(LONG_TURN),
        AIMessage("Noted the second report."),
        HumanMessage("Summarise what we discussed in one sentence."),
    ]


def _summarising_agent(make_llm: Any) -> Any:
    # nous-hermes-llama2-13b has a 4096-token window in the catalog (its profile's max_input_tokens).
    small = make_llm(model="nous-hermes-llama2-13b", max_retries=0)
    summariser = SummarizationMiddleware(
        model=small,
        trigger=("tokens", 2000),
        keep=("messages", 1),
        trim_tokens_to_summarize=None,  # hand the whole history to the summary call: it must overflow
    )
    agent_model = make_llm(model="hermes-3-llama-3.1-70b", max_retries=0)
    return create_agent(model=agent_model, tools=[], middleware=[summariser])


def _summary_requests(replica: Replica) -> list[Any]:
    return [
        r
        for r in replica.apipie.requests
        if r.path == CHAT_PATH and r.json["model"] == "nous-hermes-llama2-13b"
    ]


@needs_overflow_retry
@pytest.mark.parametrize("mode", MODES)
def test_summarization_cuts_the_summary_prompt_when_our_guard_overflows(
    replica: Replica, make_llm: Any, mode: str
) -> None:
    agent = _summarising_agent(make_llm)
    inputs = {"messages": _history()}
    result = agent.invoke(inputs) if mode == "sync" else asyncio.run(agent.ainvoke(inputs))
    # The first summary call overflowed in the guard (nothing sent); the cut retry went out once.
    sent = _summary_requests(replica)
    assert len(sent) == 1
    assert len(str(sent[0].json["messages"])) < 2 * len(LONG_TURN)
    assert isinstance(result["messages"][-1], AIMessage)
    assert result["messages"][-1].text
    assert len(result["messages"]) < len(_history()) + 1  # the history was replaced by a summary


@needs_overflow_retry
@pytest.mark.parametrize("mode", MODES)
def test_summarization_cuts_the_summary_prompt_on_a_gateway_context_400(
    replica: Replica, make_llm: Any, mode: str
) -> None:
    agent = _summarising_agent(make_llm)
    overflow = Fault.error(
        400,
        "This model's maximum context length is 4096 tokens. However, your messages resulted in 5000 tokens.",
    )
    replica.apipie.enqueue(overflow, PASS, PASS)
    # A history that passes our (low-biased) guard but that the gateway refuses.
    history = [HumanMessage(LONG_TURN[:12000]), AIMessage("Noted."), HumanMessage("Summarise that.")]
    inputs = {"messages": history}
    result = agent.invoke(inputs) if mode == "sync" else asyncio.run(agent.ainvoke(inputs))
    sent = _summary_requests(replica)
    assert len(sent) == 2  # refused with the context 400, then the cut prompt
    assert len(str(sent[1].json["messages"])) < len(str(sent[0].json["messages"]))
    assert isinstance(result["messages"][-1], AIMessage)
    assert result["messages"][-1].text
