"""Keyset pagination: "rows after this one" as one row-value comparison.

``(a, b) < (x, y)`` is a range on an index over (a, b) in SQLite and PostgreSQL, so page 500
costs what page 1 costs; the spelled-out ``a < x OR (a = x AND b < y)`` is not, and the
database walks every row before the cursor.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, literal, tuple_


def beyond(columns: Sequence[Any], values: Sequence[Any], *,
           descending: bool) -> ColumnElement[bool]:
    """Rows that come after ``values`` in the order of ``columns`` (all one direction)."""
    left = tuple_(*columns)
    right = tuple_(*(literal(value, column.type) for column, value in zip(columns, values,
                                                                         strict=True)))
    return left < right if descending else left > right
