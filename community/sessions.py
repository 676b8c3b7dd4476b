"""Django's database sessions, read with a compiled query (core.prepared):
every page and every socket connect reads the session first."""

from asgiref.sync import sync_to_async
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from core.prepared import Prepared

_SESSION = Prepared(lambda key: Session.objects.filter(session_key=key)[:1])


class SessionStore(DatabaseSessionStore):
    def _get_session_from_db(self) -> Session | None:
        """As Django's: the stored session unless it has ended (then the key is
        forgotten and a new session starts)."""
        key = self.session_key
        found = _SESSION.model(key) if isinstance(key, str) else None
        if found is None or found.expire_date <= timezone.now():
            self._session_key = None
            return None
        return found

    async def _aget_session_from_db(self) -> Session | None:
        """The same rule for Django's async session API (one place for it)."""
        return await sync_to_async(self._get_session_from_db)()
