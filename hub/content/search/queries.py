"""One search over every kind of content, on SQLite FTS5 or PostgreSQL full-text search.

Reads ``search_document`` only: ``index.sync`` indexes what is listed, so drafts, hidden
and deleted items cannot be found; members-only documents match only for members of
their organisation. Costs stay bounded on a million documents: newest-first is the match
with ``ORDER BY sort_at DESC LIMIT``; relevance ranks only the newest ``MAX_CANDIDATES``
matches; pages stop at ``MAX_CANDIDATES``. Result URLs are resolved in batch, so a page
runs the same few queries whatever it shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import current_app, url_for
from markupsafe import Markup
from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    false,
    func,
    literal_column,
    or_,
    select,
    text,
    tuple_,
)

from hub.content.models import Comment, SearchDocument
from hub.content.search.text import ParsedQuery, fts5_match, highlight, parse_query, snippet
from hub.content.themes import theme_slug
from hub.content.visibility import member_org_ids
from hub.extensions import db
from hub.orgs.models import Organisation

KINDS = ("post", "resource", "discussion", "comment", "event", "organisation")
#: Where each kind's page is; the URL arguments are read from the rule (handle, id).
KIND_ENDPOINTS = {
    "post": "posts.post",
    "resource": "resources.resource",
    "discussion": "discussions.discussion",
    "event": "events.event",
    "organisation": "main.actor",
}
SORTS = ("newest", "relevance")
#: Languages offered by the filter (ISO 639-1); any other code typed in the URL works too.
LANGUAGES = ("fr", "en", "es", "de", "it", "pt", "ar", "nl")
PAGE_SIZE = 20
#: Relevance ranks the newest matches only, and no page goes past them.
MAX_CANDIDATES = 2000


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
    """Each word: itself as a prefix, or its French or English stem; all words ANDed.

    Words are ``\\w`` runs (``parse_query``), safe in to_tsquery; phrases go through
    phraseto_tsquery, which parses nothing, on the words as written.
    """
    parts = []
    for word in query.terms:
        parts.append(func.to_tsquery("simple", word + ":*")
                     .op("||")(func.plainto_tsquery("french", word))
                     .op("||")(func.plainto_tsquery("english", word)))
    for phrase in query.phrases:
        # Only the words as written carry positions (stems are stored stripped).
        parts.append(func.phraseto_tsquery("simple", " ".join(phrase)))
    combined = parts[0]
    for part in parts[1:]:
        combined = combined.op("&&")(part)
    return combined


def _match_clause(query: ParsedQuery) -> ColumnElement[bool]:
    if _dialect() == "postgresql":
        vector = literal_column("search_document.search_vector")
        return vector.op("@@")(_pg_tsquery(query))
    fts = select(literal_column("rowid")).select_from(text("search_document_fts")).where(
        text("search_document_fts MATCH :fts_match").bindparams(
            bindparam("fts_match", fts5_match(query))))
    return SearchDocument.id.in_(fts)


def _rank(query: ParsedQuery, ids: list[int]) -> dict[int, float]:
    """Relevance of some documents (higher is better), computed on those only."""
    if not ids:
        return {}
    if _dialect() == "postgresql":
        vector = literal_column("search_document.search_vector")
        rows = db.session.execute(
            select(SearchDocument.id, func.ts_rank(vector, _pg_tsquery(query)))
            .where(SearchDocument.id.in_(ids)))
        return {row[0]: float(row[1]) for row in rows}
    # bm25 is smaller for better matches; title hits weigh five times body hits.
    rows = db.session.execute(
        text("SELECT rowid, bm25(search_document_fts, 5.0, 1.0) FROM search_document_fts "
             "WHERE search_document_fts MATCH :m AND rowid IN :ids")
        .bindparams(bindparam("ids", expanding=True)),
        {"m": fts5_match(query), "ids": ids})
    return {row[0]: -float(row[1]) for row in rows}


# -- filters --------------------------------------------------------------------------------


def _visible(viewer: Any) -> ColumnElement[bool]:
    orgs = member_org_ids(viewer)
    members = (and_(SearchDocument.visibility == "members", SearchDocument.org_id.in_(orgs))
               if orgs else false())
    return or_(SearchDocument.visibility == "public", members)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _conditions(filters: SearchFilters, query: ParsedQuery, viewer: Any,
                org_id: int | None) -> list[ColumnElement[bool]]:
    conditions = [_match_clause(query), _visible(viewer)]
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
    if filters.date_from:
        conditions.append(SearchDocument.sort_at >= _day_start(filters.date_from))
    if filters.date_to:
        conditions.append(SearchDocument.sort_at < _day_start(filters.date_to + timedelta(1)))
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
    if offset >= MAX_CANDIDATES:
        return SearchResults(searched=True)
    conditions = _conditions(filters, query, viewer, org_id)
    newest = (SearchDocument.sort_at.desc(), SearchDocument.id.desc())
    if filters.sort == "relevance":
        candidates = list(db.session.scalars(
            select(SearchDocument.id).where(*conditions).order_by(*newest)
            .limit(MAX_CANDIDATES)))
        ranks = _rank(query, candidates)
        order = {doc_id: index for index, doc_id in enumerate(candidates)}
        ranked = sorted(candidates, key=lambda i: (-ranks.get(i, 0.0), order[i]))
        page_ids = ranked[offset:offset + PAGE_SIZE + 1]
        rows = _load(page_ids)
        rows.sort(key=lambda row: page_ids.index(row[0].id))
    else:
        limit = min(PAGE_SIZE + 1, MAX_CANDIDATES - offset)
        rows = list(db.session.execute(
            _with_org(select(SearchDocument)).where(*conditions).order_by(*newest)
            .offset(offset).limit(limit)).all())
    has_next = len(rows) > PAGE_SIZE and offset + PAGE_SIZE < MAX_CANDIDATES
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
        hits.append(SearchHit(
            kind=doc.kind, object_id=doc.object_id, title=highlight(doc.title, words),
            url=url, snippet=snippet(doc.body, words), date=doc.sort_at,
            org_name=org_name or "", org_url=org_url, context=context))
    return hits
