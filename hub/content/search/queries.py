"""One search over every kind of content, on SQLite FTS5 or PostgreSQL full-text search.

Reads ``search_document`` only: ``index.sync`` indexes what is listed, so drafts, hidden
and deleted items cannot be found; members-only documents match only for members of
their organisation. Result URLs are resolved in batch, so a page runs the same few
queries whatever it shows.

Costs stay bounded on a million documents, for the rarest word and for a word found in
most documents, because every search works on a bounded *candidate set*: the newest
matches by date, at most ``MAX_CANDIDATES`` (``RANKED_CANDIDATES`` for relevance, which
ranks those only); no page goes past them. How each engine finds the newest matches
without reading them all:

- SQLite: the FTS5 rowid is the document's date then id (``fts_key``, see migration
  0004), and FTS5 reads a word's matches in rowid order, stopping at the limit: a page
  of newest-first reads about a page of the index. Exact to the second (documents dated
  within the same second as the last of the page come in id order).
- PostgreSQL: a GIN index gives matches in no order, so candidates are the matches among
  the ``RECENT_WINDOW`` newest documents by date, or every match through the GIN index
  when those hold less than the page asked for (see ``_pg_candidates``). Newest-first is
  exact; relevance ranks the recent matches only when there are enough of them.

Relevance is BM25 without its IDF factor (``text.relevance``) on SQLite, ``ts_rank`` on
PostgreSQL; between equal scores, newest first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import current_app, url_for
from markupsafe import Markup
from sqlalchemy import (
    ColumnElement,
    Integer,
    Join,
    String,
    and_,
    bindparam,
    column,
    false,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
    tuple_,
    type_coerce,
    union_all,
)
from sqlalchemy.ext.compiler import compiles

from hub.content.models import Comment, SearchDocument
from hub.content.search.text import (
    ParsedQuery,
    fts5_match,
    highlight,
    parse_query,
    relevance,
    snippet,
    word_forms,
)
from hub.content.themes import theme_slug
from hub.content.visibility import member_org_ids
from hub.extensions import db
from hub.orgs.models import Organisation

KINDS = ("post", "resource", "discussion", "comment", "event", "organisation", "remote")
#: Where each kind's page is; the URL arguments are read from the rule (handle, id).
KIND_ENDPOINTS = {
    "post": "posts.post",
    "resource": "resources.resource",
    "discussion": "discussions.discussion",
    "event": "events.event",
    "organisation": "main.actor",
    "remote": "network.item",
}
SORTS = ("newest", "relevance")
#: Languages offered by the filter (ISO 639-1); any other code typed in the URL works too.
LANGUAGES = ("fr", "en", "es", "de", "it", "pt", "ar", "nl")
PAGE_SIZE = 20
#: The bounded candidate set: no page of newest-first goes past these newest matches
#: (50 pages)...
MAX_CANDIDATES = 1000
#: ... and relevance ranks this many newest matches only (25 pages): ranking costs per
#: candidate (about 10 µs on SQLite, where it counts the matches in each text).
RANKED_CANDIDATES = 500
#: PostgreSQL looks for matches among this many newest documents before using the GIN
#: index (see ``_pg_candidates``).
RECENT_WINDOW = 2000


@dataclass(frozen=True)
class SearchFilters:
    q: str = ""
    kinds: tuple[str, ...] = ()
    theme: str = ""
    org_handle: str = ""
    language: str = ""
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "newest"
    page: int = 1


@dataclass(frozen=True)
class SearchHit:
    kind: str
    object_id: int
    title: Markup
    url: str | None
    snippet: Markup
    date: datetime
    org_name: str
    org_url: str | None
    #: For comments: the title of what they are under.
    context: str = ""


@dataclass
class SearchResults:
    hits: list[SearchHit] = field(default_factory=list)
    has_next: bool = False
    #: False when the query has no word to look for (nothing was searched).
    searched: bool = False
    #: The filter named an organisation that does not exist.
    unknown_org: bool = False


# -- the match, per engine ------------------------------------------------------------------


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _pg_tsquery(query: ParsedQuery) -> Any:
    """Each word: its singular and plural forms, or its French or English stem; all words
    ANDed.

    Words are ``\\w`` runs (``parse_query``), safe in to_tsquery; phrases go through
    phraseto_tsquery, which parses nothing, on the words as written. No prefix (``:*``):
    a prefix merges every word that starts alike, which costs on frequent words.
    """
    fold = func.hub_search_fold  # as the index folds: unaccent also turns "œ" into "oe"
    parts = []
    for word in query.terms:
        forms = " | ".join(word_forms(word))
        parts.append(func.to_tsquery("simple", fold(forms))
                     .op("||")(func.plainto_tsquery("french", fold(word)))
                     .op("||")(func.plainto_tsquery("english", fold(word))))
    for phrase in query.phrases:
        # Only the words as written carry positions (stems are stored stripped).
        parts.append(func.phraseto_tsquery("simple", fold(" ".join(phrase))))
    combined = parts[0]
    for part in parts[1:]:
        combined = combined.op("&&")(part)
    return combined


_FTS = table("search_document_fts", column("rowid"))
_FTS_COLUMN = literal_column("search_document_fts")
_MARK = literal_column("char(1)")
#: The generated column the FTS5 rowid is (SQLite only; not in the model).
_FTS_KEY = column("fts_key", Integer, _selectable=SearchDocument.__table__)
_NEWEST = (SearchDocument.sort_at.desc(), SearchDocument.id.desc())


#: A date filter as instants (from, until), either None.
_Dates = tuple[datetime | None, datetime | None]


@dataclass(frozen=True)
class _Candidate:
    id: int
    #: Only compared with other candidates' (text on SQLite, a datetime on PostgreSQL).
    sort_at: Any
    score: float


def _fts_key_of(moment: datetime) -> int:
    """The smallest ``fts_key`` of a document dated ``moment`` or later (to the second)."""
    return math.floor(moment.timestamp()) * 1_000_000_000


def _sqlite_candidates(query: ParsedQuery, conditions: list[ColumnElement[bool]],
                       limit: int, ranked: bool, dates: _Dates) -> list[_Candidate]:
    """The ``limit`` newest matches, in one pass over the FTS5 doclist.

    FTS5 walks a word's doclist in rowid order (``fts_key``: date, then id) and stops at
    the limit, so a word found in most documents costs no more than a rare one.
    Relevance is computed from counts of matches in each candidate (``text.relevance``):
    bm25() would first count every match of every word in the whole index. The join is
    forced (CROSS JOIN) to start from the full-text index: started from
    ``search_document`` (an organisation filter, say), SQLite would run the MATCH again
    for every row.
    """
    if ranked:
        # highlight() wraps each match in one \x01; the length it adds counts the matches,
        # found by the index's own tokenizer, without sending the text here.
        title_hits = (func.length(func.highlight(_FTS_COLUMN, 0, _MARK, ""))
                      - func.length(SearchDocument.title))
        body_hits = (func.length(func.highlight(_FTS_COLUMN, 1, _MARK, ""))
                     - func.length(SearchDocument.body))
        length = func.length(SearchDocument.title) + func.length(SearchDocument.body)
        counts = (title_hits, body_hits, length)
    else:
        counts = (literal_column("0"), literal_column("0"), literal_column("0"))
    # sort_at as stored (ISO text, which sorts as the dates do): parsing a thousand
    # datetimes would cost more than the query.
    sort_at = type_coerce(SearchDocument.sort_at, String)
    # Dates bound the rowid too: FTS5 then seeks to them instead of reading past every
    # newer match (the filter on sort_at stays, the key being to the second only).
    bounds = []
    if dates[0] is not None:
        bounds.append(_FTS.c.rowid >= _fts_key_of(dates[0]))
    if dates[1] is not None:
        bounds.append(_FTS.c.rowid < _fts_key_of(dates[1]) + 1_000_000_000)
    rows = db.session.execute(
        select(SearchDocument.id, sort_at, *counts)
        .select_from(_CrossJoin(_FTS, SearchDocument.__table__, _FTS.c.rowid == _FTS_KEY))
        .where(text("search_document_fts MATCH :fts_match").bindparams(
            bindparam("fts_match", fts5_match(query))), *bounds, *conditions)
        .order_by(_FTS.c.rowid.desc()).limit(limit))
    return [_Candidate(row[0], row[1], relevance(row[2], row[3], row[4]) if ranked else 0.0)
            for row in rows]


class _CrossJoin(Join):
    """An inner join that SQLite must run left table first (its CROSS JOIN rule)."""

    inherit_cache = True


@compiles(_CrossJoin, "sqlite")
def _compile_cross_join(element: _CrossJoin, compiler: Any, **kw: Any) -> str:
    kw["asfrom"] = True
    return (f"{compiler.process(element.left, **kw)} CROSS JOIN "
            f"{compiler.process(element.right, **kw)} ON "
            f"{compiler.process(element.onclause, **kw)}")


def _pg_candidates(query: ParsedQuery, conditions: list[ColumnElement[bool]],
                   limit: int, enough: int, ranked: bool) -> list[_Candidate]:
    """The newest ``limit`` matches (by ``sort_at``), bounded whatever the word.

    A GIN index gives matches in no order, and the planner, left alone, walks
    ``ix_search_document_sort`` backwards checking each row: instant for a frequent word,
    seconds for a rare one. So, in one statement: first the matches among the newest
    ``RECENT_WINDOW`` documents (a bounded walk of the sort index, stopped at ``limit``);
    only when those are fewer than ``enough`` (a one-time filter: otherwise never run),
    every match through the GIN index, materialized, then sorted. The second part runs
    for words rare among recent documents, so usually rare: its cost grows with the
    matches of a word that was common long ago and not since.
    """
    vector = literal_column("search_document.search_vector")
    tsquery = _pg_tsquery(query)
    window = (select(SearchDocument.id, SearchDocument.sort_at, vector.label("v"))
              .where(*conditions).order_by(*_NEWEST)
              .limit(max(RECENT_WINDOW, limit)).subquery("window"))
    recent_score = func.ts_rank(window.c.v, tsquery) if ranked else literal_column("0.0")
    recent = (select(window.c.id, window.c.sort_at, recent_score.label("score"))
              .where(window.c.v.op("@@")(tsquery))
              .order_by(window.c.sort_at.desc(), window.c.id.desc()).limit(limit)
              .cte("recent").prefix_with("MATERIALIZED"))
    score = func.ts_rank(vector, tsquery) if ranked else literal_column("0.0")
    too_few = select(func.count()).select_from(recent).scalar_subquery() < enough
    older = (select(SearchDocument.id, SearchDocument.sort_at, score.label("score"))
             .where(vector.op("@@")(tsquery), *conditions, too_few)
             .cte("older").prefix_with("MATERIALIZED"))
    rows = db.session.execute(union_all(
        select(recent.c.id, recent.c.sort_at, recent.c.score),
        select(older.c.id, older.c.sort_at, older.c.score)
        .order_by(older.c.sort_at.desc(), older.c.id.desc()).limit(limit)))
    candidates = {row[0]: _Candidate(row[0], row[1], float(row[2])) for row in rows}
    return sorted(candidates.values(), key=lambda c: (c.sort_at, c.id), reverse=True)[:limit]


def _candidates(query: ParsedQuery, conditions: list[ColumnElement[bool]], limit: int,
                enough: int, ranked: bool, dates: _Dates = (None, None)) -> list[_Candidate]:
    if _dialect() == "postgresql":
        return _pg_candidates(query, conditions, limit, enough, ranked)
    return _sqlite_candidates(query, conditions, limit, ranked, dates)


def _dates(filters: SearchFilters) -> _Dates:
    """The filter's dates as instants: from the start of the first day to the start of
    the day after the last (exclusive)."""
    return (_day_start(filters.date_from) if filters.date_from else None,
            _day_start(filters.date_to + timedelta(1)) if filters.date_to else None)


# -- filters --------------------------------------------------------------------------------


def _visible(viewer: Any) -> ColumnElement[bool]:
    orgs = member_org_ids(viewer)
    members = (and_(SearchDocument.visibility == "members", SearchDocument.org_id.in_(orgs))
               if orgs else false())
    return or_(SearchDocument.visibility == "public", members)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _conditions(filters: SearchFilters, viewer: Any,
                org_id: int | None) -> list[ColumnElement[bool]]:
    """Everything but the match itself (each engine places that where it is cheapest)."""
    conditions = [_visible(viewer)]
    kinds = [k for k in filters.kinds if k in KINDS]
    if kinds:
        conditions.append(SearchDocument.kind.in_(kinds))
    if org_id is not None:
        conditions.append(SearchDocument.org_id == org_id)
    if filters.language:
        conditions.append(SearchDocument.language == filters.language)
    slug = theme_slug(filters.theme) if filters.theme else ""
    if slug:
        padded = literal_column("' '") + SearchDocument.themes + literal_column("' '")
        conditions.append(padded.like(f"% {slug} %"))
    since, until = _dates(filters)
    if since is not None:
        conditions.append(SearchDocument.sort_at >= since)
    if until is not None:
        conditions.append(SearchDocument.sort_at < until)
    return conditions


# -- the search -----------------------------------------------------------------------------


def search(filters: SearchFilters, viewer: Any) -> SearchResults:
    """A page of results the viewer may see, newest first or by relevance."""
    query = parse_query(filters.q)
    if query.is_empty:
        return SearchResults()
    org_id = None
    if filters.org_handle:
        org_id = db.session.scalar(select(Organisation.id).where(
            Organisation.handle_key == filters.org_handle.strip().lower()))
        if org_id is None:
            return SearchResults(searched=True, unknown_org=True)
    page = max(1, filters.page)
    offset = (page - 1) * PAGE_SIZE
    bound = RANKED_CANDIDATES if filters.sort == "relevance" else MAX_CANDIDATES
    if offset >= bound:
        return SearchResults(searched=True)
    conditions = _conditions(filters, viewer, org_id)
    wanted = offset + PAGE_SIZE + 1
    if filters.sort == "relevance":
        candidates = _candidates(query, conditions, RANKED_CANDIDATES, wanted, ranked=True,
                                 dates=_dates(filters))
    else:
        # A page's worth more on SQLite, whose index orders dates to the second only.
        limit = wanted if _dialect() == "postgresql" else wanted + PAGE_SIZE
        candidates = _candidates(query, conditions, min(limit, MAX_CANDIDATES), wanted,
                                 ranked=False, dates=_dates(filters))
    candidates.sort(key=lambda c: (c.sort_at, c.id), reverse=True)
    if filters.sort == "relevance":
        candidates.sort(key=lambda c: -c.score)  # stable: newest first among equals
    page_ids = [c.id for c in candidates[offset:offset + PAGE_SIZE + 1]]
    rows = _load(page_ids)
    rows.sort(key=lambda row: page_ids.index(row[0].id))
    has_next = len(rows) > PAGE_SIZE and offset + PAGE_SIZE < bound
    return SearchResults(hits=_hits(rows[:PAGE_SIZE], query), has_next=has_next,
                         searched=True)


def _with_org(statement: Any) -> Any:
    return statement.add_columns(Organisation.handle, Organisation.name).outerjoin(
        Organisation, Organisation.id == SearchDocument.org_id)


def _load(ids: list[int]) -> list[tuple[SearchDocument, str | None, str | None]]:
    if not ids:
        return []
    return list(db.session.execute(
        _with_org(select(SearchDocument)).where(SearchDocument.id.in_(ids))).all())


# -- URLs, in batch --------------------------------------------------------------------------


class ItemUrls:
    """Builds item URLs from each endpoint's rule, so it works whatever the argument is
    called (``post_id``, ``id``…) and gives None while an endpoint does not exist yet."""

    def __init__(self) -> None:
        self._arguments: dict[str, tuple[str, ...] | None] = {}

    def _rule_arguments(self, endpoint: str) -> tuple[str, ...] | None:
        if endpoint not in self._arguments:
            rules = list(current_app.url_map.iter_rules(endpoint)) \
                if endpoint in current_app.view_functions else []
            self._arguments[endpoint] = tuple(sorted(rules[0].arguments)) if rules else None
        return self._arguments[endpoint]

    def item(self, kind: str, object_id: int, handle: str | None) -> str | None:
        endpoint = KIND_ENDPOINTS.get(kind)
        if endpoint is None:
            return None
        arguments = self._rule_arguments(endpoint)
        if arguments is None:
            return None
        values: dict[str, Any] = {}
        for name in arguments:
            if name == "handle":
                if not handle:
                    return None
                values[name] = handle
            else:
                values[name] = object_id
        return url_for(endpoint, **values)


def _hits(rows: list[tuple[SearchDocument, str | None, str | None]],
          query: ParsedQuery) -> list[SearchHit]:
    urls = ItemUrls()
    words = query.words
    comment_ids = [doc.object_id for doc, _h, _n in rows if doc.kind == "comment"]
    targets: dict[int, tuple[str, int]] = {}
    target_titles: dict[tuple[str, int], str] = {}
    if comment_ids:
        targets = {row.id: (row.target_type, row.target_id) for row in db.session.execute(
            select(Comment.id, Comment.target_type, Comment.target_id)
            .where(Comment.id.in_(comment_ids)))}
        if targets:
            target_titles = {(row.kind, row.object_id): row.title for row in db.session.execute(
                select(SearchDocument.kind, SearchDocument.object_id, SearchDocument.title)
                .where(tuple_(SearchDocument.kind, SearchDocument.object_id)
                       .in_(list(set(targets.values())))))}
    origins = _remote_origins([doc.object_id for doc, _h, _n in rows if doc.kind == "remote"])
    hits = []
    for doc, handle, org_name in rows:
        context = ""
        if doc.kind == "comment":
            target = targets.get(doc.object_id)
            url = None
            if target is not None:
                base = urls.item(target[0], target[1], handle)
                url = f"{base}#comment-{doc.object_id}" if base else None
                context = target_titles.get(target, "")
        else:
            url = urls.item(doc.kind, doc.object_id, handle)
        org_url = urls.item("organisation", doc.org_id, handle) if handle else None
        if doc.kind == "remote" and doc.object_id in origins:
            org_name, org_url = origins[doc.object_id]
        hits.append(SearchHit(
            kind=doc.kind, object_id=doc.object_id, title=highlight(doc.title, words),
            url=url, snippet=snippet(doc.body, words), date=doc.sort_at,
            org_name=org_name or "", org_url=org_url, context=context))
    return hits


def _remote_origins(object_ids: list[int]) -> dict[int, tuple[str, str]]:
    """Who published each object received from the network, and where (one query)."""
    if not object_ids:
        return {}
    from hub.federation.models import RemoteActor, RemoteObject
    from hub.federation.remote_content import origin_label

    rows = db.session.execute(select(RemoteObject.id, RemoteActor).join(
        RemoteActor, RemoteActor.id == RemoteObject.actor_id).where(
        RemoteObject.id.in_(object_ids)))
    return {row_id: (origin_label(actor), actor.url or actor.uri) for row_id, actor in rows}
