"""System checks for what the live room needs from its database."""

import sqlite3

from django.conf import settings
from django.core.checks import Error, register

# chat.models.RoomManager.take_ids takes message ids with UPDATE … RETURNING.
SQLITE_RETURNING = (3, 35, 0)


def sqlite_problems(engine: str, version: tuple[int, ...]) -> list[Error]:
    if engine.endswith("sqlite3") and tuple(version) < SQLITE_RETURNING:
        found = ".".join(str(n) for n in version)
        return [
            Error(
                f"SQLite {found} is too old for the live room: message ids are taken with "
                "UPDATE … RETURNING, which needs SQLite 3.35 or newer.",
                hint="Use a Python built against a newer SQLite, or PostgreSQL (DATABASE_URL).",
                id="chat.E001",
            )
        ]
    return []


@register("database")
def check_sqlite_returning(app_configs=None, **kwargs) -> list[Error]:
    return sqlite_problems(str(settings.DATABASES["default"]["ENGINE"]), sqlite3.sqlite_version_info)
