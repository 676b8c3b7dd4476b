"""Django's database sessions, read with a compiled query (core.prepared):
every page and every socket connect reads the session first.

Sessions are stored naming Django's ``ModelBackend`` and read naming
``community.auth.AccountBackend`` (the same backend, its user read compiled):
a process of the previous release (during a rolling restart, or after a
rollback) reads what this one writes and the reverse, so changing the backend
signs nobody out (docs/operations.md, upgrades)."""

from datetime import datetime
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from core.prepared import Prepared

from .auth import BACKEND, STORED_BACKEND

_SESSION = Prepared(lambda key: Session.objects.filter(session_key=key)[:1])


class SessionStore(DatabaseSessionStore):
    # When the stored session ends, as its load read it (None: nothing stored,
    # or not loaded yet): a socket's connect needs it, without a second read.
    stored_expiry: datetime | None = None

    def _get_session_from_db(self) -> Session | None:
        """As Django's: the stored session unless it has ended (then the key is
        forgotten and a new session starts)."""
        key = self.session_key
        found = _SESSION.model(key) if isinstance(key, str) else None
        if found is None or found.expire_date <= timezone.now():
            self._session_key = None
            return None
        self.stored_expiry = found.expire_date
        return found

    async def _aget_session_from_db(self) -> Session | None:
        """The same rule for Django's async session API (one place for it)."""
        return await sync_to_async(self._get_session_from_db)()

    def encode(self, session_dict: dict[str, Any]) -> str:
        if session_dict.get(BACKEND_SESSION_KEY) == BACKEND:
            session_dict = {**session_dict, BACKEND_SESSION_KEY: STORED_BACKEND}
        return super().encode(session_dict)

    def decode(self, session_data: bytes | str) -> dict[str, Any]:
        data = super().decode(session_data)
        if data.get(BACKEND_SESSION_KEY) == STORED_BACKEND:
            data[BACKEND_SESSION_KEY] = BACKEND
        return data
