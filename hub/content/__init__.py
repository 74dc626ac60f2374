"""Content shared across the hub; for now the themes (tags) organisations are filed under."""
