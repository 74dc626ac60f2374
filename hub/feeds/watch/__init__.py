"""The collective watch ("veille"): external feeds polled into an organisation's watch list."""
