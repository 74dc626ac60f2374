"""Comment trees and keyset cursors (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hub.content.comments.tree import build_tree, decode_cursor, encode_cursor

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class C:
    id: int
    parent_id: int | None
    depth: int
    reply_count: int = 0
    created_at: datetime = T0


def test_replies_hang_under_their_parents_in_order():
    top = [C(1, None, 0), C(2, None, 0)]
    replies = [C(5, 1, 1, created_at=T0 + timedelta(minutes=2)), C(3, 1, 1),
               C(4, 3, 2), C(6, 2, 1)]

    nodes = build_tree(top, replies, 0)

    assert [n.comment.id for n in nodes] == [1, 2]
    assert [n.comment.id for n in nodes[0].children] == [3, 5]
    assert [n.comment.id for n in nodes[0].children[0].children] == [4]
    assert [n.comment.id for n in nodes[1].children] == [6]


def test_the_last_level_shown_counts_its_replies_for_show_more():
    nodes = build_tree([C(1, None, 0)], [C(2, 1, 1), C(3, 2, 2, reply_count=4)], 0)

    deepest = nodes[0].children[0].children[0]
    assert deepest.more == 4 and deepest.children == []
    assert nodes[0].more == 0


def test_deeper_rows_and_orphans_are_dropped():
    nodes = build_tree([C(1, None, 0)], [C(2, 1, 1), C(3, 2, 2), C(4, 3, 3), C(9, 8, 1)], 0)

    assert nodes[0].children[0].children[0].children == []
    assert len(nodes[0].children) == 1


def test_a_subtree_counts_levels_from_its_own_depth():
    nodes = build_tree([C(4, 3, 3)], [C(5, 4, 4), C(6, 5, 5, reply_count=1)], 3)

    assert nodes[0].children[0].children[0].more == 1


def test_cursors_round_trip_and_refuse_garbage():
    raw = encode_cursor(True, T0, 42)

    assert decode_cursor(raw, "bdi") == (True, T0, 42)
    assert decode_cursor(encode_cursor(T0, 7), "di") == (T0, 7)
    for bad in ("", "x", "1-2", "20250101-abc", "2-20250301120000000000-1", "a" * 200):
        assert decode_cursor(bad, "di") is None
