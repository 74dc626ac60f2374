"""Feeds out (RSS, Atom, JSON Feed, iCalendar, OPML) and feeds in (the collective watch)."""
