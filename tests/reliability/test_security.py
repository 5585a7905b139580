"""Where an API key could leak, checked in one place: both adapters and the core client.

`test_the_key_never_leaks` drives ChatHermes and Hermes (sync and async, streamed and not) through a clean
reply, retries, a 401, a 500 and a bad body, and gathers every surface a key could reach — reprs and strs,
serialised models (LangChain dumpd/dumps, LlamaIndex to_dict/to_json), DEBUG logs (records and their
tracebacks), exceptions (str, repr, attributes, the whole `__cause__` chain), callback and instrumentation
payloads, and a vcr cassette recorded with the repo's scrubbing config (scanned with the same scanner as
tests/test_cassettes_scrubbed.py) — then asserts the key is in none of them.

Pickles are the exception, by decision: a pickled model carries its key (SecretStr pickles its value), because
that is how a process pool or a Ray worker gets the credential it needs; a pickle is therefore a credential
and must be treated like one. A LlamaIndex `Hermes` built without `api_key` reads the environment at request
time and pickles without a key; ChatHermes copies an environment key into `api_key` at construction.

Also here: a redirect to another origin does not carry the Authorization header, and plain http to a
non-loopback host needs `allow_insecure_http=True`.
"""

from __future__ import annotations

import asyncio
import logging
import pickle
import traceback
from pathlib import Path
from typing import Any

import pytest
import vcr
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.load import dumpd, dumps
from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.callbacks import CallbackManager, CBEventType
from llama_index.core.callbacks.base_handler import BaseCallbackHandler as LlamaCallbackHandler
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events import BaseEvent
from llama_index_instrumentation import get_dispatcher
from pydantic import SecretStr

from hermes_gateway import AuthenticationError, GatewayClient, GatewayError
from langchain_hermes import ChatHermes
from llamaindex_hermes import Hermes
from tests import cassette_support
from tests.cassette_support import scan_file
from tests.replica import PASS, Fault, Replica

from ._support import MODEL, expected_reply, fast_retries


def gateway_client(model: ChatHermes | Hermes) -> GatewayClient:
    client = model._get_client()
    assert isinstance(client, GatewayClient)
    return client


SECRET = "sk-test-SECRET-7f3a9c2e5b1d4086aa"
FRAGMENT = SECRET[8:]
"""Enough of the key to identify it: a surface that shows a partial key leaks too."""
LC_KEY = SecretStr(SECRET)


class LangChainCapture(BaseCallbackHandler):
    """Keeps the text of every callback's arguments."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
        self.texts.append(f"start serialized={serialized!r} messages={messages!r} kwargs={kwargs!r}")

    def on_llm_new_token(self, token: Any, **kwargs: Any) -> None:
        self.texts.append(f"token {token!r} {kwargs!r}")

    def on_llm_end(self, response: Any, **kwargs: Any) -> None:
        self.texts.append(f"end {response!r} {kwargs!r}")

    def on_llm_error(self, error: BaseException, **kwargs: Any) -> None:
        self.texts.append(f"error {error!r} {error} {kwargs!r}")


class LlamaCapture(LlamaCallbackHandler):
    """Keeps the text of every CallbackManager event payload."""

    def __init__(self) -> None:
        super().__init__(event_starts_to_ignore=[], event_ends_to_ignore=[])
        self.texts: list[str] = []

    def on_event_start(
        self,
        event_type: CBEventType,
        payload: dict[str, Any] | None = None,
        event_id: str = "",
        parent_id: str = "",
        **kwargs: Any,
    ) -> str:
        self.texts.append(f"start {event_type} {payload!r} {kwargs!r}")
        return event_id

    def on_event_end(
        self,
        event_type: CBEventType,
        payload: dict[str, Any] | None = None,
        event_id: str = "",
        **kwargs: Any,
    ) -> None:
        self.texts.append(f"end {event_type} {payload!r} {kwargs!r}")

    def start_trace(self, trace_id: str | None = None) -> None:
        return None

    def end_trace(self, trace_id: str | None = None, trace_map: dict[str, list[str]] | None = None) -> None:
        return None


class InstrumentationCapture(BaseEventHandler):
    """Keeps every instrumentation event (LLMChatStartEvent carries `model_dict`; ExceptionEvent, errors)."""

    texts: list[str] = []

    def handle(self, event: BaseEvent, **kwargs: Any) -> Any:
        self.texts.append(f"{event.class_name()} {event.model_dump()!r} {event!r}")


def error_texts(error: BaseException) -> list[str]:
    """str, repr, attributes and the formatted traceback of an error and of its whole cause chain."""
    texts = ["".join(traceback.format_exception(error))]
    seen: BaseException | None = error
    while seen is not None:
        texts += [str(seen), repr(seen), repr(vars(seen)), repr(seen.args)]
        seen = seen.__cause__ or seen.__context__
    return texts


def _scenario(replica: Replica, run: Any, errors: list[BaseException]) -> None:
    """A clean reply, a retried 500, a 401, 500s until retries are spent, a bad 200 body or a malformed
    chunk, each through `run(kind)` with kind in invoke/stream; the expected errors are collected."""
    server = replica.apipie
    expected = expected_reply("apipie").text
    for kind in ("invoke", "stream"):
        assert run(kind) == expected
        server.enqueue(Fault.error(500), PASS)
        assert run(kind) == expected
        bad_body = (
            Fault.malformed(at=3) if kind == "stream" else Fault.script_chunks([b"<html>not json</html>"])
        )
        for fault in (Fault.error(401), Fault.error(500), Fault.error(500), bad_body):
            server.enqueue(fault)
        for _ in range(3):
            with pytest.raises(GatewayError) as info:
                run(kind)
            errors.append(info.value)


def test_the_key_never_leaks(replica: Replica, caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    surfaces: dict[str, list[str]] = {}
    base_url = replica.apipie.base_url
    lc_capture, li_capture, events = LangChainCapture(), LlamaCapture(), InstrumentationCapture()
    events.texts = []
    chat = ChatHermes(model=MODEL, api_key=LC_KEY, base_url=base_url, max_retries=1, timeout=5)
    llm = Hermes(
        model=MODEL,
        api_key=SECRET,
        base_url=base_url,
        max_retries=1,
        timeout=5,
        callback_manager=CallbackManager([li_capture]),
    )
    core = GatewayClient("apipie", api_key=SECRET, base_url=base_url)
    for client in (chat._get_client(), llm._get_client()):
        fast_retries(client)
    dispatcher = get_dispatcher()
    dispatcher.add_event_handler(events)
    recorder = vcr.VCR()
    cassette_support.register(recorder)
    cassette = tmp_path / "security.yaml"
    errors: list[BaseException] = []
    config: Any = {"callbacks": [lc_capture]}
    messages = [ChatMessage(role="user", content="Hi")]
    try:
        caplog.set_level(logging.DEBUG)
        with recorder.use_cassette(str(cassette), record_mode="all", **cassette_support.vcr_config()):
            for how in ("sync", "async"):

                def run_lc(kind: str, how: str = how) -> str:
                    if kind == "invoke":
                        if how == "sync":
                            return str(chat.invoke("Hi", config=config).content)
                        return str(asyncio.run(chat.ainvoke("Hi", config=config)).content)
                    if how == "sync":
                        return "".join(str(c.content) for c in chat.stream("Hi", config=config))

                    async def consume() -> str:
                        return "".join([str(c.content) async for c in chat.astream("Hi", config=config)])

                    return asyncio.run(consume())

                def run_li(kind: str, how: str = how) -> str:
                    if kind == "invoke":
                        response = llm.chat(messages) if how == "sync" else asyncio.run(llm.achat(messages))
                        return response.message.content or ""
                    if how == "sync":
                        return "".join(r.delta or "" for r in llm.stream_chat(messages))

                    async def consume() -> str:
                        return "".join([r.delta or "" async for r in await llm.astream_chat(messages)])

                    return asyncio.run(consume())

                _scenario(replica, run_lc, errors)
                _scenario(replica, run_li, errors)
            replica.apipie.enqueue(Fault.error(401))
            with pytest.raises(AuthenticationError) as info:
                core.chat({"model": MODEL, "messages": [{"role": "user", "content": "Hi"}]})
            errors.append(info.value)
    finally:
        dispatcher.event_handlers.remove(events)
        core.close()

    assert len(errors) == 2 * 2 * 2 * 3 + 1
    assert all(r.headers["authorization"] == f"Bearer {SECRET}" for r in replica.apipie.requests)
    surfaces["repr/str"] = [
        repr(chat),
        str(chat),
        repr(llm),
        str(llm),
        repr(core),
        str(core),
        repr(chat._get_client()),
        repr(llm._get_client()),
        repr(vars(chat._get_client())),
        repr(chat.api_key),
        str(llm.api_key),
    ]
    surfaces["serialised"] = [
        repr(dumpd(chat)),
        dumps(chat, pretty=True),
        chat.model_dump_json(),
        repr(chat.model_dump()),
        repr(llm.to_dict()),
        llm.to_json(),
        llm.model_dump_json(),
    ]
    if hasattr(llm, "to_payload"):  # newer llama-index-core releases only
        surfaces["serialised"].append(repr(llm.to_payload()))
    surfaces["logs"] = [caplog.text] + [repr(vars(record)) for record in caplog.records]
    surfaces["exceptions"] = [text for error in errors for text in error_texts(error)]
    surfaces["langchain callbacks"] = lc_capture.texts
    surfaces["llamaindex callbacks"] = li_capture.texts
    surfaces["llamaindex instrumentation"] = events.texts
    surfaces["cassette"] = [cassette.read_text()]

    assert caplog.records, "DEBUG logging captured nothing: the log surface was not exercised"
    assert any(r.levelno == logging.DEBUG and r.name == "hermes_gateway" for r in caplog.records)
    assert any("retrying" in r.getMessage() for r in caplog.records)
    assert any("serialized=" in t for t in lc_capture.texts)
    assert any("error" in t for t in lc_capture.texts)
    assert any("LLMChatStartEvent" in t for t in events.texts)
    assert any("EXCEPTION" in t.upper() for t in li_capture.texts)
    leaks = {name: [t[:200] for t in texts if FRAGMENT in t] for name, texts in surfaces.items()}
    assert {name: found for name, found in leaks.items() if found} == {}
    assert scan_file(cassette) == []
    assert "PLACEHOLDER" in surfaces["cassette"][0]
    chat.close()
    llm.close()


@pytest.mark.parametrize("adapter", ["langchain", "llamaindex"])
def test_a_key_echoed_by_the_gateway_is_redacted_from_the_error(replica: Replica, adapter: str) -> None:
    replica.apipie.enqueue(
        Fault(
            status=401,
            body_kind="raw",
            body={"error": {"message": f"Incorrect API key provided: {SECRET}", "code": "invalid_api_key"}},
        )
    )
    base_url = replica.apipie.base_url
    if adapter == "langchain":
        call: Any = ChatHermes(model=MODEL, api_key=LC_KEY, base_url=base_url).invoke
    else:
        call = Hermes(model=MODEL, api_key=SECRET, base_url=base_url).complete
    with pytest.raises(AuthenticationError) as info:
        call("Hi")
    assert "Incorrect API key provided" in info.value.message
    assert not [t for t in error_texts(info.value) if FRAGMENT in t]


def test_a_pickle_carries_the_key_by_decision(monkeypatch: pytest.MonkeyPatch) -> None:
    """See the module docstring: pickles are credentials (that is how workers authenticate)."""
    for model in (ChatHermes(model=MODEL, api_key=LC_KEY), Hermes(model=MODEL, api_key=SECRET)):
        data = pickle.dumps(model)
        assert SECRET.encode() in data
        clone = pickle.loads(data)
        assert clone.api_key is not None
        assert clone.api_key.get_secret_value() == SECRET
        assert FRAGMENT not in repr(clone)
    monkeypatch.setenv("APIPIE_API_KEY", SECRET)
    assert SECRET.encode() not in pickle.dumps(Hermes(model=MODEL))  # reads the worker's environment
    assert SECRET.encode() in pickle.dumps(ChatHermes(model=MODEL))  # copies the key at construction


@pytest.mark.parametrize("adapter", ["langchain", "llamaindex"])
@pytest.mark.parametrize("kind", ["invoke", "stream"])
def test_a_redirect_to_another_origin_drops_the_authorization_header(
    replica: Replica, adapter: str, kind: str
) -> None:
    """The replica (127.0.0.1:A) redirects to a second loopback server (localhost:B): the key stays behind.

    The second server is the replica's `openai` dialect, which answers 401 to a request without a key, so the
    redirected call fails with AuthenticationError. A same-origin redirect, the control, keeps the header.
    """
    other = f"http://localhost:{replica.openai.port}/v1/chat/completions"
    same = f"{replica.apipie.root_url}/v1/chat/completions"
    base_url = replica.apipie.base_url
    chat = ChatHermes(model=MODEL, api_key=LC_KEY, base_url=base_url, max_retries=0)
    llm = Hermes(model=MODEL, api_key=SECRET, base_url=base_url, max_retries=0)
    messages = [ChatMessage(role="user", content="Hi")]

    def call() -> str:
        if adapter == "langchain":
            if kind == "invoke":
                return str(chat.invoke("Hi").content)
            return "".join(str(c.content) for c in chat.stream("Hi"))
        if kind == "invoke":
            return llm.chat(messages).message.content or ""
        return "".join(r.delta or "" for r in llm.stream_chat(messages))

    try:
        replica.apipie.enqueue(Fault.error(307, "moved", headers={"Location": same}))
        assert call() == expected_reply("apipie").text
        assert [r.headers.get("authorization") for r in replica.apipie.requests] == [f"Bearer {SECRET}"] * 2

        replica.apipie.enqueue(Fault.error(307, "moved", headers={"Location": other}))
        with pytest.raises(AuthenticationError):
            call()
        assert replica.apipie.requests[-1].headers.get("authorization") == f"Bearer {SECRET}"
        (redirected,) = replica.openai.requests
        assert "authorization" not in redirected.headers
        assert not [v for v in redirected.headers.values() if FRAGMENT in v]
    finally:
        chat.close()
        llm.close()


REMOTE_HTTP = "http://10.1.2.3:8000/v1"


def test_plain_http_to_a_remote_host_needs_the_opt_in_langchain() -> None:
    with pytest.raises(ValueError, match="allow_insecure_http") as info:
        ChatHermes(model=MODEL, api_key=LC_KEY, base_url=REMOTE_HTTP)  # at construction, before any call
    assert FRAGMENT not in str(info.value)
    opted_in = ChatHermes(model=MODEL, api_key=LC_KEY, base_url=REMOTE_HTTP, allow_insecure_http=True)
    assert gateway_client(opted_in).base_url == REMOTE_HTTP
    for url in (
        "https://10.1.2.3:8000/v1",
        "http://127.0.0.1:9/v1",
        "http://localhost:9/v1",
        "http://[::1]:9/v1",
    ):
        assert gateway_client(ChatHermes(model=MODEL, api_key=LC_KEY, base_url=url)).base_url == url


def test_plain_http_to_a_remote_host_is_refused_llamaindex() -> None:
    with pytest.raises(ValueError, match="allow_insecure_http") as info:
        Hermes(model=MODEL, api_key=SECRET, base_url=REMOTE_HTTP)  # at construction, before any call
    assert FRAGMENT not in str(info.value)
    for url in (
        "https://10.1.2.3:8000/v1",
        "http://127.0.0.1:9/v1",
        "http://localhost:9/v1",
        "http://[::1]:9/v1",
    ):
        assert gateway_client(Hermes(model=MODEL, api_key=SECRET, base_url=url)).base_url == url


def test_plain_http_opt_in_llamaindex() -> None:
    llm = Hermes(model=MODEL, api_key=SECRET, base_url=REMOTE_HTTP, allow_insecure_http=True)
    assert gateway_client(llm).base_url == REMOTE_HTTP
    per_gateway = {"apipie": REMOTE_HTTP, "aimlapi": "https://api.aimlapi.com/v1"}
    with pytest.raises(ValueError, match="allow_insecure_http"):
        Hermes(model=MODEL, gateway=["apipie", "aimlapi"], base_url=per_gateway)


def test_misspelt_llamaindex_options_are_errors_not_silently_ignored() -> None:
    with pytest.raises(ValueError, match="max_retry"):
        Hermes(model=MODEL, max_retry=3)
