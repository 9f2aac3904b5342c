"""The design lives in the project: whoever clones the repository has no shared folder beside it
(the design notes of the project's first days lived there). No file may point outside it for the
design or the API notes, and every `docs/…md §n` the code cites must exist (the section numbers
are the contract between the code's comments and the docs)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKIP_DIRS = {".git", ".venv", ".venv-tools", ".tools", "node_modules", "__pycache__", "build"}
TEXT = {
    ".py",
    ".pyx",
    ".pxi",
    ".md",
    ".toml",
    ".tf",
    ".yaml",
    ".yml",
    ".json",
    ".txt",
    ".cfg",
    ".sh",
    ".groovy",
    "",
}
# A reference outside the repository: the shared design folder of the project's first days.
OUTSIDE = re.compile(r"(\.\./|/work/)shared\b|\bshared/(DESIGN|reference)")
# An API note named without its place in docs/reference/ (ambiguous to a newcomer).
BARE_NOTE = re.compile(r"(?<![\w/])(rds-api|openobserve-api|local-infra)\.md")
CITED = re.compile(r"docs/(design|operations|reference/[a-z-]+)\.md §(\d+)")


def project_files() -> list[Path]:
    """The repository's files (tracked and new, not ignored); a tree walk without git."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT, capture_output=True, text=True, check=True,
        ).stdout.split("\n")  # fmt: skip
        paths = [ROOT / p for p in out if p]
    except (OSError, subprocess.CalledProcessError):
        paths = [p for p in ROOT.rglob("*") if not SKIP_DIRS & set(p.relative_to(ROOT).parts)]
    return [
        p for p in paths if p.is_file() and (p.suffix in TEXT or p.name.startswith("Dockerfile"))
    ]


def texts() -> dict[str, str]:
    out = {}
    for p in project_files():  # a file deleted in the work tree but still indexed is left out
        try:
            out[str(p.relative_to(ROOT))] = p.read_text()
        except UnicodeDecodeError:
            continue
    return out


def test_no_file_refers_outside_the_repository() -> None:
    found = texts()
    assert "docs/design.md" in found and "common/settings.py" in found
    bad = [
        f"{name}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0)}"
        for name, text in found.items()
        for m in OUTSIDE.finditer(text)
    ]
    assert not bad, "references outside the repository (use docs/):\n" + "\n".join(bad)


def test_api_notes_are_named_by_their_place_in_docs() -> None:
    bad = [
        f"{name}: {m.group(0)}"
        for name, text in texts().items()
        if not name.startswith("docs/reference/")
        for m in BARE_NOTE.finditer(text)
    ]
    assert not bad, "name the note as docs/reference/<note>.md:\n" + "\n".join(bad)


def test_every_cited_section_exists() -> None:
    sections: dict[str, set[str]] = {}
    for doc in (ROOT / "docs").rglob("*.md"):
        key = str(doc.relative_to(ROOT / "docs"))[: -len(".md")]
        sections[key] = set(re.findall(r"^## (\d+)\.", doc.read_text(), re.M))
    cited = {
        (m.group(1), m.group(2), name)
        for name, text in texts().items()
        for m in CITED.finditer(text)
    }
    assert len(cited) > 10  # the code does cite the docs
    missing = sorted(
        f"{name} cites docs/{doc}.md §{n}"
        for doc, n, name in cited
        if n not in sections.get(doc, set())
    )
    assert not missing, "\n".join(missing)
