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

import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

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
    type_coerce,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from werkzeug.routing import BuildError

from hub.content.models import Comment, SearchDocument
from hub.content.search.text import (
    ParsedQuery,
    count_matches,
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
#: ... and relevance ranks this many newest matches only (15 pages): ranking costs per
#: candidate (about 6 µs on SQLite, where it counts the matches in each body), which
#: makes it the bulk of a search for a word found in most documents.
RANKED_CANDIDATES = 300
#: PostgreSQL looks for matches among this many newest documents before using the GIN
#: index (see ``_pg_candidates``): a word in more than about 2 % of recent documents is
#: served from them; checking them costs about 1 µs each, which a rare word pays in full.
RECENT_WINDOW = 1000


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


def _pg_tsquery(terms: int, phrases: int) -> Any:
    """Each word: its singular and plural forms, or its French or English stem; all words
    ANDed. Values are bound (``_pg_tsquery_values``): the expression depends only on how
    many words and phrases there are.

    Words are ``\\w`` runs (``parse_query``), safe in to_tsquery; phrases go through
    phraseto_tsquery, which parses nothing, on the words as written. No prefix (``:*``):
    a prefix merges every word that starts alike, which costs on frequent words.
    """
    fold = func.hub_search_fold  # as the index folds: unaccent also turns "œ" into "oe"
    parts = []
    for index in range(terms):
        word = bindparam(f"word_{index}", type_=String)
        parts.append(func.to_tsquery("simple", fold(bindparam(f"forms_{index}", type_=String)))
                     .op("||")(func.plainto_tsquery("french", fold(word)))
                     .op("||")(func.plainto_tsquery("english", fold(word))))
    for index in range(phrases):
        # Only the words as written carry positions (stems are stored stripped).
        parts.append(func.phraseto_tsquery(
            "simple", fold(bindparam(f"phrase_{index}", type_=String))))
    combined = parts[0]
    for part in parts[1:]:
        combined = combined.op("&&")(part)
    return combined


def _pg_tsquery_values(query: ParsedQuery) -> dict[str, str]:
    values = {}
    for index, word in enumerate(query.terms):
        values[f"forms_{index}"] = " | ".join(word_forms(word))
        values[f"word_{index}"] = word
    for index, phrase in enumerate(query.phrases):
        values[f"phrase_{index}"] = " ".join(phrase)
    return values


_FTS = table("search_document_fts", column("rowid"))
_FTS_COLUMN = literal_column("search_document_fts")
_MARK = literal_column("char(1)")
#: The generated column the FTS5 rowid is (SQLite only; not in the model).
_FTS_KEY = column("fts_key", Integer, _selectable=SearchDocument.__table__)
_NEWEST = (SearchDocument.sort_at.desc(), SearchDocument.id.desc())


@dataclass(frozen=True)
class _Shape:
    """Which filters a search uses. Statements are built once per shape with every value
    bound: building one costs several times what SQLite takes to run it."""

    members: bool = False
    kinds: bool = False
    org: bool = False
    language: bool = False
    theme: bool = False
    since: bool = False
    until: bool = False


@dataclass(frozen=True)
class _Candidate:
    id: int
    #: Only compared with other candidates' (text on SQLite, a datetime on PostgreSQL).
    sort_at: Any
    score: float


def _fts_key_of(moment: datetime) -> int:
    """The smallest ``fts_key`` of a document dated ``moment`` or later (to the second)."""
    return math.floor(moment.timestamp()) * 1_000_000_000


@lru_cache(maxsize=256)
def _sqlite_statement(shape: _Shape, ranked: bool) -> Any:
    """See ``_sqlite_candidates``; bound: ``fts_match``, ``limit``, the filters' values."""
    if ranked:
        # highlight() wraps each match in one \x01; the length it adds counts the matches,
        # found by the index's own tokenizer, without sending the text here. Titles are
        # short: counting there (``count_matches``) costs less than a highlight() call.
        body_hits = (func.length(func.highlight(_FTS_COLUMN, 1, _MARK, ""))
                     - func.length(SearchDocument.body))
        length = func.length(SearchDocument.title) + func.length(SearchDocument.body)
        counts = (SearchDocument.title, body_hits, length)
    else:
        counts = (literal_column("''"), literal_column("0"), literal_column("0"))
    # sort_at as stored (ISO text, which sorts as the dates do): parsing a thousand
    # datetimes would cost more than the query.
    sort_at = type_coerce(SearchDocument.sort_at, String)
    # Dates bound the rowid too: FTS5 then seeks to them instead of reading past every
    # newer match (the filter on sort_at stays, the key being to the second only).
    bounds = []
    if shape.since:
        bounds.append(_FTS.c.rowid >= bindparam("low_key", type_=Integer))
    if shape.until:
        bounds.append(_FTS.c.rowid < bindparam("high_key", type_=Integer))
    return (select(SearchDocument.id, sort_at, *counts)
            .select_from(_CrossJoin(_FTS, SearchDocument.__table__, _FTS.c.rowid == _FTS_KEY))
            .where(text("search_document_fts MATCH :fts_match"), *bounds,
                   *_conditions(shape))
            .order_by(_FTS.c.rowid.desc()).limit(bindparam("limit", type_=Integer)))


def _sqlite_candidates(query: ParsedQuery, shape: _Shape, values: dict[str, Any],
                       limit: int, ranked: bool) -> list[_Candidate]:
    """The ``limit`` newest matches, in one pass over the FTS5 doclist.

    FTS5 walks a word's doclist in rowid order (``fts_key``: date, then id) and stops at
    the limit, so a word found in most documents costs no more than a rare one.
    Relevance is computed from counts of matches in each candidate (``text.relevance``):
    bm25() would first count every match of every word in the whole index. The join is
    forced (CROSS JOIN) to start from the full-text index: started from
    ``search_document`` (an organisation filter, say), SQLite would run the MATCH again
    for every row.
    """
    values = dict(values, fts_match=fts5_match(query), limit=limit)
    if shape.since:
        values["low_key"] = _fts_key_of(values["since"])
    if shape.until:
        values["high_key"] = _fts_key_of(values["until"]) + 1_000_000_000
    rows = _sqlite_rows(_sqlite_statement(shape, ranked), values)
    if not ranked:
        return [_Candidate(row[0], row[1], 0.0) for row in rows]
    words = query.words
    return [_Candidate(row[0], row[1], relevance(count_matches(row[2], words), row[3], row[4]))
            for row in rows]


#: Per statement: its SQL and parameter names, or None when a value needs SQLAlchemy
#: (an expanding IN, a date to convert).
_PLAIN_SQL: dict[Any, tuple[str, tuple[tuple[str, Any], ...]] | None] = {}


def _sqlite_rows(statement: Any, values: dict[str, Any]) -> list[Any]:
    """Rows of a statement of a search, straight from the SQLite driver when its values
    need no conversion: SQLAlchemy's execution cost three times SQLite's own for the
    candidates of a page."""
    connection = db.session.connection()
    plain = _PLAIN_SQL.get(statement, False)
    if plain is False:
        plain = _PLAIN_SQL[statement] = _plain_sql(statement, connection.dialect)
    if plain is None:
        return list(connection.execute(statement, values))
    sql, binds = plain
    parameters = [values.get(name, value) for name, value in binds]
    return connection.connection.driver_connection.execute(sql, parameters).fetchall()


def _plain_sql(statement: Any, dialect: Any) -> tuple[str, tuple[tuple[str, Any], ...]] | None:
    """The SQL, and each parameter's name with the value the statement itself gives it
    (the literals it was built with)."""
    compiled = statement.compile(dialect=dialect)
    for bind in compiled.binds.values():
        if bind.expanding or bind.type.bind_processor(dialect) is not None:
            return None
    return compiled.string, tuple((name, compiled.binds[name].effective_value)
                                  for name in compiled.positiontup or ())


class _CrossJoin(Join):
    """An inner join that SQLite must run left table first (its CROSS JOIN rule)."""

    inherit_cache = True


@compiles(_CrossJoin, "sqlite")
def _compile_cross_join(element: _CrossJoin, compiler: Any, **kw: Any) -> str:
    kw["asfrom"] = True
    return (f"{compiler.process(element.left, **kw)} CROSS JOIN "
            f"{compiler.process(element.right, **kw)} ON "
            f"{compiler.process(element.onclause, **kw)}")


@lru_cache(maxsize=256)
def _pg_statement(shape: _Shape, ranked: bool, terms: int, phrases: int) -> Any:
    """See ``_pg_candidates``; bound: ``limit``, ``window``, ``enough``, the words
    (``_pg_tsquery_values``) and the filters' values."""
    vector = literal_column("search_document.search_vector")
    tsquery = _pg_tsquery(terms, phrases)
    conditions = _conditions(shape)
    limit = bindparam("limit", type_=Integer)
    window = (select(SearchDocument.id, SearchDocument.sort_at, vector.label("v"))
              .where(*conditions).order_by(*_NEWEST)
              .limit(bindparam("window", type_=Integer)).subquery("window"))
    recent_score = func.ts_rank(window.c.v, tsquery) if ranked else literal_column("0.0")
    recent = (select(window.c.id, window.c.sort_at, recent_score.label("score"))
              .where(window.c.v.op("@@")(tsquery))
              .order_by(window.c.sort_at.desc(), window.c.id.desc()).limit(limit)
              .cte("recent").prefix_with("MATERIALIZED"))
    score = func.ts_rank(vector, tsquery) if ranked else literal_column("0.0")
    too_few = (select(func.count()).select_from(recent).scalar_subquery()
               < bindparam("enough", type_=Integer))
    older = (select(SearchDocument.id, SearchDocument.sort_at, score.label("score"))
             .where(vector.op("@@")(tsquery), *conditions, too_few)
             .cte("older").prefix_with("MATERIALIZED"))
    return union_all(
        select(recent.c.id, recent.c.sort_at, recent.c.score),
        select(older.c.id, older.c.sort_at, older.c.score)
        .order_by(older.c.sort_at.desc(), older.c.id.desc()).limit(limit))


def _pg_candidates(query: ParsedQuery, shape: _Shape, values: dict[str, Any],
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
    statement = _pg_statement(shape, ranked, len(query.terms), len(query.phrases))
    connection = db.session.connection()
    # psycopg prepares a statement run five times, and PostgreSQL may then keep one generic
    # plan for every word; for a rare word that plan read the whole table (3 ms → 12 ms on
    # 200,000 documents). Each search is planned for its own words (this transaction only).
    connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
    rows = connection.execute(statement, dict(
        values, **_pg_tsquery_values(query), limit=limit,
        window=max(RECENT_WINDOW, limit), enough=enough))
    candidates = {row[0]: _Candidate(row[0], row[1], float(row[2])) for row in rows}
    return sorted(candidates.values(), key=lambda c: (c.sort_at, c.id), reverse=True)[:limit]


def _candidates(query: ParsedQuery, shape: _Shape, values: dict[str, Any], limit: int,
                enough: int, ranked: bool) -> list[_Candidate]:
    if _dialect() == "postgresql":
        return _pg_candidates(query, shape, values, limit, enough, ranked)
    return _sqlite_candidates(query, shape, values, limit, ranked)


def _dates(filters: SearchFilters) -> tuple[datetime | None, datetime | None]:
    """The filter's dates as instants: from the start of the first day to the start of
    the day after the last (exclusive)."""
    return (_day_start(filters.date_from) if filters.date_from else None,
            _day_start(filters.date_to + timedelta(1)) if filters.date_to else None)


# -- filters --------------------------------------------------------------------------------


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _filters(filters: SearchFilters, viewer: Any,
             org_id: int | None) -> tuple[_Shape, dict[str, Any]]:
    """The shape of the search and the values its statement binds."""
    values: dict[str, Any] = {}
    orgs = member_org_ids(viewer)
    if orgs:
        values["member_orgs"] = sorted(orgs)
    kinds = [k for k in filters.kinds if k in KINDS]
    if kinds:
        values["kinds"] = kinds
    if org_id is not None:
        values["org_id"] = org_id
    if filters.language:
        values["language"] = filters.language
    slug = theme_slug(filters.theme) if filters.theme else ""
    if slug:
        values["theme_like"] = f"% {slug} %"
    since, until = _dates(filters)
    if since is not None:
        values["since"] = since
    if until is not None:
        values["until"] = until
    return _Shape(members=bool(orgs), kinds=bool(kinds), org=org_id is not None,
                  language=bool(filters.language), theme=bool(slug),
                  since=since is not None, until=until is not None), values


def _conditions(shape: _Shape) -> list[ColumnElement[bool]]:
    """Everything but the match itself (each engine places that where it is cheapest):
    what the viewer may see, and the filters."""
    members = (and_(SearchDocument.visibility == "members",
                    SearchDocument.org_id.in_(bindparam("member_orgs", expanding=True)))
               if shape.members else false())
    conditions = [or_(SearchDocument.visibility == "public", members)]
    if shape.kinds:
        conditions.append(SearchDocument.kind.in_(bindparam("kinds", expanding=True)))
    if shape.org:
        conditions.append(SearchDocument.org_id == bindparam("org_id"))
    if shape.language:
        conditions.append(SearchDocument.language == bindparam("language"))
    if shape.theme:
        padded = literal_column("' '") + SearchDocument.themes + literal_column("' '")
        conditions.append(padded.like(bindparam("theme_like", type_=String)))
    if shape.since:
        conditions.append(SearchDocument.sort_at >= bindparam("since"))
    if shape.until:
        conditions.append(SearchDocument.sort_at < bindparam("until"))
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
    shape, values = _filters(filters, viewer, org_id)
    wanted = offset + PAGE_SIZE + 1
    if filters.sort == "relevance":
        candidates = _candidates(query, shape, values, RANKED_CANDIDATES, wanted,
                                 ranked=True)
    else:
        # A page's worth more on SQLite, whose index orders dates to the second only.
        limit = wanted if _dialect() == "postgresql" else wanted + PAGE_SIZE
        candidates = _candidates(query, shape, values, min(limit, MAX_CANDIDATES), wanted,
                                 ranked=False)
    candidates.sort(key=lambda c: (c.sort_at, c.id), reverse=True)
    if filters.sort == "relevance":
        candidates.sort(key=lambda c: -c.score)  # stable: newest first among equals
    page_ids = [c.id for c in candidates[offset:offset + PAGE_SIZE + 1]]
    rows = _load(page_ids)
    rows.sort(key=lambda row: page_ids.index(row.id))
    has_next = len(rows) > PAGE_SIZE and offset + PAGE_SIZE < bound
    return SearchResults(hits=_hits(rows[:PAGE_SIZE], query), has_next=has_next,
                         searched=True)


_DOC = SearchDocument.__table__.c
_COMMENT = Comment.__table__.c
#: What a comment is under, and that item's document (for its title).
_TARGET = SearchDocument.__table__.alias("target")
#: The columns of a page's documents (``_load``), comments with what they are under.
_PAGE_COLUMNS = (_DOC.id, _DOC.kind, _DOC.object_id, _DOC.org_id, _DOC.title, _DOC.body,
                 _DOC.sort_at, Organisation.handle, Organisation.name.label("org_name"),
                 _COMMENT.target_type, _COMMENT.target_id,
                 _TARGET.c.title.label("target_title"))


class _PageRow(NamedTuple):
    id: int
    kind: str
    object_id: int
    org_id: int | None
    title: str
    body: str
    sort_at: datetime
    handle: str | None
    org_name: str | None
    target_type: str | None
    target_id: int | None
    target_title: str | None


def _load_statement(ids: Any) -> Any:
    return (select(*_PAGE_COLUMNS)
            .outerjoin(Organisation, Organisation.id == _DOC.org_id)
            .outerjoin(Comment.__table__, and_(_DOC.kind == "comment",
                                               _COMMENT.id == _DOC.object_id))
            .outerjoin(_TARGET, and_(_TARGET.c.kind == _COMMENT.target_type,
                                     _TARGET.c.object_id == _COMMENT.target_id))
            .where(_DOC.id.in_(ids)))


#: Built once: building a statement costs more than running it (SQLite answers a page's
#: twenty rows in 50 µs). On SQLite the ids go as one JSON array, so the statement runs
#: straight on the driver (``_sqlite_rows``).
_LOAD = _load_statement(bindparam("ids", expanding=True))
_LOAD_SQLITE = _load_statement(select(literal_column("value")).select_from(
    func.json_each(bindparam("ids_json", type_=String))).scalar_subquery())


def _load(ids: list[int]) -> list[Any]:
    """The documents of a page, as plain rows (mapping twenty entities costs more than
    the query)."""
    if not ids:
        return []
    if _dialect() == "sqlite":
        rows = _sqlite_rows(_LOAD_SQLITE, {"ids_json": json.dumps(ids)})
        # As UTCDateTime reads them: stored in UTC without the zone.
        return [_PageRow(*row[:6], datetime.fromisoformat(row[6]).replace(tzinfo=UTC),
                         *row[7:]) for row in rows]
    return list(db.session.connection().execute(_LOAD, {"ids": ids}))


# -- URLs, in batch --------------------------------------------------------------------------


class ItemUrls:
    """Builds item URLs from each endpoint's rule, so it works whatever the argument is
    called (``post_id``, ``id``…) and gives None while an endpoint does not exist yet.

    Each endpoint is built once with marker values, then filled in by string replacement:
    a results page links forty items, and ``url_for`` costs more than the search query.
    """

    _ID_MARK = "9876543219876"
    _HANDLE_MARK = "hubhandlemark"

    def __init__(self) -> None:
        self._arguments: dict[str, tuple[str, ...] | None] = {}
        self._templates: dict[str, str | None] = {}

    def _rule_arguments(self, endpoint: str) -> tuple[str, ...] | None:
        if endpoint not in self._arguments:
            rules = list(current_app.url_map.iter_rules(endpoint)) \
                if endpoint in current_app.view_functions else []
            self._arguments[endpoint] = tuple(sorted(rules[0].arguments)) if rules else None
        return self._arguments[endpoint]

    def _template(self, endpoint: str, arguments: tuple[str, ...]) -> str | None:
        if endpoint not in self._templates:
            values = {name: self._HANDLE_MARK if name == "handle" else int(self._ID_MARK)
                      for name in arguments}
            try:
                self._templates[endpoint] = url_for(endpoint, **values)
            except BuildError:  # a converter refused a marker: build each URL instead
                self._templates[endpoint] = None
        return self._templates[endpoint]

    def item(self, kind: str, object_id: int, handle: str | None) -> str | None:
        endpoint = KIND_ENDPOINTS.get(kind)
        if endpoint is None:
            return None
        arguments = self._rule_arguments(endpoint)
        if arguments is None:
            return None
        if "handle" in arguments and not handle:
            return None
        template = self._template(endpoint, arguments)
        if template is not None and (handle is None or _PLAIN_HANDLE.fullmatch(handle)):
            url = template.replace(self._ID_MARK, str(object_id))
            return url.replace(self._HANDLE_MARK, handle) if handle else url
        values: dict[str, Any] = {name: handle if name == "handle" else object_id
                                  for name in arguments}
        return url_for(endpoint, **values)


#: Handles that appear in a URL as they are (anything else is left to ``url_for``).
_PLAIN_HANDLE = re.compile(r"[A-Za-z0-9_]+")


def _hits(rows: list[Any], query: ParsedQuery) -> list[SearchHit]:
    """Rows of ``_load`` as results: URLs, comment contexts and origins in batch."""
    urls = ItemUrls()
    words = query.words
    origins = _remote_origins([row.object_id for row in rows if row.kind == "remote"])
    hits = []
    for row in rows:
        kind, object_id, handle, org_name = row.kind, row.object_id, row.handle, row.org_name
        context = ""
        if kind == "comment":
            url = None
            if row.target_type is not None:
                base = urls.item(row.target_type, row.target_id, handle)
                url = f"{base}#comment-{object_id}" if base else None
                context = row.target_title or ""
        else:
            url = urls.item(kind, object_id, handle)
        org_url = urls.item("organisation", row.org_id, handle) if handle else None
        if kind == "remote" and object_id in origins:
            org_name, org_url = origins[object_id]
        hits.append(SearchHit(
            kind=kind, object_id=object_id, title=highlight(row.title, words),
            url=url, snippet=snippet(row.body, words), date=row.sort_at,
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
