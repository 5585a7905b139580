"""Every example in examples/ runs offline and says what it should.

The examples run in one subprocess with a clean environment (no gateway keys or base URLs), each as
`__main__` through runpy with its own captured stdout/stderr, so each replays its cassette from
cassettes/replica/examples/ and must say so on stderr; LangChain and LlamaIndex are imported once instead of
nine times. The quickstart also runs as a plain `python examples/quickstart.py` process, live against the
replica.

While `python -m tests.record_cassettes tests/test_examples.py` records, the recording environment
(HERMES_RECORD, the replica's base URLs, dummy keys) is passed through instead, and the examples rewrite
their cassettes against the replica.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass

import pytest

from tests import cassette_support
from tests.replica import Replica

EXAMPLES = cassette_support.REPO_ROOT / "examples"
NAMES = (
    "quickstart",
    "langchain_agent",
    "langchain_streaming_usage",
    "structured_output",
    "lcel_pipeline",
    "langchain_retrieval",
    "llamaindex_rag",
    "llamaindex_agent",
    "vision",
    "failover",
)
KEY_BY_EXAMPLE = {
    "langchain_agent": "AIMLAPI_API_KEY",
    "langchain_retrieval": "AIMLAPI_API_KEY",
    "failover": "APIPIE_API_KEY and AIMLAPI_API_KEY",
}
TIMEOUT = 120


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


def example_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The caller's environment without anything that would make an example go live (or record)."""
    recording = cassette_support.record_target() is not None
    env = {
        k: v
        for k, v in os.environ.items()
        if recording or (k not in cassette_support.GATEWAY_ENV_VARS and not k.startswith("HERMES_"))
    }
    env["PYTHONPATH"] = str(cassette_support.REPO_ROOT)
    env.update(extra or {})
    return env


def start(name: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(EXAMPLES / f"{name}.py")],
        env=env,
        cwd=cassette_support.REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


DRIVER = """
import contextlib, io, json, runpy, sys, traceback
sys.path.insert(0, sys.argv[1])
results = {}
folder, names = sys.argv[1], sys.argv[2:]
for name in names:
    sys.argv = [f"{folder}/{name}.py"]
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            runpy.run_path(sys.argv[0], run_name="__main__")
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            if exc.code is not None and not isinstance(exc.code, int):
                print(exc.code, file=err)
        except BaseException:
            traceback.print_exc(file=err)
            code = 1
    results[name] = [code, out.getvalue(), err.getvalue()]
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def runs() -> dict[str, Run]:
    process = subprocess.run(
        [sys.executable, "-c", DRIVER, str(EXAMPLES), *NAMES],
        env=example_env(),
        cwd=cassette_support.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT * 3,
        check=False,
    )
    assert process.returncode == 0, process.stderr
    return {name: Run(*values) for name, values in json.loads(process.stdout.splitlines()[-1]).items()}


def ok(run: Run) -> str:
    assert run.returncode == 0, f"exit {run.returncode}\nstdout:\n{run.stdout}\nstderr:\n{run.stderr}"
    return run.stdout


@pytest.mark.parametrize("name", NAMES)
def test_example_replays_and_says_so(runs: dict[str, Run], name: str) -> None:
    ok(runs[name])
    if cassette_support.record_target() is None:
        key = KEY_BY_EXAMPLE.get(name, "APIPIE_API_KEY")
        assert (
            f"No {key} set: replaying the recorded cassette cassettes/replica/examples/{name}.yaml "
            "(recorded against the in-repo replica)"
        ) in runs[name].stderr


def _tokens(text: str) -> list[tuple[int, int, int]]:
    return [tuple(map(int, m)) for m in re.findall(r"tokens: (\d+) in, (\d+) out, (\d+) total", text)]  # type: ignore[misc]


def test_quickstart_prints_answer_tokens_and_cost(runs: dict[str, Run]) -> None:
    out = ok(runs["quickstart"])
    assert "LangChain ChatHermes" in out
    assert "LlamaIndex Hermes" in out
    answers = re.findall(r"answer: (.+)", out)
    assert len(answers) == 2
    assert all("Hermes model" in a for a in answers)  # the answer to the question asked
    tokens = _tokens(out)
    assert len(tokens) == 2
    for prompt, completion, total in tokens:
        assert prompt > 0
        assert completion > 0
        assert prompt + completion == total
    costs = [float(c) for c in re.findall(r"cost: +\$(\d+\.\d+)", out)]
    assert len(costs) == 2
    assert all(c > 0 for c in costs)


def test_langchain_agent_called_its_tool(runs: dict[str, Run]) -> None:
    """create_agent ran the loop: a get_weather call with a city, its result, then a text answer using it."""
    out = ok(runs["langchain_agent"])
    calls = re.findall(r"tool call: (\w+)\((\{.*\})\) -> (.*)", out)
    weather = [(args, result) for name, args, result in calls if name == "get_weather"]
    assert weather, out
    args, result = weather[0]
    assert re.fullmatch(r"\{'city': '[^']*paris[^']*'\}", args, re.IGNORECASE), args
    assert result == "18 C and sunny in Paris"  # the tool ran on the model's arguments
    answer = re.search(r"answer: (.*)", out, re.DOTALL).group(1).strip()  # type: ignore[union-attr]
    assert answer
    assert "<tool_call>" not in answer
    assert "18" in answer  # the tool's result reached the model


def test_streaming_usage_counts_every_request(runs: dict[str, Run]) -> None:
    out = ok(runs["langchain_streaming_usage"])
    chunks = int(re.search(r"chunks received: (\d+)", out).group(1))  # type: ignore[union-attr]
    assert chunks > 5  # really streamed, not one block
    assert "requests: 2" in out
    [(prompt, completion, total)] = _tokens(out)
    assert prompt > 0
    assert completion > 0
    assert prompt + completion == total
    cost = float(re.search(r"cost: \$(\d+\.\d+)", out).group(1))  # type: ignore[union-attr]
    assert cost > 0
    assert "requests without a reported cost: 0" in out
    assert re.search(r"hermes-3-llama-3\.1-70b: \d+ tokens", out)


def test_structured_output_parses_the_schema(runs: dict[str, Run]) -> None:
    out = ok(runs["structured_output"])
    assert "parsed: City(name='Paris'" in out
    assert "parsed (include_raw): name='Tokyo'" in out
    assert "parsing_error: None" in out


def test_lcel_pipeline_invokes_batches_and_streams(runs: dict[str, Run]) -> None:
    out = ok(runs["lcel_pipeline"])
    assert re.search(r"invoke: .*server-sent events", out)
    batch = re.findall(r"batch: +(.+)", out)
    assert len(batch) == 2
    assert "retries" in batch[0]
    assert "rate limits" in batch[1]
    stream = re.search(r"stream: (.+)", out).group(1)  # type: ignore[union-attr]
    assert stream.count("|") > 5
    assert "tokenizers" in stream


def test_rag_answer_comes_from_the_right_document(runs: dict[str, Run]) -> None:
    out = ok(runs["llamaindex_rag"])
    assert re.search(r"answer: +\S", out)
    assert re.findall(r"source: (\S+)", out) == ["apipie.md"]
    assert "apipie.md" in re.search(r"answer: (.+)", out).group(1)  # type: ignore[union-attr]  # the context reached the model


def test_langchain_retrieval_answers_from_the_retrieved_file(runs: dict[str, Run]) -> None:
    out = ok(runs["langchain_retrieval"])
    assert re.findall(r"source: (\S+)", out) == ["aimlapi.md"]  # the embeddings found the right file
    answer = re.search(r"answer: +(.+)", out).group(1)  # type: ignore[union-attr]
    assert "aimlapi.md" in answer  # the retrieved context reached the model


def test_llamaindex_agent_called_its_tool(runs: dict[str, Run]) -> None:
    out = ok(runs["llamaindex_agent"])
    assert "tool call: check_inventory({'product': 'widget'}) -> 42 units of widget in stock" in out
    assert re.search(r"answer: .*42 units of widget in stock", out, re.DOTALL)


def test_vision_describes_the_image_from_both_frameworks(runs: dict[str, Run]) -> None:
    out = ok(runs["vision"])
    lines = [line for line in out.splitlines() if line.startswith(("LangChain:", "LlamaIndex:"))]
    assert len(lines) == 2
    assert all("image" in line for line in lines)


def test_failover_example_fails_over_to_aimlapi(runs: dict[str, Run]) -> None:
    """The cassette has APIpie answering 503 to each call and its one retry, then AI/ML API answering."""
    out = ok(runs["failover"])
    assert len(re.findall(r"(LangChain|LlamaIndex) answer: +You asked", out)) == 2
    assert "LangChain served by: aimlapi" in out
    assert "LlamaIndex served by: aimlapi" in out
    if cassette_support.record_target() is None:
        assert runs["failover"].stderr.count("failing over from apipie to aimlapi") == 2


def test_quickstart_goes_live_when_the_key_is_set(replica: Replica) -> None:
    """With a key in the environment the example makes real requests (here to the replica) and says so."""
    env = example_env(
        {"APIPIE_API_KEY": "live-mode-test-key-0000", "APIPIE_BASE_URL": replica.apipie.base_url}
    )
    env.pop("HERMES_RECORD", None)
    process = start("quickstart", env)
    out, err = process.communicate(timeout=TIMEOUT)
    run = Run(process.returncode, out, err)
    assert "replaying" not in err
    assert "APIPIE_API_KEY set: calling the gateway live." in err
    assert len(_tokens(ok(run))) == 2
    assert len(replica.apipie.requests) == 2  # one per framework
