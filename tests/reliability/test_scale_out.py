"""Model objects in other processes: pickling, a spawned process pool, and examples/scale_out_ray.py.

Both model objects are used in the parent first (so they hold live clients and connections), then shipped
to a `ProcessPoolExecutor` with the spawn start method — the worker receives the replica's URL inside the
pickled model — and answer there through all four call paths. The example maps its dataset on a process
pool, and on a local Ray cluster when Ray is installed (Ray 2.60 removed `local_mode`; a one-node local
cluster is what remains); both runs are subprocesses pointed at the replica via APIPIE_BASE_URL.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pickle
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage
from pydantic import SecretStr

from langchain_hermes import ChatHermes
from llamaindex_hermes import Hermes
from tests.replica import Replica

from ._support import KEY, MODEL, expected_reply
from ._workers import ask

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "scale_out_ray.py"


def test_models_work_in_a_spawned_process_pool(replica: Replica) -> None:
    base_url = replica.apipie.base_url
    chat = ChatHermes(model=MODEL, api_key=SecretStr(KEY), base_url=base_url, temperature=0.2)
    llm = Hermes(model=MODEL, api_key=KEY, base_url=base_url, temperature=0.2)
    assert chat.invoke("Hi").content == llm.chat([ChatMessage(role="user", content="Hi")]).message.content
    for model in (chat, llm):
        clone = pickle.loads(pickle.dumps(model))
        assert clone.model_dump() == model.model_dump()
    prompts = ["Hi", "What is a process pool?", "Why pickle a model object?", "Hello"]
    models: list[Any] = [chat, llm, chat, llm]
    with ProcessPoolExecutor(max_workers=2, mp_context=get_context("spawn")) as pool:
        results = list(pool.map(ask, models, prompts, timeout=120))
    for prompt, result, model in zip(prompts, results, models, strict=True):
        assert result["pid"] != os.getpid()
        assert result["type"] == type(model).__name__
        assert result["texts"] == [expected_reply("apipie", prompt).text] * 4
    worker_requests = replica.apipie.requests[2:]
    assert len(worker_requests) == 16
    assert all(r.headers["authorization"] == f"Bearer {KEY}" for r in worker_requests)
    assert all(r.json["temperature"] == 0.2 for r in worker_requests)
    chat.close()
    llm.close()


def _run_example(replica: Replica, engine: str) -> dict[str, Any]:
    env = {**os.environ, "APIPIE_API_KEY": KEY, "APIPIE_BASE_URL": replica.apipie.base_url}
    env.pop("RAY_ADDRESS", None)
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), "--engine", engine, "--workers", "2", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["engine"] == engine
    assert result["answers"] == [expected_reply("apipie", q).text for q in result["questions"]]
    assert len(result["answers"]) == 8
    requests = replica.apipie.requests
    assert len(requests) == 8
    assert all(r.headers["authorization"] == f"Bearer {KEY}" for r in requests)
    return result


def test_example_maps_the_dataset_on_a_process_pool(replica: Replica) -> None:
    _run_example(replica, "process")


@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="ray is not installed (optional extra)")
def test_example_maps_the_dataset_on_ray(replica: Replica) -> None:
    _run_example(replica, "ray")
