"""The integration notebooks in docs/integrations/ execute, offline, and say what they should.

Each notebook runs top to bottom in a fresh Jupyter kernel (nbclient, this venv's ipykernel) with the
notebook's folder as working directory, as a reader would run it. Its setup cell (examples/_replay.py's
`start_replaying`) replays `cassettes/replica/notebooks/<name>.yaml`, since the kernel inherits this
process's environment, from which conftest removes every gateway key. A cell that raises fails the test.

While `python -m tests.record_cassettes tests/test_notebooks.py` records, the recording environment
(HERMES_RECORD, the replica's base URLs, dummy keys) reaches the kernel instead and the notebooks rewrite
their cassettes against the replica.

Committed notebooks carry no outputs (`python -m tests.test_notebooks strip` strips them), so no output
can disagree with the code that is committed next to it.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from tests import cassette_support
from tests.replica import EMBEDDINGS_PATH, Replica

NOTEBOOKS = cassette_support.REPO_ROOT / "docs" / "integrations"
NAMES = ("chat_hermes", "llamaindex_hermes", "gateway_embeddings", "llamaindex_gateway_embedding")
TIMEOUT = 120
"""Seconds per cell; a replayed cell takes well under one."""


def notebook_path(name: str) -> Path:
    return NOTEBOOKS / f"{name}.ipynb"


KERNEL = "hermes-gateway-tests"


@pytest.fixture(scope="module", autouse=True)
def _this_interpreters_kernel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A kernelspec for this very interpreter, found first on JUPYTER_PATH: a "python3" kernelspec in the
    developer's Jupyter folders could point at another Python, without this package or its pins."""
    folder = tmp_path_factory.mktemp("jupyter")
    spec = folder / "kernels" / KERNEL / "kernel.json"
    spec.parent.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec.write_text(json.dumps({"argv": argv, "display_name": KERNEL, "language": "python"}))
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("JUPYTER_PATH", str(folder))
        yield


def execute(name: str) -> nbformat.NotebookNode:
    notebook = nbformat.read(notebook_path(name), as_version=4)
    client = NotebookClient(
        notebook,
        timeout=TIMEOUT,
        kernel_name=KERNEL,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()
    return notebook


def outputs(notebook: nbformat.NotebookNode, stream: str | None = None, cell_with: str = "") -> str:
    """The text outputs of every code cell whose source contains `cell_with` (one stream only, when `stream`
    is given), concatenated."""
    texts: list[str] = []
    for cell in notebook.cells:
        if cell.cell_type != "code" or cell_with not in cell.source:
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                if stream is None or output.get("name") == stream:
                    texts.append(output.get("text", ""))
            elif stream is None and "data" in output:
                texts.append(output["data"].get("text/plain", ""))
    return "\n".join(texts)


@pytest.fixture(scope="module")
def executed() -> Iterator[dict[str, nbformat.NotebookNode]]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        if cassette_support.record_target() is None:  # the kernel inherits this environment
            for name in ("HERMES_CASSETTES", "HERMES_RECORD", *cassette_support.GATEWAY_ENV_VARS):
                monkeypatch.delenv(name, raising=False)
        yield {name: execute(name) for name in NAMES}


@pytest.mark.parametrize("name", NAMES)
def test_notebook_replays_its_cassette_and_says_so(executed: dict[str, Any], name: str) -> None:
    if cassette_support.record_target() is None:
        assert (
            f"No APIPIE_API_KEY set: replaying the recorded cassette cassettes/replica/notebooks/{name}.yaml"
        ) in outputs(executed[name], "stderr")


def test_chat_hermes_notebook_shows_each_feature(executed: dict[str, Any]) -> None:
    notebook = executed["chat_hermes"]
    assert re.search(r"AIMessage\(content='\S", outputs(notebook, cell_with="ai_msg = llm.invoke(messages)"))
    assert re.search(r"AIMessage\(content='\S", outputs(notebook, cell_with="chain.invoke("))
    tool_calls = outputs(notebook, cell_with="bind_tools")
    assert re.search(r"'name': 'GetWeather',\s+'args': \{'location': '[^']*San Francisco", tool_calls)
    assert "City(name='Paris', country='France')" in outputs(notebook, cell_with="structured_llm.invoke")
    parsed, error = outputs(notebook, cell_with="json_mode").splitlines()
    assert parsed == "name='Tokyo' country='Japan'"
    assert error == "None"  # no parsing error
    assert outputs(notebook, cell_with="llm.stream(").count("|") > 5  # streamed, chunk by chunk
    assert outputs(notebook, cell_with="llm.astream(").count("|") > 5
    usage = outputs(notebook, cell_with="get_hermes_usage_callback()")
    tokens = re.search(r"\{'input_tokens': (\d+), 'output_tokens': (\d+), 'total_tokens': (\d+)", usage)
    assert tokens
    assert int(tokens.group(1)) + int(tokens.group(2)) == int(tokens.group(3))
    assert re.search(r"'cost_usd': \d\S*, 'latency_ms': \d\S*, 'gateway': 'apipie'", usage)
    assert re.search(r"^\d+ \d\S* 2$", usage, re.MULTILINE)  # the callback counted both requests
    assert outputs(notebook, cell_with="vision.invoke").strip()


def test_llamaindex_notebook_shows_each_feature(executed: dict[str, Any]) -> None:
    notebook = executed["llamaindex_hermes"]
    assert re.search(r"^assistant: \S", outputs(notebook, cell_with="print(resp)"), re.MULTILINE)
    assert outputs(notebook, cell_with="stream_chat").strip()
    # the catalog's context window and output cap; a function-calling model
    assert "131072 256 True" in outputs(notebook, cell_with="llm.metadata")
    usage = outputs(notebook, cell_with='resp.raw["usage"]')
    assert re.search(
        r"'prompt_tokens': \d+, 'completion_tokens': \d+, 'total_tokens': \d+, 'cost_usd': \d", usage
    )
    # the tool ran on the arguments the model chose, directly and in the agent's loop
    assert "42 units of widget in stock" in outputs(notebook, cell_with="predict_and_call")
    assert "42 units of gadget in stock" in outputs(notebook, cell_with="FunctionAgent(")
    assert "City(name='Paris', country='France')" in outputs(notebook, cell_with="structured_predict")
    assert outputs(notebook, cell_with="vision.chat").strip()


def test_gateway_embeddings_notebook_shows_each_feature(executed: dict[str, Any]) -> None:
    notebook = executed["gateway_embeddings"]
    # retrieval picks the document about the question's subject, as a real embedding model would
    assert "'LangChain is the framework" in outputs(notebook, cell_with="retriever.invoke(")
    single = outputs(notebook, cell_with="embeddings.embed_query(").splitlines()
    assert single[0] == "256"  # dimensions=256 reached the gateway
    assert re.fullmatch(r"\[-?\d[^\]]*", single[1])  # a vector of floats
    assert outputs(notebook, cell_with="embeddings.embed_documents(").splitlines()[0] == "2 [256, 256]"
    # vectors come back in input order: the Eiffel Tower query is closest to the Eiffel Tower text
    assert outputs(notebook, cell_with="similarities.index").strip() == "closest: 0"
    lengths, agreement = outputs(notebook, cell_with="aembed_query(").splitlines()
    assert lengths == "256 2"
    assert all(float(value) >= 0.99 for value in agreement.split())  # async embeds the same texts alike
    gateway, tokens, cost = outputs(notebook, cell_with="usage_hook=seen.append").split()
    assert gateway == "apipie"
    assert int(tokens) > 0
    assert float(cost) >= 0


def test_llamaindex_embedding_notebook_shows_each_feature(executed: dict[str, Any]) -> None:
    notebook = executed["llamaindex_gateway_embedding"]
    assert outputs(notebook, cell_with="embed_model.get_text_embedding(").splitlines()[0] == "256"
    batch = outputs(notebook, cell_with="get_text_embedding_batch(").splitlines()
    assert batch[0] == "5 {256}"  # one vector per text, each of the asked dimensions
    assert batch[1] == "closest: Mount Everest is 8,849 metres high."  # in input order
    lengths, agreement = outputs(notebook, cell_with="aget_text_embedding_batch(").splitlines()
    assert lengths == "256 5"
    assert float(agreement) >= 0.99
    retrieved = outputs(notebook, cell_with="Settings.embed_model =").strip()
    assert retrieved == "The Eiffel Tower is in Paris and was finished in 1889."
    counted, gateway = outputs(notebook, cell_with="TokenCountingHandler(").splitlines()
    handler = re.fullmatch(r"TokenCountingHandler: (\d+) (\d+)", counted)
    assert handler
    assert int(handler.group(1)) > 0
    assert handler.group(2) == "6"  # five documents and the query, each counted
    batches = re.findall(r"\((\d+), (\d\S*?)\)", gateway)
    assert len(batches) == 3  # embed_batch_size=3: two batches of documents, then the query
    assert all(int(tokens) > 0 and float(cost) >= 0 for tokens, cost in batches)


def test_notebook_goes_live_when_the_key_is_set(replica: Replica, monkeypatch: pytest.MonkeyPatch) -> None:
    """With APIPIE_API_KEY set, the notebook calls the gateway (here the replica) instead of replaying."""
    if cassette_support.record_target() is not None:
        pytest.skip("recording: the notebooks are recorded by the replay test")
    monkeypatch.setenv("APIPIE_API_KEY", "live-mode-test-key-0000")
    monkeypatch.setenv("APIPIE_BASE_URL", replica.apipie.base_url)
    notebook = execute("llamaindex_hermes")
    assert "APIPIE_API_KEY set: calling the gateway live." in outputs(notebook, "stderr")
    assert "replaying" not in outputs(notebook, "stderr")
    assert len(replica.apipie.requests) >= 10  # every call in the notebook went to the gateway
    assert "42 units of widget in stock" in outputs(notebook, cell_with="predict_and_call")


@pytest.mark.parametrize(
    ("name", "requests"), [("gateway_embeddings", 7), ("llamaindex_gateway_embedding", 14)]
)
def test_embeddings_notebook_goes_live_when_the_key_is_set(
    replica: Replica, monkeypatch: pytest.MonkeyPatch, name: str, requests: int
) -> None:
    """With APIPIE_API_KEY set, every embedding the notebook asks for goes to the gateway (the replica)."""
    if cassette_support.record_target() is not None:
        pytest.skip("recording: the notebooks are recorded by the replay test")
    monkeypatch.setenv("APIPIE_API_KEY", "live-mode-test-key-0000")
    monkeypatch.setenv("APIPIE_BASE_URL", replica.apipie.base_url)
    notebook = execute(name)
    assert "APIPIE_API_KEY set: calling the gateway live." in outputs(notebook, "stderr")
    assert "replaying" not in outputs(notebook, "stderr")
    assert [r.path for r in replica.apipie.requests] == [EMBEDDINGS_PATH] * requests


@pytest.mark.parametrize("name", NAMES)
def test_committed_notebook_has_no_outputs(name: str) -> None:
    notebook = nbformat.read(notebook_path(name), as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], (
                f"{name}: committed outputs (strip: python -m tests.test_notebooks strip)"
            )
            assert cell.execution_count is None


def test_every_notebook_is_executed_here() -> None:
    assert {p.stem for p in NOTEBOOKS.glob("*.ipynb")} == set(NAMES)


def strip() -> None:
    for name in NAMES:
        path = notebook_path(name)
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                cell.outputs = []
                cell.execution_count = None
        nbformat.write(notebook, path)


if __name__ == "__main__":
    if sys.argv[1:] == ["strip"]:
        strip()
    else:
        print("usage: python -m tests.test_notebooks strip", file=sys.stderr)
        raise SystemExit(2)
