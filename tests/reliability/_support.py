"""Shared by the reliability tests: one call shape per adapter, the fault table, hang guards, resource counts.

`LangChainDriver` and `LlamaIndexDriver` build a model on the replica and run one call in one of four modes
(sync/async x invoke/stream), returning an `Outcome` — or raising what the adapter raised. `FAULT_CASES` is
the table both fault modules drive through their adapter, so the two adapters are held to the same cases.

Retry backoff is shortened to 10-50 ms on each model's client (the core's `RetryPolicy`); a server's
`Retry-After` is still honoured, so the cases that test it cost about a second each and run in two modes.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import pytest
from langchain_core.messages import AIMessageChunk
from llama_index.core.base.llms.types import ChatMessage, ChatResponse

from hermes_gateway import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    GatewayClient,
    GatewayError,
    InsufficientCreditsError,
    InvalidResponseError,
    RateLimitError,
    RetryPolicy,
    ServerError,
    StreamInterruptedError,
    resolve_model_id,
)
from langchain_hermes import ChatHermes
from llamaindex_hermes import Hermes
from tests.replica import PASS, Fault, Replica, find_model, http_date, think

T = TypeVar("T")

MODEL = "hermes-3-llama-3.1-70b"
KEY = "sk-reliability-test-key"
PROMPT = "Hi"
MODES: list[tuple[str, str]] = [
    ("sync", "invoke"),
    ("sync", "stream"),
    ("async", "invoke"),
    ("async", "stream"),
]
"""(sync|async, invoke|stream): invoke is `invoke`/`ainvoke` or `chat`/`achat`; stream is `stream`/`astream`
or `stream_chat`/`astream_chat`."""
HANG_LIMIT = 8.0
"""Seconds after which a call that has not returned or raised fails its test as a hang."""


def fast_retries(client: object) -> None:
    """10 ms backoff doubling to 50 ms (Retry-After from the server is still honoured)."""
    assert isinstance(client, GatewayClient), f"one gateway, one GatewayClient, not {client!r}"
    client.retry_policy = RetryPolicy(max_retries=client.max_retries, initial_delay=0.01, max_delay=0.05)


@dataclass(frozen=True, slots=True)
class Expected:
    text: str
    completion_tokens: int


def expected_reply(gateway: str, prompt: str = PROMPT, model: str = MODEL) -> Expected:
    """What the replica's brain answers to `prompt`: the whole reply a successful call must deliver."""
    model_id = resolve_model_id(model, gateway)
    row = find_model(gateway, model_id)  # type: ignore[arg-type]  # gateway is a replica dialect name
    assert row is not None, model_id
    reply = think({"model": model_id, "messages": [{"role": "user", "content": prompt}]}, row, gateway)  # type: ignore[arg-type]
    return Expected(reply.content, reply.completion_tokens)


def bounded(fn: Callable[[], T], seconds: float = HANG_LIMIT) -> T:
    """`fn()` in a daemon thread: its result or exception, or a test failure if it has not ended in time."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed back to the test thread below
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True, name="bounded-call")
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"the call hung: no result and no error after {seconds} s")
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


@dataclass(slots=True)
class Outcome:
    """What one call delivered."""

    text: str
    usage_count: int
    """How many chunks / responses carried usage (must be exactly 1)."""
    completion_tokens: int | None
    finish_reason: str | None
    pieces: list[str] = field(default_factory=list)
    """Streamed text pieces, in order (empty for invoke)."""


class Driver(Protocol):
    name: str

    def make(self, replica: Replica, gateway: str = "apipie", **kw: Any) -> Any: ...

    def run(self, llm: Any, mode: tuple[str, str], seen: list[str], prompt: str = PROMPT) -> Outcome: ...

    def close(self, llm: Any) -> None: ...


class LangChainDriver:
    name = "langchain"

    def make(self, replica: Replica, gateway: str = "apipie", **kw: Any) -> ChatHermes:
        kw.setdefault("timeout", 5.0)
        kw.setdefault("max_retries", 2)
        kw.setdefault("api_key", KEY)
        llm = ChatHermes(model=MODEL, gateway=gateway, base_url=replica[gateway].base_url, **kw)
        fast_retries(llm._get_client())
        return llm

    def run(self, llm: ChatHermes, mode: tuple[str, str], seen: list[str], prompt: str = PROMPT) -> Outcome:
        how, kind = mode
        if kind == "invoke":
            message = llm.invoke(prompt) if how == "sync" else asyncio.run(llm.ainvoke(prompt))
            usage = message.usage_metadata
            return Outcome(
                text=str(message.content),
                usage_count=int(usage is not None),
                completion_tokens=usage["output_tokens"] if usage else None,
                finish_reason=message.response_metadata.get("finish_reason"),
            )
        chunks: list[AIMessageChunk] = []

        def take(chunk: AIMessageChunk) -> None:
            chunks.append(chunk)
            seen.append(str(chunk.content))

        if how == "sync":
            for chunk in llm.stream(prompt):
                take(chunk)
        else:

            async def consume() -> None:
                async for chunk in llm.astream(prompt):
                    take(chunk)

            asyncio.run(consume())
        with_usage = [c.usage_metadata for c in chunks if c.usage_metadata is not None]
        return Outcome(
            text="".join(str(c.content) for c in chunks),
            usage_count=len(with_usage),
            completion_tokens=with_usage[-1]["output_tokens"] if with_usage else None,
            finish_reason=chunks[-1].response_metadata.get("finish_reason") if chunks else None,
            pieces=[str(c.content) for c in chunks],
        )

    def close(self, llm: ChatHermes) -> None:
        llm.close()


class LlamaIndexDriver:
    name = "llamaindex"

    def make(self, replica: Replica, gateway: str = "apipie", **kw: Any) -> Hermes:
        kw.setdefault("timeout", 5.0)
        kw.setdefault("max_retries", 2)
        kw.setdefault("api_key", KEY)
        llm = Hermes(model=MODEL, gateway=gateway, base_url=replica[gateway].base_url, **kw)
        fast_retries(llm._get_client())
        return llm

    def run(self, llm: Hermes, mode: tuple[str, str], seen: list[str], prompt: str = PROMPT) -> Outcome:
        how, kind = mode
        messages = [ChatMessage(role="user", content=prompt)]
        if kind == "invoke":
            response = llm.chat(messages) if how == "sync" else asyncio.run(llm.achat(messages))
            responses = [response]
        else:
            responses = []

            def take(response: ChatResponse) -> None:
                responses.append(response)
                seen.append(response.delta or "")

            if how == "sync":
                for response in llm.stream_chat(messages):
                    take(response)
            else:

                async def consume() -> None:
                    async for response in await llm.astream_chat(messages):
                        take(response)

                asyncio.run(consume())
        usages = [r.raw["usage"] for r in responses if r.raw and r.raw.get("usage")]
        last = responses[-1] if responses else None
        return Outcome(
            text=(last.message.content or "") if last is not None else "",
            usage_count=len(usages),
            completion_tokens=usages[-1]["completion_tokens"] if usages else None,
            finish_reason=(last.raw or {}).get("finish_reason") if last is not None else None,
            pieces=[r.delta or "" for r in responses] if kind == "stream" else [],
        )

    def close(self, llm: Hermes) -> None:
        llm.close()


DRIVERS: dict[str, Driver] = {"langchain": LangChainDriver(), "llamaindex": LlamaIndexDriver()}


# ---- the fault table --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Case:
    """One scripted failure and how a call through an adapter must end."""

    id: str
    faults: Callable[[bool], list[Fault]]
    """streamed? → the faults to enqueue (made at test time: HTTP dates are relative to now)."""
    raises: type[GatewayError] | None = None
    """None: the call succeeds with the whole reply; else this typed error."""
    message: str | None = None
    """A text the error's `message` must contain (the gateway's own message where it sent one)."""
    requests: int = 1
    """How many HTTP requests the gateway must have seen (attempts = 1 + safe retries)."""
    modes: tuple[tuple[str, str], ...] = tuple(MODES)
    gateway: str = "apipie"
    model_kw: dict[str, Any] = field(default_factory=dict)
    min_seconds: float = 0.0
    max_seconds: float = 4.0


def _same(fault: Fault) -> Callable[[bool], list[Fault]]:
    return lambda streamed: [fault]


STREAMED = (("sync", "stream"), ("async", "stream"))
INVOKED = (("sync", "invoke"), ("async", "invoke"))
TIMEOUT_KW = {"timeout": 0.25, "max_retries": 1}

FAULT_CASES: list[Case] = [
    Case("clean-apipie", lambda s: []),
    Case("clean-aimlapi", lambda s: [], gateway="aimlapi"),
    Case("429-retry-after-0s", lambda s: [Fault.rate_limited(retry_after=0), PASS], requests=2),
    Case(
        "429-retry-after-1s",
        lambda s: [Fault.rate_limited(retry_after=1), PASS],
        requests=2,
        modes=(("sync", "invoke"), ("async", "stream")),
        min_seconds=0.95,
    ),
    Case(
        "429-retry-after-http-date",
        lambda s: [Fault.rate_limited(retry_after=http_date(1)), PASS],
        requests=2,
        modes=(("sync", "stream"), ("async", "invoke")),
        gateway="aimlapi",
    ),
    Case(
        "429-retry-after-past-http-date",  # a date in the past is not a sane wait: the (tiny) backoff is used
        lambda s: [Fault.rate_limited(retry_after=http_date(-30)), PASS],
        requests=2,
        max_seconds=0.9,
    ),
    Case(
        "429-until-retries-are-spent",
        lambda s: [Fault.rate_limited(retry_after=0, message="replica: slow down") for _ in range(3)],
        raises=RateLimitError,
        message="replica: slow down",
        requests=3,
    ),
    Case(
        "5xx-sequence-then-success",
        lambda s: [Fault.error(500), Fault.error(502), Fault.error(503), PASS],
        requests=4,
        model_kw={"max_retries": 3},
    ),
    Case(
        "5xx-until-retries-are-spent",
        lambda s: [Fault.error(500), Fault.error(502), Fault.error(503, "replica: upstream overloaded")],
        raises=ServerError,
        message="replica: upstream overloaded",
        requests=3,
    ),
    Case("empty-500-then-success", lambda s: [Fault.empty(500), PASS], requests=2),
    Case(
        "html-error-page",
        lambda s: [Fault.html(502), Fault.html(502)],
        raises=ServerError,
        message="HTTP 502 from apipie",
        requests=2,
        model_kw={"max_retries": 1},
    ),
    Case(
        "200-carrying-an-error-object",
        lambda s: [Fault.error_200("Upstream provider returned an error") for _ in range(2)],
        raises=GatewayError,
        message="Upstream provider returned an error",
        requests=2,
        model_kw={"max_retries": 1},
    ),
    Case("200-error-object-then-success", lambda s: [Fault.error_200("flaky upstream"), PASS], requests=2),
    Case("reset-before-headers-then-success", lambda s: [Fault.reset(), PASS], requests=2),
    Case(
        "reset-before-headers-until-retries-are-spent",
        lambda s: [Fault.reset(), Fault.reset()],
        raises=APIConnectionError,
        requests=2,
        model_kw={"max_retries": 1},
    ),
    Case(
        "reset-mid-stream-before-the-first-delta",  # only the role chunk went out: safe to retry
        lambda s: [Fault.reset(after=1), PASS],
        requests=2,
        modes=STREAMED,
    ),
    Case(
        "reset-mid-stream-after-a-delta",  # text was handed out: not retried, raised
        lambda s: [Fault.reset(after=3), PASS],
        raises=StreamInterruptedError,
        requests=1,
        modes=STREAMED,
    ),
    Case(
        "truncated-sse",
        lambda s: [Fault.truncate(after=4)],
        raises=StreamInterruptedError,
        message="before a finish_reason",
        modes=STREAMED,
        gateway="aimlapi",
    ),
    Case(
        "truncated-close-delimited-sse",
        lambda s: [Fault(truncate_after=4, close_delimited=True)],
        raises=StreamInterruptedError,
        message="before a finish_reason",
        modes=STREAMED,
    ),
    Case(
        "malformed-json-chunk",
        lambda s: [Fault.malformed(at=3)],
        raises=InvalidResponseError,
        message="malformed JSON chunk",
        modes=STREAMED,
    ),
    Case(
        "malformed-json-body",
        lambda s: [Fault.script_chunks([b'{"id": "x", "choices": [{"message": '])],
        raises=InvalidResponseError,
        message="not JSON",
        modes=INVOKED,
    ),
    Case(
        "slow-first-byte-then-success",
        lambda s: [Fault.slow_first_byte(1.0), PASS],
        requests=2,
        model_kw=TIMEOUT_KW,
        max_seconds=1.0,
    ),
    Case(
        "slow-first-byte-until-retries-are-spent",
        lambda s: [Fault.slow_first_byte(1.0), Fault.slow_first_byte(1.0)],
        raises=APITimeoutError,
        requests=2,
        model_kw=TIMEOUT_KW,
        max_seconds=1.2,
    ),
    Case(
        "stall-between-chunks",
        lambda s: [Fault.stall(after=2, seconds=1.0)],
        raises=APITimeoutError,
        message="next chunk",
        requests=1,
        modes=STREAMED,
        model_kw=TIMEOUT_KW,
        max_seconds=0.9,
    ),
    Case(
        "credits-exhausted-is-not-retried",
        lambda s: [Fault.account_error()],
        raises=InsufficientCreditsError,
        message="Insufficient balance",
    ),
    Case(
        "401-is-not-retried",
        lambda s: [Fault.error(401, "replica: invalid API key")],
        raises=AuthenticationError,
        message="replica: invalid API key",
    ),
]


def case_params() -> list[Any]:
    """(case, mode) pairs as pytest params, ids like `truncated-sse-async-stream`."""
    return [
        pytest.param(case, mode, id=f"{case.id}-{mode[0]}-{mode[1]}")
        for case in FAULT_CASES
        for mode in case.modes
    ]


def check_fault_case(driver: Driver, replica: Replica, case: Case, mode: tuple[str, str]) -> None:
    """Enqueue the case's faults, run one call through the adapter, and hold it to the case's outcome."""
    streamed = mode[1] == "stream"
    server = replica[case.gateway]
    llm = driver.make(replica, case.gateway, **case.model_kw)
    expected = expected_reply(case.gateway)
    seen: list[str] = []
    try:
        server.enqueue(*case.faults(streamed))
        started = time.perf_counter()
        if case.raises is None:
            outcome = bounded(lambda: driver.run(llm, mode, seen))
            elapsed = time.perf_counter() - started
            assert outcome.text == expected.text
            assert outcome.finish_reason == "stop"
            assert outcome.usage_count == 1
            assert outcome.completion_tokens == expected.completion_tokens
            if streamed:
                assert "".join(outcome.pieces) == expected.text
        else:
            with pytest.raises(case.raises) as info:
                bounded(lambda: driver.run(llm, mode, seen))
            elapsed = time.perf_counter() - started
            error = info.value
            assert error.gateway == case.gateway
            if case.message is not None:
                assert case.message in error.message
            assert "<html" not in error.message.lower()
            # Never a partial answer presented as complete: a strict prefix was handed out, then it raised.
            partial = "".join(seen)
            assert expected.text.startswith(partial)
            assert len(partial) < len(expected.text)
        assert case.min_seconds <= elapsed <= case.max_seconds, elapsed
        assert len(server.requests) == case.requests
    finally:
        driver.close(llm)


def open_tcp_connections(ports: set[int]) -> int:
    """This process's TCP sockets connected TO one of `ports` (client side; the replica's own sockets, bound
    to those ports, are not counted). Linux: /proc/self/fd inodes matched against /proc/net/tcp{,6}."""
    inodes: set[str] = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        try:
            with open(table) as fh:
                rows = fh.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            remote_port = int(cols[2].rsplit(":", 1)[1], 16)
            if cols[9] in inodes and remote_port in ports:
                count += 1
    return count
