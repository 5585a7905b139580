"""Prove that the dependency ranges in pyproject.toml are true, at both ends.

    python scripts/check_ranges.py newest   # every dependency at its newest release: tests + mypy
    python scripts/check_ranges.py lowest   # the library's own dependencies at the lowest versions the
                                            # ranges allow (httpx 0.27, pydantic 2.7, langchain-core 1.6, ...)

"lowest" runs twice. First the core alone (`pip install hermes-gateway`, no framework) with uv's
`lowest-direct` resolution: httpx 0.27.0 and pydantic 2.7.0, with the core's tests. Then everything, the same
way: each direct dependency at the lowest version the ranges allow together (langchain-core 1.6.0,
llama-index-core 0.14.5, httpx 0.27.0; pydantic rises to what those two require). The test tools come at
their newest releases compatible with that set. langchain-tests is left out: every release of it requires
httpx >= 0.28.1, so the modules that import it (the standard suites) are not collected there
(`tests/conftest.py`); they run in CI, on the lock, and in `newest`.

Why not in .ci/run: CI installs the locked toolchain (uv.lock) so that an upstream release cannot turn it red
overnight; these checks are how we find out, on demand, that a release (or an old version a user still has)
breaks us. Each run builds a throwaway venv with uv (installed next to this interpreter if missing), so the
project's own .venv is never touched. Exit status: 0 when the tests and mypy pass.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the dev tools' Python is 3.11+; 3.10 users need `pip install tomli`
    import tomli as tomllib

REPO = Path(__file__).resolve().parent.parent
EXTRAS = ".[all,test,examples]"
NEEDS_NEWER_THAN_LOWEST = ("langchain-tests",)
"""Test tools whose every release needs more than our lowest runtime versions (see the module docstring)."""
CORE_SUITES = ("tests/core", "tests/hermes", "tests/catalog")
"""What the core alone (no framework installed) is tested with, at httpx 0.27.0 and pydantic 2.7.0."""


def _project() -> dict[str, object]:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]  # type: ignore[no-any-return]


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0]


def test_tools() -> list[str]:
    """The test and example extras' requirements, as written (ranges), less those that cannot go lowest."""
    extras = _project()["optional-dependencies"]
    assert isinstance(extras, dict)
    wanted = [r for group in ("test", "examples") for r in extras[group]]
    return sorted({r for r in wanted if _name(r) not in NEEDS_NEWER_THAN_LOWEST})


def uv() -> str:
    found = shutil.which("uv")
    if found:
        return found
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "uv"], check=True)
    return shutil.which("uv") or str(Path(sys.executable).with_name("uv"))


def run(*command: str) -> None:
    print("+", " ".join(command), flush=True)
    subprocess.run(command, check=True, cwd=REPO)


def _freeze(tool: str, python: str, path: Path) -> Path:
    freeze = subprocess.run(
        [tool, "pip", "freeze", "--python", python, "--exclude-editable"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path.write_text(freeze, encoding="utf-8")
    return path


def check(end: str, profile: str, tool: str, keep: bool) -> bool:
    """One venv, one install, the tests and mypy; True when both pass."""
    venv = Path(tempfile.mkdtemp(prefix=f"hermes-{end}-{profile}-")) / "venv"
    python = str(venv / "bin" / "python")
    run(tool, "venv", "-q", "--python", sys.executable, str(venv))
    install = [tool, "pip", "install", "-q", "--python", python]
    pytest = [python, "-m", "pytest", "-q", "-p", "no:randomly"]
    mypy = [python, "-m", "mypy"]
    if end == "newest":
        run(*install, "-e", EXTRAS, "--upgrade", "--resolution", "highest")
    else:
        library = ".[all]" if profile == "all" else "."
        run(*install, "-e", library, "--resolution", "lowest-direct")
        runtime = _freeze(tool, python, venv.parent / "runtime.txt")
        tools = (
            test_tools() if profile == "all" else [t for t in test_tools() if not t.startswith("langchain")]
        )
        run(*install, "--constraint", str(runtime), *tools)
        if profile == "core":
            pytest += list(CORE_SUITES)
            mypy += ["--config-file", "pyproject.toml", "-p", "hermes_gateway"]
    run(tool, "pip", "list", "--python", python)
    passed = True
    for step in (pytest, mypy):
        try:
            run(*step)
        except subprocess.CalledProcessError:
            passed = False
    if keep:
        print("venv kept at", venv)
    else:
        shutil.rmtree(venv.parent, ignore_errors=True)
    print(f"range check ({end}, {profile}):", "passed" if passed else "FAILED", flush=True)
    return passed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("end", choices=["newest", "lowest"])
    parser.add_argument("--keep", action="store_true", help="keep the venvs and print their paths")
    args = parser.parse_args(argv)
    tool = uv()
    profiles = ["all"] if args.end == "newest" else ["core", "all"]
    results = [check(args.end, profile, tool, args.keep) for profile in profiles]
    return 0 if all(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
