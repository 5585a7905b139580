"""Map a dataset through ChatHermes on Ray, or on a local process pool when Ray is not installed.

    pip install "hermes-gateway[langchain,ray]"     # Ray is optional: without it a process pool is used
    python examples/scale_out_ray.py [--engine auto|ray|process] [--workers 2] [--json]

When one machine (or one event loop) is not enough, the model object itself travels: `ChatHermes` pickles
with its settings and key and without its connections, so every Ray task or pool process rebuilds its own
HTTP pool on first use. Each worker answers a batch of questions with `llm.batch(...)` (threads inside the
worker), and the driver gathers the answers in order.

Ray: Ray Core tasks (`ray.remote`) on a local cluster started here (`ray.init`), or on the cluster
`RAY_ADDRESS` names. For datasets that do not fit in memory, the same `answer_batch` works as a Ray Data
`map_batches` function (Ray Data needs `pip install "ray[data]"`).

With APIPIE_API_KEY set, the questions go to APIpie (or to APIPIE_BASE_URL). Without a key, the example
starts the repository's loopback replica of the gateway (tests/replica) and says so on stderr.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from langchain_core.language_models import LanguageModelInput

from langchain_hermes import ChatHermes

QUESTIONS = [
    "What is a Hermes model?",
    "Explain retries with exponential backoff.",
    "What does Retry-After mean?",
    "Why stream a reply?",
    "What is a connection pool?",
    "Summarise server-sent events.",
    "What is a process pool?",
    "Why pickle a model object?",
]


def answer_batch(llm: ChatHermes, questions: list[str]) -> list[str]:
    """Runs in a worker: one batch of questions, answered concurrently by the worker's own client."""
    inputs: list[LanguageModelInput] = list(questions)
    try:
        return [str(message.content) for message in llm.batch(inputs, config={"max_concurrency": 4})]
    finally:
        llm.close()


def _batches(items: list[str], count: int) -> list[list[str]]:
    size = max(1, -(-len(items) // max(1, count)))
    return [items[i : i + size] for i in range(0, len(items), size)]


def map_with_ray(llm: ChatHermes, questions: list[str], workers: int) -> list[str]:
    import ray

    started_here = not ray.is_initialized()
    if started_here:
        if os.environ.get("RAY_ADDRESS"):
            ray.init()
        else:
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
    try:
        task = ray.remote(answer_batch)
        model = ray.put(llm)  # shipped once, shared by every task
        refs = [task.remote(model, batch) for batch in _batches(questions, workers)]
        return [answer for batch in ray.get(refs) for answer in batch]
    finally:
        if started_here:
            ray.shutdown()


def map_with_processes(llm: ChatHermes, questions: list[str], workers: int) -> list[str]:
    batches = _batches(questions, workers)
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        results = pool.map(answer_batch, [llm] * len(batches), batches)
        return [answer for batch in results for answer in batch]


def run(
    llm: ChatHermes, questions: list[str], *, engine: str = "auto", workers: int = 2
) -> tuple[str, list[str]]:
    """Answers to `questions`, in order, and the engine that computed them ("ray" or "process")."""
    if engine == "auto":
        engine = "ray" if importlib.util.find_spec("ray") is not None else "process"
    if engine == "ray":
        return engine, map_with_ray(llm, questions, workers)
    if engine == "process":
        return engine, map_with_processes(llm, questions, workers)
    raise ValueError(f"engine must be auto, ray or process, not {engine!r}")


@contextmanager
def gateway() -> Iterator[dict[str, Any]]:
    """ChatHermes settings: the real gateway when a key is set, else the in-repo replica on loopback."""
    if os.environ.get("APIPIE_API_KEY"):
        yield {}
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.replica import Replica

    with Replica() as replica:
        print(
            f"no APIPIE_API_KEY: using the loopback replica gateway at {replica.apipie.base_url}",
            file=sys.stderr,
        )
        yield {"api_key": "replica-demo-key", "base_url": replica.apipie.base_url}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engine", choices=["auto", "ray", "process"], default="auto")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    args = parser.parse_args(argv)
    with gateway() as settings:
        llm = ChatHermes(model="hermes-3-llama-3.1-70b", **settings)
        engine, answers = run(llm, QUESTIONS, engine=args.engine, workers=args.workers)
    if args.json:
        print(
            json.dumps(
                {"engine": engine, "workers": args.workers, "questions": QUESTIONS, "answers": answers}
            )
        )
        return 0
    print(
        f"engine: {engine} ({'Ray Core tasks' if engine == 'ray' else 'spawned process pool'}), "
        f"{args.workers} workers"
    )
    for question, answer in zip(QUESTIONS, answers, strict=True):
        print(f"- {question}\n  {answer}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
