"""docs/configuration.md must list exactly the settings hub/config.py declares.

Only the first cell of table rows counts as "documented", so prose that merely
mentions a name (``HUB_CONFIG``, or one setting in another's description)
neither hides a missing row nor invents an extra one.
"""

from __future__ import annotations

import re
from pathlib import Path

from hub.config import SETTING_NAMES

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"

ROW_NAME = re.compile(r"^\|\s*`?(HUB_[A-Z0-9_]+)`?\s*\|")


def documented_names(text: str) -> list[str]:
    return [m.group(1) for line in text.splitlines() if (m := ROW_NAME.match(line.strip()))]


def test_configuration_doc_lists_every_setting_and_no_other():
    names = documented_names(DOC.read_text(encoding="utf-8"))
    missing = sorted(SETTING_NAMES - set(names))
    extra = sorted(set(names) - SETTING_NAMES)
    assert not missing and not extra, (
        f"docs/configuration.md is out of step with hub/config.py: missing {missing}, extra {extra}"
    )


def test_configuration_doc_lists_each_setting_once():
    names = documented_names(DOC.read_text(encoding="utf-8"))
    duplicates = sorted({n for n in names if names.count(n) > 1})
    assert not duplicates, f"documented more than once: {duplicates}"


def test_row_parser_reads_only_the_first_cell():
    text = "| `HUB_A` | x | see `HUB_B` |\nMention of HUB_C in prose.\n| HUB_D | 1 | y |\n"
    assert documented_names(text) == ["HUB_A", "HUB_D"]
