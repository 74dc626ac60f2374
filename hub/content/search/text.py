"""Search text handling: parsing what a visitor typed, and highlighting the snippet.

Pure: no Flask, no database. Matching ignores case and accents the way the index does
(``fold``); every piece of the text is escaped and only ``<mark>`` is added.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from markupsafe import Markup

#: Words kept from a query: more only slows the engine without narrowing much.
MAX_TERMS = 8
MAX_QUERY_CHARS = 200
SNIPPET_CHARS = 240

_WORD = re.compile(r"\w+")
_PHRASE = re.compile(r'"([^"]*)"')


@lru_cache(maxsize=8192)
def fold_char(char: str) -> str:
    """One character folded (cached: a page highlights thousands of characters)."""
    decomposed = unicodedata.normalize("NFKD", char)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


class _FoldTable(dict):
    """A ``str.translate`` table filled on demand: each character folded once per process,
    then a whole text folds in C instead of character by character in Python."""

    def __missing__(self, code: int) -> str:
        folded = self[code] = fold_char(chr(code))
        if len(folded) != 1:
            _UNEVEN.add(chr(code))
        return folded


_FOLD_TABLE = _FoldTable()
#: Characters that fold to none or several ("ﬁ", a combining accent), as met.
_UNEVEN: set[str] = set()


def fold(text: str) -> str:
    """Lower case without accents: the same folding as the index."""
    if text.isascii():
        return text.lower()
    return text.translate(_FOLD_TABLE)


@dataclass(frozen=True)
class ParsedQuery:
    """Folded words and "quoted phrases" (each a tuple of words); nothing else survives, so
    no FTS5 or tsquery syntax from the visitor reaches the engine."""

    terms: tuple[str, ...]
    phrases: tuple[tuple[str, ...], ...]

    @property
    def is_empty(self) -> bool:
        return not self.terms and not self.phrases

    @property
    def words(self) -> tuple[str, ...]:
        """Every word, for highlighting."""
        return self.terms + tuple(w for phrase in self.phrases for w in phrase)


def parse_query(q: str) -> ParsedQuery:
    """Words and quoted phrases from the search box; operators and punctuation dropped."""
    q = q[:MAX_QUERY_CHARS]
    phrases: list[tuple[str, ...]] = []
    for raw in _PHRASE.findall(q):
        words = tuple(_WORD.findall(fold(raw).replace("_", " ")))
        if len(words) > 1:
            phrases.append(words)
        elif words:
            q += " " + words[0]
    rest = _PHRASE.sub(" ", q)
    terms: list[str] = []
    for word in _WORD.findall(fold(rest).replace("_", " ")):
        if word not in terms:
            terms.append(word)
    budget = MAX_TERMS
    phrases = [p[:budget] for p in phrases][:budget]
    budget -= sum(len(p) for p in phrases)
    return ParsedQuery(tuple(terms[:max(budget, 0)]), tuple(phrases))


def stem_prefix(word: str) -> str:
    """A crude stem for French and English plurals: "associations" → "association"."""
    if len(word) > 4 and word[-1] in "sx":
        return word[:-1]
    return word


def word_forms(word: str) -> tuple[str, ...]:
    """The forms a query word matches: singular and plural, masculine and feminine
    ("partagé" finds "partagées"); stands in for stemming, which FTS5 lacks for French.

    Explicit forms rather than a prefix (``"projet"*``): FTS5 and GIN merge the matches of
    every word a prefix covers, which costs tens of milliseconds on a frequent word,
    whereas a few exact forms are looked up directly.
    """
    if len(word) < 3:
        return (word,)
    stem = stem_prefix(word)
    forms = [word, stem, stem + "s"]
    if stem.endswith("e"):
        forms += [stem + "e", stem + "es"]
    if stem.endswith("u"):
        forms.append(stem + "x")
    return tuple(dict.fromkeys(forms))


def fts5_match(query: ParsedQuery) -> str:
    """The FTS5 MATCH expression: each word any of its forms, each phrase quoted; all ANDed.

    Words are plain ``\\w`` runs, so quoting them is enough to make them literal.
    """
    parts = []
    for term in query.terms:
        forms = [f'"{form}"' for form in word_forms(term)]
        parts.append(forms[0] if len(forms) == 1 else "(" + " OR ".join(forms) + ")")
    parts += ['"' + " ".join(p) + '"' for p in query.phrases]
    return " AND ".join(parts)


#: Title words weigh this many body words in ``relevance``; BM25's usual k1 and b.
TITLE_WEIGHT = 5.0
_K1 = 1.2
_B = 0.75
#: A typical body, in characters, for the length normalisation.
_AVERAGE_CHARS = 600


def relevance(title_hits: int, body_hits: int, length: int) -> float:
    """BM25 without its IDF factor, from counts of matches (higher is better).

    Every candidate holds every word (the match ANDs them), so the IDF factor would only
    weigh words against each other, and computing it means counting all the matches of
    each word: SQLite's bm25() does that first, which takes tens of milliseconds for a
    word found in most documents. Title matches weigh ``TITLE_WEIGHT`` body matches;
    ``length`` (characters of title and body) normalizes as BM25 does.
    """
    hits = TITLE_WEIGHT * title_hits + body_hits
    norm = _K1 * (1 - _B + _B * length / _AVERAGE_CHARS)
    return hits * (_K1 + 1) / (hits + norm) if hits > 0 else 0.0


def _stems(words: tuple[str, ...]) -> set[str]:
    """What a highlighted word must start with: the query word less a possible ending."""
    return {word if len(word) <= 4 else word[:max(4, len(word) - 3)] for word in words}


@lru_cache(maxsize=256)
def _highlight_re(words: tuple[str, ...]) -> re.Pattern[str] | None:
    """Words of the folded text that match a query word: same start, as the engine's
    prefix and stem matching do ("ecologie" marks "écologiques")."""
    stems = _stems(words)
    if not stems:
        return None
    alternatives = "|".join(re.escape(s) for s in sorted(stems, key=len, reverse=True))
    return re.compile(rf"\b(?:{alternatives})\w*")


def _folded_with_positions(text: str) -> tuple[str, list[int] | None]:
    """The folded text and, for each of its characters, the index of the original one
    (None when they are the same: the common case, where each character folds to one)."""
    folded = fold(text)
    if _UNEVEN.isdisjoint(text):
        return folded, None
    out: list[str] = []
    positions: list[int] = []
    for index, char in enumerate(text):
        char_folded = fold_char(char)
        out.append(char_folded)
        positions.extend([index] * len(char_folded))
    return "".join(out), positions


#: Blocks whose characters ``_direct_re`` handles: Latin (Basic to Extended-B), general
#: punctuation (’ « » and the narrow no-break space of French typography), currencies.
_DIRECT_BLOCKS = ((0x0000, 0x024F), (0x2000, 0x206F), (0x20A0, 0x20CF))


@lru_cache(maxsize=1)
def _latin_tables() -> tuple[dict[str, str], re.Pattern[str]]:
    """For text in ``_DIRECT_BLOCKS``: each folded letter's class of the characters that
    fold to it ("e" → "[eEéÉèÈ…]"), and a pattern that finds what the classes cannot
    handle (characters of other blocks, and those that fold to none or several: "Ĳ",
    "¼", "…")."""
    groups: dict[str, list[str]] = {}
    uneven = []
    for first, last in _DIRECT_BLOCKS:
        for code in range(first, last + 1):
            char = chr(code)
            folded = fold_char(char)
            if len(folded) == 1:
                groups.setdefault(folded, []).append(char)
            else:
                uneven.append(char)
    classes = {letter: "[" + "".join(re.escape(c) for c in chars) + "]"
               for letter, chars in groups.items() if len(chars) > 1}
    # One negated class of the characters handled (a scan of a class is several times
    # faster than of an alternation).
    handled = []
    uneven_codes = {ord(c) for c in uneven}
    for first, last in _DIRECT_BLOCKS:
        start = None
        for code in range(first, last + 2):
            inside = code <= last and code not in uneven_codes
            if inside and start is None:
                start = code
            elif not inside and start is not None:
                handled.append(f"\\U{start:08x}-\\U{code - 1:08x}")
                start = None
    unhandled = re.compile(f"[^{''.join(handled)}]")
    return classes, unhandled


@lru_cache(maxsize=256)
def _direct_re(words: tuple[str, ...]) -> re.Pattern[str] | None:
    """``_highlight_re`` for unfolded Latin text: each letter matches every character that
    folds to it, so the text is searched as it is (folding it costs more than the search)."""
    classes, _uneven = _latin_tables()
    stems = _stems(words)
    if not stems:
        return None
    alternatives = "|".join("".join(classes.get(c, re.escape(c)) for c in stem)
                            for stem in sorted(stems, key=len, reverse=True))
    # No \b in front: it makes the engine try every position (three times slower);
    # ``_direct_spans`` checks where each match starts.
    return re.compile(rf"(?:{alternatives})\w*")


def _direct_spans(text: str, words: tuple[str, ...]) -> list[tuple[int, int]]:
    """The matches of ``_direct_re`` that start a word."""
    pattern = _direct_re(words)
    if pattern is None:
        return []
    spans = []
    for match in pattern.finditer(text):
        start = match.start()
        if start:
            before = text[start - 1]
            if before.isalnum() or before == "_":
                continue
        spans.append(match.span())
    return spans


def _direct(text: str) -> bool:
    """Whether ``_direct_re`` finds every match in ``text``."""
    return not _latin_tables()[1].search(text)


def _spans(text: str, words: tuple[str, ...]) -> list[tuple[int, int]]:
    """Where the query's words are in ``text`` (in its characters)."""
    if not text:
        return []
    if _direct(text):
        return _direct_spans(text, words)
    pattern = _highlight_re(words)
    if pattern is None:
        return []
    folded, positions = _folded_with_positions(text)
    spans = []
    for match in pattern.finditer(folded):
        if match.end() <= match.start():
            continue
        if positions is None:
            start, end = match.span()
        else:
            start = positions[match.start()]
            end = positions[match.end() - 1] + 1
        spans.append((start, end))
    return spans


def count_matches(text: str, words: tuple[str, ...]) -> int:
    """How many words of ``text`` a query word matches, as highlighting finds them."""
    return len(_spans(text, words))


_SPECIAL = re.compile(r"[&<>\"']")


def _escape(text: str) -> str:
    """HTML-escaped as ``markupsafe.escape`` does, as a plain string (no Markup object per
    piece: a results page marks hundreds of pieces, most with nothing to escape)."""
    if _SPECIAL.search(text) is None:
        return text
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&#34;").replace("'", "&#39;"))


def _marked(text: str, spans: list[tuple[int, int]], offset: int = 0) -> str:
    """``text`` escaped, with ``<mark>`` around the spans, as one plain string."""
    parts: list[str] = []
    cursor = 0
    for start, end in spans:
        start, end = start - offset, end - offset
        if start < cursor or end > len(text) or start < 0:
            continue
        parts += (_escape(text[cursor:start]), "<mark>", _escape(text[start:end]), "</mark>")
        cursor = end
    parts.append(_escape(text[cursor:]))
    return "".join(parts)


def highlight(text: str, words: tuple[str, ...]) -> Markup:
    """The whole text escaped, with the words that match wrapped in ``<mark>``."""
    return Markup(_marked(text, _spans(text, words)))  # noqa: S704 - escaped in _marked


def snippet(body: str, words: tuple[str, ...], size: int = SNIPPET_CHARS) -> Markup:
    """About ``size`` characters of ``body`` around the first match, highlighted.

    Cut on spaces, with "…" where text was left out; the start of the body when nothing
    matches (the match was in the title).
    """
    body = " ".join(body[:50_000].split())
    if not body:
        return Markup("")
    spans = _spans(body, words)
    first = spans[0][0] if spans else 0
    start = max(0, first - size // 3)
    if start > 0:
        space = body.find(" ", start)
        start = space + 1 if 0 <= space < first else start
    end = min(len(body), start + size)
    if end < len(body):
        space = body.rfind(" ", start, end)
        end = space if space > first else end
    inside = [(s, e) for s, e in spans if s >= start and e <= end]
    marked = _marked(body[start:end], inside, offset=start)
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(body) else ""
    return Markup(prefix + marked + suffix)  # noqa: S704 - escaped in _marked
