"""Comment trees and keyset cursors. Pure: no Flask, database or network.

A page loads flat rows (a page of comments, then their replies a few levels down) and
``build_tree`` turns them into nodes; ``encode_cursor``/``decode_cursor`` write the
"after this row" position of a keyset-paginated list into a URL argument.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

#: Levels of replies shown under a comment before a "show more" link.
REPLY_LEVELS = 2

_CURSOR_FORMAT = "%Y%m%d%H%M%S%f"


@dataclass
class Node:
    """A comment on the page with the replies shown under it."""

    comment: Any
    children: list[Node] = field(default_factory=list)
    #: Replies not loaded because they are deeper than the page shows ("show more (N)").
    more: int = 0


def build_tree(parents: Sequence[Any], replies: Iterable[Any], base_depth: int,
               levels: int = REPLY_LEVELS) -> list[Node]:
    """Nodes for ``parents`` (all at ``base_depth``) with ``replies`` hung under them.

    Replies whose parent is not on the page (hidden, or deleted without a placeholder) are
    dropped with their branch. A reply at the last level shown keeps its replies for a
    "show more" link, counted by its ``reply_count``.
    """
    nodes = [Node(comment) for comment in parents]
    by_id = {node.comment.id: node for node in nodes}
    for reply in sorted(replies, key=lambda c: (c.depth, c.created_at, c.id)):
        if reply.depth - base_depth > levels:
            continue
        parent = by_id.get(reply.parent_id)
        if parent is None:
            continue
        node = Node(reply)
        parent.children.append(node)
        by_id[reply.id] = node
    for node in by_id.values():
        if node.comment.depth - base_depth == levels:
            node.more = node.comment.reply_count
    return nodes


def encode_cursor(*parts: datetime | int | bool) -> str:
    """A URL-safe position: datetimes as digits, booleans as 0/1, joined by "-"."""
    out = []
    for part in parts:
        if isinstance(part, datetime):
            out.append(part.astimezone(UTC).strftime(_CURSOR_FORMAT))
        else:
            out.append(str(int(part)))
    return "-".join(out)


def decode_cursor(raw: str, shape: str) -> tuple | None:
    """Parse a cursor made by ``encode_cursor``; ``shape`` names each part: "d" datetime,
    "i" integer, "b" boolean. None when it does not parse (the list starts over)."""
    pieces = raw.split("-") if raw else []
    if len(pieces) != len(shape) or len(raw) > 100:
        return None
    values: list[Any] = []
    try:
        for kind, piece in zip(shape, pieces, strict=True):
            if kind == "d":
                values.append(datetime.strptime(piece, _CURSOR_FORMAT).replace(tzinfo=UTC))
            elif kind == "i":
                if not piece.isdigit():
                    return None
                values.append(int(piece))
            elif kind == "b":
                if piece not in ("0", "1"):
                    return None
                values.append(piece == "1")
    except ValueError:
        return None
    return tuple(values)
