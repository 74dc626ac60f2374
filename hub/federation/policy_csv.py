"""Shared block lists: reading and writing domain policies in the CSV format Mastodon uses
(``domain_blocks.csv``), so associations can pass lists to each other and to Mastodon.

Mastodon's header is ``#domain,#severity,#reject_media,#reject_reports,#public_comment,
#obfuscate``; its severities map to ours: suspend → block, silence → limit, noop (with
reject_media) → reject_media. A plain list, one domain a line, is read as blocks. Our own
severity names (block, limit, reject_media, allow) are accepted too, for lists written by
hand; the export holds blocks only ("allow" has no Mastodon equivalent and an allow-list is
this instance's own choice, not something to share).

Pure: no Flask application, database or network (only Flask-Babel's gettext for messages).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _

from hub.errors import ValidationFailed

#: The largest file read (a few tens of thousands of lines).
MAX_BYTES = 1024 * 1024
MAX_ROWS = 20_000
MAX_REASON = 500
HEADER = ("#domain", "#severity", "#reject_media", "#reject_reports", "#public_comment",
          "#obfuscate")
#: Mastodon's severity → ours; our own names map to themselves.
SEVERITY_IN = {"suspend": "block", "silence": "limit", "noop": "reject_media",
               "block": "block", "limit": "limit", "reject_media": "reject_media",
               "allow": "allow"}
SEVERITY_OUT = {"block": "suspend", "limit": "silence", "reject_media": "noop"}
_TRUE = {"true", "1", "yes", "t"}
_FALSE = {"false", "0", "no", "f", ""}
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN_RE = re.compile(rf"^{_LABEL}(?:\.{_LABEL})+(?::\d{{1,5}})?$")
#: Characters that make a spreadsheet read a cell as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class PolicyRow:
    domain: str
    severity: str
    reject_media: bool = False
    public_reason: str = ""


@dataclass
class ParsedFile:
    rows: list[PolicyRow] = field(default_factory=list)
    #: (line number, message) for each row refused.
    errors: list[tuple[int, str]] = field(default_factory=list)


def clean_domain(text: str) -> str | None:
    """A domain name as policies store it, or None if ``text`` is not one. Mastodon's
    wildcard prefix ("*.example.org") is dropped (a policy covers subdomains anyway);
    internationalised names are stored in their ASCII form."""
    domain = (text or "").strip().lower().rstrip(".").removeprefix("*.")
    if not domain or len(domain) > 253:
        return None
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    return domain if _DOMAIN_RE.match(domain) else None


def _flag(value: str) -> bool | None:
    text = (value or "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def _decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise ValidationFailed(_("The file is larger than %(n)d MB.", n=MAX_BYTES // 2**20),
                               field="file")
    if not data.strip():
        raise ValidationFailed(_("The file is empty."), field="file")
    if b"\x00" in data:
        raise ValidationFailed(_("This is not a text file: give a CSV file or a list of "
                                 "domains, one a line."), field="file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed(_("The file is not UTF-8 text: give a CSV file or a list of "
                                 "domains, one a line."), field="file") from None
    if any(ord(c) < 32 and c not in "\t\r\n" for c in text):
        raise ValidationFailed(_("This is not a text file: give a CSV file or a list of "
                                 "domains, one a line."), field="file")
    return text


def _unescape(text: str) -> str:
    """Undo the quote ``to_csv`` puts before a cell a spreadsheet would run as a formula."""
    if text.startswith("'") and text[1:2] in _FORMULA_START and text[1:2]:
        return text[1:]
    return text


def parse_policy_file(data: bytes) -> ParsedFile:
    """Rows of a Mastodon CSV (header with or without "#") or of a plain list of domains.
    Raises ValidationFailed when the file as a whole cannot be read (binary, too large,
    empty, no header column named domain); bad rows are listed, never applied."""
    text = _decode(data)
    try:
        records = list(_records(text))
    except csv.Error as exc:
        raise ValidationFailed(_("The file is not valid CSV: %(error)s", error=str(exc)),
                               field="file") from None
    if not records:
        raise ValidationFailed(_("The file is empty."), field="file")
    first = [cell.strip().lower().lstrip("#").strip() for cell in records[0][1]]
    result = ParsedFile()
    if "domain" in first:
        columns = {name: index for index, name in enumerate(first) if name}
        records = records[1:]
    else:
        # No header: Mastodon's column order (a plain list has the first column only).
        columns = {name.lstrip("#"): index for index, name in enumerate(HEADER)}
    # Lines starting with "#" other than the header are comments (plain lists have them).
    body = [(line, cells) for line, cells in records
            if not cells[0].lstrip().startswith("#")]
    if body and len(body[0][1]) > 1 and not clean_domain(body[0][1][0]) \
            and "domain" not in first:
        raise ValidationFailed(_("The file has no column named domain: give Mastodon’s "
                                 "CSV or a list of domains, one a line."), field="file")
    if len(body) > MAX_ROWS:
        raise ValidationFailed(_("The file has more than %(n)d rows.", n=MAX_ROWS),
                               field="file")
    seen: dict[str, int] = {}
    for line, cells in body:
        row, error = _row(cells, columns)
        if error:
            result.errors.append((line, error))
        elif row is not None:
            if row.domain in seen:
                result.errors.append((line, _("%(domain)s is already on line %(line)d.",
                                              domain=row.domain, line=seen[row.domain])))
                continue
            seen[row.domain] = line
            result.rows.append(row)
    return result


def _records(text: str) -> Iterable[tuple[int, list[str]]]:
    """Non-empty CSV records with the line each starts on."""
    reader = csv.reader(io.StringIO(text, newline=""))
    line = 1
    for cells in reader:
        start, line = line, reader.line_num + 1
        if any(cell.strip() for cell in cells):
            yield start, cells


def _row(cells: list[str], columns: dict[str, int]) -> tuple[PolicyRow | None, str]:
    def cell(name: str) -> str:
        index = columns.get(name)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    raw = cell("domain")
    domain = clean_domain(raw)
    if domain is None:
        return None, _("“%(value)s” is not a domain name.", value=raw[:80])
    severity_text = cell("severity").lower() or "suspend"
    severity = SEVERITY_IN.get(severity_text)
    if severity is None:
        return None, _("Unknown severity “%(value)s” (use suspend, silence or noop).",
                       value=severity_text[:40])
    reject_media = _flag(cell("reject_media"))
    if reject_media is None:
        return None, _("reject_media must be true or false.")
    if severity_text == "noop" and not reject_media:
        return None, _("%(domain)s: noop without reject_media restricts nothing here.",
                       domain=domain)
    reason = _unescape(cell("public_comment"))
    if len(reason) > MAX_REASON:
        return None, _("The public comment is longer than %(n)d characters.", n=MAX_REASON)
    return PolicyRow(domain, severity, reject_media or severity == "reject_media", reason), ""


def _escape(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(policies: Iterable[Any]) -> str:
    """Mastodon's ``domain_blocks.csv`` for the policies that restrict ("allow" rows are
    left out). ``policies`` are rows with domain, severity, reject_media, public_reason;
    private notes are never written."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for policy in policies:
        severity = SEVERITY_OUT.get(policy.severity)
        if severity is None:
            continue
        writer.writerow((policy.domain, severity,
                         "true" if policy.reject_media or policy.severity == "reject_media"
                         else "false", "false", _escape(policy.public_reason or ""), "false"))
    return out.getvalue()
