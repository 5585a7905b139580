"""mkdocs hooks: the guides link to files outside docs/ (examples, cassettes/README.md); put them in the site.

The guides are written to be read on a code host, where `../examples/langchain_agent.py` is a file of the
repository. The site has only docs/, so each such link is rewritten to a copy of its target under `repo/`
in the built site (a Markdown target becomes a page, anything else a file to open). A link whose target does
not exist is left alone, so `mkdocs build --strict` still fails on it.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
PREFIX = "repo"
_LINK = re.compile(r"\]\((\.\./[^)#\s]+)((?:#[^)]*)?)\)")


def _outside_targets(markdown: str, page_dir: Path) -> list[tuple[str, Path]]:
    """(link text as written, resolved target) for each relative link out of docs/ to a file that exists."""
    found = []
    for link, _anchor in _LINK.findall(markdown):
        target = (page_dir / link).resolve()
        if target.is_file() and not target.is_relative_to(DOCS) and target.is_relative_to(REPO):
            found.append((link, target))
    return found


def on_files(files: Files, config: Any) -> Files:
    for page in DOCS.rglob("*.md"):
        markdown = page.read_text(encoding="utf-8")
        for _link, target in _outside_targets(markdown, page.parent):
            src_uri = f"{PREFIX}/{target.relative_to(REPO).as_posix()}"
            if files.get_file_from_path(src_uri) is None:
                files.append(File.generated(config, src_uri, abs_src_path=str(target)))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    page_path = DOCS / page.file.src_uri
    page_dir_uri = posixpath.dirname(page.file.src_uri)
    for link, target in _outside_targets(markdown, page_path.parent):
        src_uri = f"{PREFIX}/{target.relative_to(REPO).as_posix()}"
        new = posixpath.relpath(src_uri, page_dir_uri or ".")
        markdown = markdown.replace(f"]({link}", f"]({new}")
    return markdown
