"""The French interface is complete: every string in the code has a French translation."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
FR = ROOT / "hub" / "translations" / "fr" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def _catalog():
    with FR.open("rb") as fh:
        return read_po(fh)


def test_every_french_string_is_translated_with_the_same_placeholders():
    missing, mismatched = [], []
    for message in _catalog():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            missing.append(ids[0])
        elif sorted(PLACEHOLDER.findall(ids[0])) != sorted(PLACEHOLDER.findall(strings[0])):
            mismatched.append(ids[0])
    assert not missing, f"untranslated: {missing[:10]}"
    assert not mismatched, f"placeholders differ: {mismatched[:10]}"


def test_the_catalogue_knows_every_string_of_the_code(tmp_path):
    """Run `make messages` and translate when this fails."""
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract",
                    "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext", "-o", str(pot), "."],
                   cwd=ROOT, check=True, capture_output=True)
    with pot.open("rb") as fh:
        in_code = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}
    assert len(in_code) > 100  # the extraction really read the code
    known = {m.id if isinstance(m.id, str) else m.id[0] for m in _catalog() if m.id}
    assert not in_code - known, f"not in the French catalogue: {sorted(in_code - known)[:10]}"
