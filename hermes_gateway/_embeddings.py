"""`EmbeddingsClient`: `POST /embeddings` on the same routes, keys, retries and failover as chat.

It holds a chat client (a `GatewayClient`: one route per gateway) and drives each route's own pieces: its
pooled httpx clients, `_headers` (key resolution, MissingAPIKeyError),
`retry_policy`, the credential guard, `error_from_response` + `redact_error` for typed, key-free errors, and
`failover_reason` for when the next gateway gets a batch. Nothing about keys, URLs or retries is decided
here; only batching, the embeddings wire (`_embedding_wire`) and concurrency are.

Per call:
1. check the input (`check_inputs`: before any I/O) and plan the routes (a route without a key is skipped;
   no key anywhere is a `MissingAPIKeyError`);
2. cut the input into batches (`chunk_size`, else the smallest default of the planned gateways);
3. the first batch goes through failover; every later batch goes to the gateway that served the first one,
   with that gateway's retries only. One call's vectors therefore always come from one gateway (one
   embedding space), just as a stream never switches gateway once a delta has reached the caller;
4. async: the later batches run at most `max_concurrency` at a time; when a batch fails, the others are
   cancelled and its error is raised;
5. usage is summed over the batches and reported once (`usage_hook`, `EmbeddingResult.usage`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._client import GatewayClient, failover_reason, headers_or_skip, log_failover, no_key_anywhere
from ._constants import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT
from ._embedding_models import DEFAULT_EMBEDDING_MODEL, embedding_model_id, lookup_embedding
from ._embedding_wire import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_MAX_CONCURRENCY,
    EmbeddingResult,
    EncodingFormat,
    batch_bounds,
    batch_usage,
    check_inputs,
    check_options,
    loads_reply,
    merge_usage,
    parse_vectors,
    request_body,
)
from ._error_bodies import error_from_response, text_excerpt
from ._exceptions import GatewayError, InvalidResponseError, map_httpx_errors
from ._observe import Call, start_call
from ._redact import redact_error
from ._types import ChatDelta

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from types import TracebackType

    import httpx
    from pydantic import SecretStr

    from ._client import UsageHook
    from ._route import RouteClient
    from ._types import Usage

logger = logging.getLogger("hermes_gateway")


def routes_of(client: GatewayClient) -> tuple[RouteClient, ...]:
    """The per-gateway drivers, in order of preference (the one place that knows the chat client's shape)."""
    return client.clients


@dataclass(frozen=True, slots=True)
class _Route:
    client: RouteClient
    model: str
    headers: dict[str, str] = field(repr=False)  # carries the key: never printed

    @property
    def gateway(self) -> str:
        return self.client.gateway

    @property
    def url(self) -> str:
        return f"{self.client.base_url}/embeddings"


@dataclass(slots=True)
class _Batch:
    """One reply: its vectors and usage."""

    vectors: list[list[float]]
    usage: Usage | None


class EmbeddingsClient:
    """Embeddings on one gateway or several (failover); sync and async. See the module docstring."""

    def __init__(
        self,
        gateway: str | Sequence[str] = "apipie",
        *,
        model: str | None = None,
        api_key: str | SecretStr | Mapping[str, str | SecretStr] | None = None,
        base_url: str | Mapping[str, str] | None = None,
        dimensions: int | None = None,
        encoding_format: EncodingFormat = "float",
        chunk_size: int | None = None,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        usage_hook: UsageHook | None = None,
        allow_insecure_http: bool = False,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
        client: GatewayClient | None = None,
    ) -> None:
        """`model=None`: the first gateway's default (`DEFAULT_EMBEDDING_MODEL`). `client`: share an
        existing chat client's routes and connection pools instead of building one from the other
        arguments. The rest are `GatewayClient`'s, checked once here (a bad URL or gateway is a
        ValueError at construction, a missing key at the first call)."""
        check_options(dimensions, encoding_format, chunk_size)
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be >= 1, got {max_concurrency!r}")
        self.client: GatewayClient = client or GatewayClient(
            gateway,
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            usage_hook=usage_hook,
            allow_insecure_http=allow_insecure_http,
            transport=transport,
            async_transport=async_transport,
        )
        self.routes: tuple[RouteClient, ...] = routes_of(self.client)
        first = self.routes[0].gateway
        resolved = model or DEFAULT_EMBEDDING_MODEL.get(first)
        if not resolved:
            raise ValueError(
                f"gateway {first!r} has no default embedding model: pass model=, e.g. 'nomic-embed-text' "
                "(Ollama) or the name your server serves"
            )
        self.model: str = resolved
        self.dimensions = dimensions
        self.encoding_format: EncodingFormat = encoding_format
        self.chunk_size = chunk_size
        self.max_concurrency = max_concurrency
        self.usage_hook = usage_hook if client is None else (usage_hook or self.routes[0].usage_hook)

    @property
    def gateways(self) -> tuple[str, ...]:
        return tuple(route.gateway for route in self.routes)

    def __repr__(self) -> str:
        return f"EmbeddingsClient(model={self.model!r}, routes={list(self.routes)!r})"

    # -- plan: no I/O --------------------------------------------------------------------------------------

    def _plan(self) -> list[_Route]:
        """The routes with a key, in order (the chat client's rules: a keyless route is skipped)."""
        plan: list[_Route] = []
        missing: list[RouteClient] = []
        for client in self.routes:
            headers = headers_or_skip(client, stream=False, only=len(self.routes) == 1)
            if headers is None:
                missing.append(client)
            else:
                plan.append(_Route(client, embedding_model_id(self.model, client.gateway), headers))
        if plan:
            return plan
        raise no_key_anywhere(missing)

    def _batches(self, count: int, plan: list[_Route]) -> list[tuple[int, int]]:
        size = self.chunk_size or min(DEFAULT_CHUNK_SIZE.get(r.gateway, 256) for r in plan)
        return batch_bounds(count, size)

    def _body(self, route: _Route, texts: list[str]) -> dict[str, Any]:
        return request_body(
            route.model, texts, dimensions=self.dimensions, encoding_format=self.encoding_format
        )

    def _reply(
        self, route: _Route, response: httpx.Response, content: bytes, count: int, started: float
    ) -> _Batch:
        """A 2xx body → the batch (typed errors for what is not a usable reply)."""
        status = response.status_code
        try:
            payload = loads_reply(content)
        except ValueError as exc:
            text = content.decode("utf-8", errors="replace")
            raise InvalidResponseError(
                f"{route.gateway} answered {status} with a body that is not JSON: "
                f"{text_excerpt(text) or '(empty)'}",
                gateway=route.gateway,
                status_code=status,
                body=text,
            ) from exc
        vectors = parse_vectors(
            payload, expected=count, gateway=route.gateway, status=status, headers=response.headers
        )
        info = lookup_embedding(route.model)
        usage = batch_usage(
            payload,
            response.headers,
            gateway=route.gateway,
            model=route.model,
            measured_latency_ms=(time.perf_counter() - started) * 1000.0,
            cost_per_mtok=info.price_per_mtok if info is not None else None,
        )
        return _Batch(vectors, usage)

    def _status_error(self, route: _Route, response: httpx.Response, content: bytes) -> GatewayError:
        error = error_from_response(response.status_code, response.headers, content, gateway=route.gateway)
        return redact_error(error, route.client._secret())

    def _result(
        self, bounds: list[tuple[int, int]], batches: list[_Batch], route: _Route, started: float
    ) -> EmbeddingResult:
        vectors = [vector for batch in batches for vector in batch.vectors]
        usage = merge_usage([b.usage for b in batches], latency_ms=(time.perf_counter() - started) * 1000.0)
        if usage is not None and self.usage_hook is not None:
            try:
                self.usage_hook(usage)
            except Exception:  # a broken hook must not lose the vectors
                logger.warning("usage_hook raised; the vectors are unaffected", exc_info=True)
        return EmbeddingResult(
            vectors=vectors,
            usage=usage,
            model=usage.model if usage is not None else route.model,
            gateway=route.gateway,
            batches=len(bounds),
        )

    def _failed_over(
        self,
        plan: list[_Route],
        number: int,
        exc: GatewayError,
        errors: list[GatewayError],
        call: Call | None = None,
    ) -> bool:
        """Whether the batch goes on to plan[number + 1] after `exc` (logged); else `exc` gets `attempts`."""
        errors.append(exc)
        reason = failover_reason(exc, None, plan[number].gateway)
        if reason is None or number + 1 == len(plan):
            if len(plan) > 1:
                exc.attempts = list(errors)
            return False
        log_failover(plan[number].gateway, plan[number + 1].gateway, reason, exc)
        if call is not None:
            call.hop(plan[number].gateway, plan[number + 1].gateway, reason, exc)
        return True

    # -- the observer: spending caps and telemetry, one span per call ---------------------------------------

    def _start(self, plan: list[_Route]) -> Call | None:
        """Admit the call under the spending caps in force (BudgetExceededError before any I/O) and open its
        span; None when nothing observes (no cap, no tracer or meter provider)."""
        request: dict[str, Any] = {"model": self.model}
        if self.dimensions is not None:
            request["dimensions"] = self.dimensions
        call = start_call(request, "embeddings", {r.gateway: r.client.base_url for r in plan}, stream=False)
        if call is not None:
            call.begin()
        return call

    @staticmethod
    def _end(call: Call | None, result: EmbeddingResult | None, error: BaseException | None) -> None:
        if call is None:
            return
        if result is None:
            call.end(None, error, answered=False)
            return
        final = ChatDelta(usage=result.usage, model=result.model, gateway=result.gateway)
        call.end(final, None, answered=True)

    # -- sync ----------------------------------------------------------------------------------------------

    def embed(self, texts: Sequence[str]) -> EmbeddingResult:
        """The vectors of `texts`, in order (batched; see the module docstring)."""
        items = check_inputs(texts, self.gateways)
        plan = self._plan()
        call = self._start(plan)
        try:
            result = self._embed(items, plan, call)
        except BaseException as exc:
            self._end(call, None, exc)
            raise
        self._end(call, result, None)
        return result

    def _embed(self, items: list[str], plan: list[_Route], call: Call | None) -> EmbeddingResult:
        started = time.perf_counter()
        bounds = self._batches(len(items), plan)
        first = items[bounds[0][0] : bounds[0][1]]
        errors: list[GatewayError] = []
        for number, route in enumerate(plan):
            try:
                batches = [self._with_retries(route, first, call)]
                break
            except GatewayError as exc:
                if not self._failed_over(plan, number, exc, errors, call):
                    raise
        batches.extend(self._with_retries(route, items[start:end], call) for start, end in bounds[1:])
        return self._result(bounds, batches, route, started)

    def embed_one(self, text: str) -> list[float]:
        """One text's vector."""
        return self.embed([text]).vectors[0]

    def _with_retries(self, route: _Route, texts: list[str], call: Call | None = None) -> _Batch:
        attempt = 0
        while True:
            try:
                return self._attempt(route, texts)
            except GatewayError as exc:
                delay = route.client.retry_policy.next_delay(attempt, exc)
                if delay is None:
                    raise
                if call is not None:
                    call.retry(route.gateway, attempt, exc, delay)
            time.sleep(delay)
            attempt += 1

    def _attempt(self, route: _Route, texts: list[str]) -> _Batch:
        started = time.perf_counter()
        client = route.client._get_client()
        body = self._body(route, texts)
        request = client.build_request("POST", route.url, json=body, headers=route.headers)
        with map_httpx_errors(route.gateway):
            response = client.send(request, stream=True)
        try:
            with map_httpx_errors(route.gateway, reading_body=True):
                content = response.read()
        finally:
            response.close()
        if not response.is_success:
            raise self._status_error(route, response, content)
        return self._reply(route, response, content, len(texts), started)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> EmbeddingsClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- async: the same steps, later batches concurrently -------------------------------------------------

    async def aembed(self, texts: Sequence[str]) -> EmbeddingResult:
        """Async `embed`: at most `max_concurrency` batches in flight."""
        items = check_inputs(texts, self.gateways)
        plan = self._plan()
        call = self._start(plan)
        try:
            result = await self._aembed(items, plan, call)
        except BaseException as exc:
            self._end(call, None, exc)
            raise
        self._end(call, result, None)
        return result

    async def _aembed(self, items: list[str], plan: list[_Route], call: Call | None) -> EmbeddingResult:
        started = time.perf_counter()
        bounds = self._batches(len(items), plan)
        if len(plan) == 1:  # nothing to fail over to: every batch may start at once
            route = plan[0]
            batches = await self._gather(route, items, bounds, call)
            return self._result(bounds, batches, route, started)
        first = items[bounds[0][0] : bounds[0][1]]
        errors: list[GatewayError] = []
        for number, route in enumerate(plan):
            try:
                head = await self._awith_retries(route, first, call)
                break
            except GatewayError as exc:
                if not self._failed_over(plan, number, exc, errors, call):
                    raise
        rest = await self._gather(route, items, bounds[1:], call)
        return self._result(bounds, [head, *rest], route, started)

    async def aembed_one(self, text: str) -> list[float]:
        """Async `embed_one`."""
        return (await self.aembed([text])).vectors[0]

    async def _gather(
        self, route: _Route, items: list[str], bounds: list[tuple[int, int]], call: Call | None = None
    ) -> list[_Batch]:
        if len(bounds) <= 1:
            return [await self._awith_retries(route, items[s:e], call) for s, e in bounds]
        semaphore = asyncio.Semaphore(self.max_concurrency)

        async def one(start: int, end: int) -> _Batch:
            async with semaphore:
                return await self._awith_retries(route, items[start:end], call)

        tasks = [asyncio.ensure_future(one(start, end)) for start, end in bounds]
        try:
            return list(await asyncio.gather(*tasks))
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise

    async def _awith_retries(self, route: _Route, texts: list[str], call: Call | None = None) -> _Batch:
        attempt = 0
        while True:
            try:
                return await self._aattempt(route, texts)
            except GatewayError as exc:
                delay = route.client.retry_policy.next_delay(attempt, exc)
                if delay is None:
                    raise
                if call is not None:
                    call.retry(route.gateway, attempt, exc, delay)
            await asyncio.sleep(delay)
            attempt += 1

    async def _aattempt(self, route: _Route, texts: list[str]) -> _Batch:
        started = time.perf_counter()
        client = await route.client._get_async_client()
        body = self._body(route, texts)
        request = client.build_request("POST", route.url, json=body, headers=route.headers)
        with map_httpx_errors(route.gateway):
            response = await client.send(request, stream=True)
        try:
            with map_httpx_errors(route.gateway, reading_body=True):
                content = await response.aread()
        finally:
            await response.aclose()
        if not response.is_success:
            raise self._status_error(route, response, content)
        return self._reply(route, response, content, len(texts), started)

    async def aclose(self) -> None:
        await self.client.aclose()

    async def __aenter__(self) -> EmbeddingsClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
