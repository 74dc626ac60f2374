"""Full-text search over every kind of content (SQLite FTS5 or PostgreSQL tsvector)."""
