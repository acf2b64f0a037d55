"""The README and the documents it points to: links that resolve, and every
generated benchmark table reachable from them."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ["README.md", "SECURITY.md", "benchmarks/FINDINGS.md"]
# A markdown link's target, without its #anchor.
LINK = re.compile(r"\]\(([^)#\s]+)[^)]*\)")


def _relative_links(doc: str) -> list[str]:
    return [t for t in LINK.findall((ROOT / doc).read_text()) if "://" not in t]


@pytest.mark.parametrize("doc", DOCS)
def test_every_relative_link_resolves(doc):
    links = _relative_links(doc)
    missing = [t for t in links if not (ROOT / doc).parent.joinpath(t).exists()]
    assert missing == [], f"{doc} links to missing files: {missing}"


def test_every_generated_table_is_linked_from_the_readme_or_the_findings():
    linked = {
        (ROOT / doc).parent.joinpath(t).resolve()
        for doc in ("README.md", "benchmarks/FINDINGS.md")
        for t in _relative_links(doc)
    }
    tables = sorted((ROOT / "benchmarks" / "results").glob("*.md"))
    assert tables, "no generated tables found"
    unlinked = [p.name for p in tables if p.resolve() not in linked]
    assert unlinked == []
