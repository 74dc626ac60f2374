"""Test fixtures. The suite runs on SQLite by default; HUB_TEST_DATABASE_URL selects
PostgreSQL and HUB_TEST_REDIS_URL puts the job queue and rate limits on Redis."""

pytest_plugins = ["tests.plugins.app", "tests.plugins.factories", "tests.plugins.oidc_peer",
                  "tests.plugins.fedify_peer"]
