"""What a document claims about the repository, and which of those claims are false.

`problems(path)` reads a Markdown file (or the Markdown cells of a notebook) and returns one line per false
claim:
- a relative link whose target does not exist;
- a file or folder path in an inline code span (`examples/quickstart.py`, `cassettes/replica/`, a bare module
  file name such as `_client.py`) that does not exist, relative to the repository or to the document;
- a test cited as `tests/...py::test_name` (or `::test_name` after such a citation) that the file does not
  define (inherited langchain-tests standard tests count);
- a command in a ```bash block or an inline code span that cannot run as written: `python -m X` where X
  cannot be imported, a long option (`--target`) that X's own `--help` does not list, a script or path
  argument that does not exist, a pip/uv extra that pyproject.toml does not define, `mkdocs` without
  mkdocs.yml.

Paths that exist only after a documented command has made them are listed in GENERATED with that command;
the claim is true when the same document names the command too.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import shlex
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tests.cassette_support import REPO_ROOT

GENERATED: dict[str, str] = {
    "cassettes/live": "--target live",
}
"""Paths the repository does not contain until a command makes them, and the option that makes them."""

_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.DOTALL | re.MULTILINE)
_SPAN = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
_PATHLIKE = re.compile(r"^[\w.-]+(?:/[\w.-]+)*/?$")
_FILE_SUFFIXES = (".py", ".md", ".yaml", ".yml", ".toml", ".ipynb", ".lock", ".png", ".txt")
_CITATION = re.compile(r"^(tests/[\w/.-]+\.py)?::(\w+)")
_STANDARD = re.compile(r"^(ChatModelIntegrationTests|ChatModelUnitTests)\.(\w+)$")
"""langchain-tests' standard suites, cited by class and test name."""
_COMMAND_START = re.compile(r"^(?:[A-Z_]+=\S*\s+)*(?:python3?|\.venv/bin/\w+|pip|uv|mkdocs|jupyter)\b")
_PROGRAMS = ("python", "python3", "pip", "uv", "mkdocs", "jupyter", "pytest")


def markdown_of(path: Path) -> str:
    if path.suffix == ".ipynb":
        notebook = nbformat.read(path, as_version=4)
        return "\n\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    return path.read_text(encoding="utf-8")


def _without_fences(text: str) -> str:
    return _FENCE.sub("", text)


def _exists(claim: str, doc_dir: Path) -> bool:
    claim = claim.rstrip("/")
    if any(claim == g or (doc_dir / claim).resolve() == REPO_ROOT / g for g in GENERATED):
        return True  # problems() checks that the document names the command that makes it
    if (REPO_ROOT / claim).exists() or (doc_dir / claim).exists():
        return True
    if "/" not in claim:  # a bare file name (`_client.py`): somewhere in the packages, tests or examples
        roots = ("hermes_gateway", "langchain_hermes", "llamaindex_hermes", "tests", "examples", "benchmarks")
        return any(next((REPO_ROOT / root).rglob(claim), None) is not None for root in roots)
    return False


def _is_path_claim(span: str, doc_dir: Path) -> bool:
    if not _PATHLIKE.match(span) or span.startswith(("/", ".venv")):
        return False
    if span.endswith(_FILE_SUFFIXES):
        return True
    first = span.split("/", 1)[0]  # a folder path: only when it starts at a folder that exists
    return "/" in span and ((REPO_ROOT / first).exists() or (doc_dir / first).exists())


# ---- test citations -------------------------------------------------------------------------------------
def _defines_test(file: Path, name: str) -> bool:
    text = file.read_text(encoding="utf-8")
    if re.search(rf"^\s*(?:async\s+)?def {re.escape(name)}\(", text, re.MULTILINE):
        return True
    return any(  # langchain-tests' standard tests, inherited by a class in the file
        base in text and hasattr(_standard_suite(base), name)
        for base in ("ChatModelIntegrationTests", "ChatModelUnitTests")
    )


def _standard_suite(name: str) -> type:
    pytest.importorskip("langchain_tests", reason="citations of its standard tests need langchain-tests")
    from langchain_tests import integration_tests, unit_tests

    suite: type = getattr(integration_tests, name, None) or getattr(unit_tests, name)
    return suite


# ---- commands ---------------------------------------------------------------------------------------------
@functools.cache
def _pyproject_extras() -> frozenset[str]:
    """The keys of [project.optional-dependencies] (read by hand: tomllib is Python 3.11+)."""
    text = (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    section = text.split("[project.optional-dependencies]", 1)[1].split("\n[", 1)[0]
    return frozenset(re.findall(r"^([\w-]+)\s*=", section, re.MULTILINE))


@functools.cache
def _help_text(module: str, words: tuple[str, ...]) -> str:
    process = subprocess.run(
        [sys.executable, "-m", module, *words, "--help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return process.stdout + process.stderr if process.returncode == 0 else ""


def _is_path_token(token: str) -> bool:
    return (
        ("/" in token or token.endswith(_FILE_SUFFIXES))
        and "://" not in token
        and not token.startswith(("-", ".venv/", "/"))
        and "=" not in token
        and _PATHLIKE.match(token) is not None
    )


def _command_problems(command: str, doc_dir: Path) -> list[str]:
    try:
        tokens = [t.strip("[]") for t in shlex.split(command, comments=True)]
    except ValueError as exc:
        return [f"command `{command}` does not parse: {exc}"]
    while tokens and re.match(r"^[A-Z_]+=", tokens[0]):
        tokens.pop(0)
    tokens = [t for t in tokens if t]
    if not tokens or tokens[0].rsplit("/", 1)[-1] not in _PROGRAMS:
        return []
    program, args = tokens[0].rsplit("/", 1)[-1], tokens[1:]
    found: list[str] = []
    for token in args:
        if _is_path_token(token) and not _exists(token, doc_dir):
            found.append(f"command `{command}` names {token}, which does not exist")
    for extras in re.findall(r"\.\[([\w,-]+)\]", command):
        found += [
            f"command `{command}` asks for the extra `{e}`, which pyproject.toml does not define"
            for e in extras.split(",")
            if e not in _pyproject_extras()
        ]
    if program == "uv":
        found += [
            f"command `{command}` asks for the extra `{args[i + 1]}`, which pyproject.toml does not define"
            for i, token in enumerate(args[:-1])
            if token == "--extra" and args[i + 1] not in _pyproject_extras()
        ]
    if program == "mkdocs" and not (REPO_ROOT / "mkdocs.yml").is_file():
        found.append(f"command `{command}` needs mkdocs.yml, which does not exist")
    if program.startswith("python") and args[:1] == ["-m"] and len(args) > 1:
        module = args[1]
        if importlib.util.find_spec(module) is None:
            return [*found, f"command `{command}` runs module {module}, which cannot be imported"]
        options = [t.split("=", 1)[0] for t in args[2:] if t.startswith("--")]
        if options and module.split(".")[0] in ("tests", "hermes_gateway"):
            words = tuple(t for t in args[2:] if re.fullmatch(r"[a-z]+", t))[:1]
            help_text = _help_text(module, words)
            found += [
                f"command `{command}`: {module} {' '.join(words)} --help does not list {option}"
                for option in options
                if option not in help_text
            ]
    return found


def commands(text: str) -> list[str]:
    """Every command in the document: lines of ```bash blocks and inline code spans that start like one,
    split at `&&`, comments dropped."""
    lines = [
        line.split("  #", 1)[0].strip()
        for lang, body in _FENCE.findall(text)
        if lang in ("bash", "sh", "shell", "")
        for line in body.splitlines()
    ]
    lines += [span for span in _SPAN.findall(_without_fences(text))]
    found = []
    for line in lines:
        for part in line.split("&&"):
            part = part.strip()
            if _COMMAND_START.match(part):
                found.append(part)
    return found


# ---- everything ------------------------------------------------------------------------------------------
def problems(path: Path) -> list[str]:
    text = markdown_of(path)
    doc_dir = path.parent
    found: list[str] = []
    for target in _LINK.findall(text):
        if not target.startswith(("http://", "https://", "mailto:")) and not (doc_dir / target).exists():
            found.append(f"link to {target}, which does not exist")
    cited: Path | None = None
    for span in _SPAN.findall(_without_fences(text)):
        citation = _CITATION.match(span)
        standard = _STANDARD.match(span)
        if standard and not hasattr(_standard_suite(standard.group(1)), standard.group(2)):
            found.append(f"cites {span}, which langchain-tests does not have")
        elif citation:
            if citation.group(1):
                cited = REPO_ROOT / citation.group(1)
            if cited is None or not cited.is_file():
                found.append(f"cites {span}, but {citation.group(1) or 'no file'} does not exist")
            elif not _defines_test(cited, citation.group(2)):
                found.append(f"cites {span}, but {cited.relative_to(REPO_ROOT)} has no {citation.group(2)}")
        elif _is_path_claim(span, doc_dir) and not _exists(span, doc_dir):
            found.append(f"names the path {span}, which does not exist")
    for command in commands(text):
        found += _command_problems(command, doc_dir)
    for generated, option in GENERATED.items():
        if generated in text and option not in text:
            found.append(f"names {generated}, which exists only after a command with {option}; name it")
    return found
