"""Every relative link and anchor in README.md and docs/*.md resolves (no dead links), and the
README stays a front door (at most 400 lines; the details live in docs/)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README_MAX_LINES = 400

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^\s*(```|~~~)")
INLINE_CODE = re.compile(r"`[^`]*`")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks."""
    lines, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|<[^>]+>", "", heading).strip().lower()
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(text: str) -> set[str]:
    found: set[str] = set()
    for line in prose_lines(text):
        match = HEADING.match(line)
        if match:
            base = slug(match.group(2))
            name, n = base, 0
            while name in found:  # GitHub numbers repeated headings
                n += 1
                name = f"{base}-{n}"
            found.add(name)
    return found


def links(text: str) -> list[str]:
    return [
        target
        for line in prose_lines(text)
        for target in LINK.findall(INLINE_CODE.sub("", line))
        if not re.match(r"[a-z][a-z0-9+.-]*:", target)  # http:, https:, mailto:
    ]


def dead_links(document: Path) -> list[str]:
    dead = []
    text = document.read_text(encoding="utf-8")
    for target in links(text):
        path_part, _, anchor = target.partition("#")
        resolved = (document.parent / path_part).resolve() if path_part else document
        if not resolved.exists():
            dead.append(f"{target}: no such file")
        elif (
            anchor
            and resolved.suffix == ".md"
            and anchor not in anchors(resolved.read_text(encoding="utf-8"))
        ):
            dead.append(f"{target}: no such heading in {resolved.name}")
    return dead


def test_every_relative_link_and_anchor_resolves() -> None:
    problems = {
        str(doc.relative_to(ROOT)): dead for doc in documents() if (dead := dead_links(doc))
    }
    assert problems == {}


def test_the_readme_links_every_doc() -> None:
    readme_links = {target.partition("#")[0] for target in links((ROOT / "README.md").read_text())}
    unlinked = [
        doc.relative_to(ROOT).as_posix()
        for doc in documents()[1:]
        if doc.relative_to(ROOT).as_posix() not in readme_links
    ]
    assert unlinked == []


def test_the_readme_is_a_front_door() -> None:
    assert len((ROOT / "README.md").read_text().splitlines()) <= README_MAX_LINES


def test_the_checker_finds_dead_links_and_anchors(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other\n\n## Write transports (per gateway)\n")
    doc = tmp_path / "doc.md"
    doc.write_text(
        "# Doc\n\n## Home Assistant (MQTT)\n\n"
        "[ok](other.md#write-transports-per-gateway) [ok](#home-assistant-mqtt) "
        "[web](https://example.com/x) `[code](nowhere.md)`\n"
        "[gone](missing.md) [bad](other.md#nope) [self](#nope-here)\n"
        "```\n[in a fence](fenced.md)\n```\n"
    )
    assert dead_links(doc) == [
        "missing.md: no such file",
        "other.md#nope: no such heading in other.md",
        "#nope-here: no such heading in doc.md",
    ]


def test_slugs_follow_github() -> None:
    assert slug("Write transports (per gateway)") == "write-transports-per-gateway"
    assert slug("Home Assistant (MQTT)") == "home-assistant-mqtt"
    assert slug("Writes: v1r and the Fleet API") == "writes-v1r-and-the-fleet-api"
    assert slug("`GET /health`") == "get-health"
