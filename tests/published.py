"""Numbers parsed from tests/data/published_figures.md (the published facts, quoted from the papers' summary),
so that tests check the code's published constants against a source other than the code."""

from __future__ import annotations

import re
from pathlib import Path

SOURCE = Path(__file__).parent / "data" / "published_figures.md"


def figures(pattern: str) -> tuple[float, ...]:
    """The groups of the one match of `pattern` in the published figures (whitespace folded), as floats."""
    text = " ".join(SOURCE.read_text().split())
    found = re.findall(pattern, text)
    assert len(found) == 1, f"{SOURCE.name}: {pattern!r} matches {len(found)} times"
    groups = found[0] if isinstance(found[0], tuple) else (found[0],)
    return tuple(float(g.replace(",", "")) for g in groups)
