"""The README and docs/ say only true things.

- The two commands are there verbatim, and the test command is the one `.ci/run` runs.
- The model table is what `python -m hermes_gateway models` prints (regenerate it with
  `python -m tests.test_readme models`).
- Every ```python block in README.md and docs/*.md runs, offline, against the replica (the gateways' base-URL
  variables point at it, with dummy keys), prints something, and makes at least one request to it (unless
  its first line is `# offline: no request`).
- The error tree is the one `hermes_gateway/_exceptions.py` draws.
- Relative links point at files that exist; the benchmark ratios are the ones in benchmarks/RESULTS.md.
- Every path, command and cited test named in README.md, docs/ (notebooks included) and cassettes/README.md
  is real (tests/doc_claims.py), and the checker catches each kind of false claim on a synthetic page.
"""

from __future__ import annotations

import contextlib
import io
import re
import sys
from pathlib import Path

import pytest

from hermes_gateway.__main__ import main as hermes_cli
from tests import doc_claims
from tests.cassette_support import REPO_ROOT
from tests.replica import Replica

README = REPO_ROOT / "README.md"
DOCS = sorted(p for p in (REPO_ROOT / "docs").glob("*.md") if p.name != "architecture.md")
"""The guides (architecture.md is the design contract: its code blocks are signatures, not programs)."""
OFFLINE = "# offline: no request"
"""A block's first line when it makes no request (parsing, errors raised before any I/O)."""
TEST_MODULE = "# a pytest module: defines tests, runs none"
"""A block's first line when it shows a test module: it runs (imports, definitions), defines a `test_*`
function, prints nothing and sends nothing."""
MAIN_COMMAND = " && ".join(
    [
        "python3 -m venv .venv",
        ".venv/bin/pip install -e '.[all,examples]'",
        ".venv/bin/python examples/quickstart.py",
    ]
)
TEST_COMMAND = " && ".join(
    [
        "python3 -m venv .venv",
        ".venv/bin/pip install -q uv==0.13.9",
        ".venv/bin/uv sync -q --inexact --locked --extra all --extra test --extra examples --extra docs",
        ".venv/bin/python -m pytest -q",
    ]
)
"""The tests run in the environment uv.lock pins (`--locked`: used as committed, and refused when stale)."""
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.DOTALL | re.MULTILINE)


def blocks(path: Path, language: str) -> list[str]:
    return [body for lang, body in _FENCE.findall(path.read_text(encoding="utf-8")) if lang == language]


def between(text: str, name: str) -> str:
    match = re.search(rf"<!-- {name}:start -->\n(.*?)<!-- {name}:end -->", text, re.DOTALL)
    assert match, f"README has no <!-- {name}:start/end --> block"
    return match.group(1)


# ---- the two commands ---------------------------------------------------------------------------------
def test_the_two_commands_are_in_the_readme_verbatim() -> None:
    commands = [line.strip() for block in blocks(README, "bash") for line in block.splitlines()]
    assert MAIN_COMMAND in commands
    assert TEST_COMMAND in commands


def test_the_test_command_is_what_ci_runs() -> None:
    ci_lines = [ln.strip() for ln in (REPO_ROOT / ".ci/run").read_text().splitlines()]
    assert TEST_COMMAND in ci_lines


def test_the_test_command_installs_from_the_lock() -> None:
    """`--locked` installs uv.lock as committed, and fails if the lock no longer matches pyproject.toml."""
    assert "--locked" in TEST_COMMAND.split()
    assert (REPO_ROOT / "uv.lock").is_file()


def test_the_main_command_runs_the_quickstart_that_exists() -> None:
    assert (REPO_ROOT / MAIN_COMMAND.rsplit(" ", 1)[-1]).is_file()


# ---- the model table ----------------------------------------------------------------------------------
def models_markdown() -> str:
    """`python -m hermes_gateway models` as a Markdown table (ids in backticks)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert hermes_cli(["models"]) == 0
    rows = [re.split(r"\s{2,}", line.strip()) for line in out.getvalue().splitlines() if line.strip()]
    header = rows[0]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows[1:]:
        cells = row + [""] * (len(header) - len(row))
        cells = [f"`{c}`" if header[i] == "ID" else c for i, c in enumerate(cells)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def test_the_model_table_is_the_catalog() -> None:
    assert between(README.read_text(encoding="utf-8"), "models") == models_markdown(), (
        "README model table is stale: regenerate it with `python -m tests.test_readme models`"
    )


_OURS = ("hermes_gateway", "langchain_hermes", "llamaindex_hermes")


# ---- code blocks run ----------------------------------------------------------------------------------
PYTHON_BLOCKS = [
    pytest.param(path, i, code, id=f"{path.relative_to(REPO_ROOT)}#{i}")
    for path in [README, *DOCS]
    for i, code in enumerate(blocks(path, "python"))
]


@pytest.mark.parametrize(("path", "index", "code"), PYTHON_BLOCKS)
def test_python_block_runs_against_the_replica(
    path: Path, index: int, code: str, replica: Replica, monkeypatch: pytest.MonkeyPatch
) -> None:
    quiet = code.startswith((OFFLINE, TEST_MODULE))
    if not quiet:  # offline blocks get no keys and no base URLs at all
        for name, url in replica.env().items():
            monkeypatch.setenv(name, url)
        for name in ("APIPIE_API_KEY", "AIMLAPI_API_KEY", "OPENAI_API_KEY"):
            monkeypatch.setenv(name, "readme-test-key-0000")
    out = io.StringIO()
    namespace: dict[str, object] = {"__name__": "__readme__"}
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(code, f"{path.name}#{index}", "exec"), namespace)
    finally:  # the blocks read like user code and leave their models open; free the connections
        for value in namespace.values():
            close = getattr(value, "close", None)
            if type(value).__module__.split(".")[0] in _OURS and callable(close):
                close()
    sent = sum(len(server.requests) for server in replica.servers.values())
    assert sent == 0 if quiet else sent > 0, f"the block made {sent} request(s)"
    if code.startswith(TEST_MODULE):
        assert any(name.startswith("test_") and callable(v) for name, v in namespace.items())
        assert not out.getvalue().strip(), "a test module block prints nothing"
    else:
        assert out.getvalue().strip(), "the block printed nothing"


def test_the_error_tree_is_the_one_in_exceptions() -> None:
    import hermes_gateway._exceptions as exceptions

    tree = re.search(r"```\n(GatewayError.*?)```", exceptions.__doc__ or "", re.DOTALL)
    assert tree
    for path in (README, REPO_ROOT / "docs/errors.md"):
        assert tree.group(1) in blocks(path, "text"), (
            f"{path.name}: the error tree differs from _exceptions.py"
        )


# ---- links and numbers --------------------------------------------------------------------------------
_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("path", [README, *DOCS], ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_relative_links_exist(path: Path) -> None:
    for target in _LINK.findall(path.read_text(encoding="utf-8")):
        if not target.startswith(("http://", "https://", "mailto:")):
            assert (path.parent / target).exists(), f"{path.name} links to missing {target}"


# ---- every path, command and cited test named in the docs ----------------------------------------------
CLAIMING_DOCS = [
    README,
    *sorted((REPO_ROOT / "docs").rglob("*.md")),
    REPO_ROOT / "cassettes/README.md",
    *sorted((REPO_ROOT / "docs").rglob("*.ipynb")),
]


@pytest.mark.parametrize("path", CLAIMING_DOCS, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_every_path_command_and_cited_test_is_real(path: Path) -> None:
    """Links, paths in code spans, commands (modules, their options, scripts, extras) and cited tests."""
    problems = doc_claims.problems(path)
    assert not problems, "\n".join(problems)


SYNTHETIC_DOC = """# A stale page

See [the guide](no-such-guide.md) and [the quickstart](QUICKSTART_LINK).
The helper is `examples/_replay.py`; the old one was `examples/_old_replay.py`, next to `cassettes/gone/`.
Proved by `tests/test_readme.py::test_the_model_table_is_the_catalog` and
`tests/test_readme.py::test_that_was_renamed`, and by `ChatModelIntegrationTests.test_no_such_standard_test`.
Recordings against the gateways go to `cassettes/live/`.

```bash
pip install -e '.[all,no-such-extra]'
python -m tests.no_such_module
python -m hermes_gateway models --no-such-flag
python examples/no_such_example.py
python -m tests.record_cassettes tests/no_such_folder
```

`python -m hermes_gateway models --json` is fine, and so is `pip install -e '.[all,examples]'`.
"""


def test_the_claim_checker_catches_false_claims(tmp_path: Path) -> None:
    """A page with one false claim of each kind (and some true ones): each false one is reported, no other."""
    doc = tmp_path / "stale.md"
    quickstart = REPO_ROOT / "examples/quickstart.py"
    doc.write_text(SYNTHETIC_DOC.replace("QUICKSTART_LINK", str(quickstart)), encoding="utf-8")
    found = doc_claims.problems(doc)
    expected = [
        "link to no-such-guide.md",
        "the path examples/_old_replay.py",
        "the path cassettes/gone/",
        "has no test_that_was_renamed",
        "ChatModelIntegrationTests.test_no_such_standard_test",
        "names cassettes/live, which exists only after a command with --target live",
        "the extra `no-such-extra`",
        "module tests.no_such_module, which cannot be imported",
        "models --help does not list --no-such-flag",
        "names examples/no_such_example.py",
        "names tests/no_such_folder",
    ]
    for needle in expected:
        assert [p for p in found if needle in p], f"not caught: {needle}\n{found}"
    assert len(found) == len(expected), found


def test_examples_table_lists_every_example() -> None:
    text = README.read_text(encoding="utf-8")
    listed = set(re.findall(r"\(examples/(\w+\.py)\)", text))
    present = {p.name for p in (REPO_ROOT / "examples").glob("*.py") if not p.name.startswith("_")}
    assert listed <= present
    assert {"quickstart.py", "langchain_agent.py", "llamaindex_rag.py", "failover.py"} <= listed


def test_benchmark_ratios_are_the_latest_results() -> None:
    results = (REPO_ROOT / "benchmarks/RESULTS.md").read_text(encoding="utf-8")
    headline = re.search(r"## Headline ratios\n\n(.*?)\n\n", results, re.DOTALL)
    assert headline, "benchmarks/RESULTS.md has no headline ratios"
    assert headline.group(1).strip() in between(README.read_text(encoding="utf-8"), "bench")


if __name__ == "__main__":
    if sys.argv[1:] == ["models"]:
        print(models_markdown(), end="")
    else:
        print("usage: python -m tests.test_readme models", file=sys.stderr)
        raise SystemExit(2)
