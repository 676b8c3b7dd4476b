"""What-if settings for room_bench (``--ours-settings bench.settings_persistent_db``):
the product's settings with persistent database connections (CONN_MAX_AGE=None),
to measure what opening and closing a connection for every frame costs.
Not used by the product."""

from config.settings.base import *  # noqa: F403
from config.settings.base import DATABASES

DATABASES["default"]["CONN_MAX_AGE"] = None
