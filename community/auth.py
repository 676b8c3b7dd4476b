"""The sign-in backend: Django's ``ModelBackend`` with its per-request user read
compiled once (``core.prepared``).

Every page and every socket connect reads the signed-in user by primary key;
through the ORM that read was the largest single cost of a connect at a
session's start (bench/README.md, the session-start storm).  Passwords, the
``is_active`` rule and permissions stay Django's."""

from types import SimpleNamespace

from asgiref.sync import sync_to_async
from django.contrib import auth
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.backends.base import SessionBase

from core.prepared import Prepared

BACKEND = "community.auth.AccountBackend"
# The name stored sessions keep (community.sessions translates both ways), so a
# process of the previous release and this one read each other's sessions.
STORED_BACKEND = "django.contrib.auth.backends.ModelBackend"

_USER = Prepared(lambda pk: get_user_model()._default_manager.filter(pk=pk)[:1])


class AccountBackend(ModelBackend):
    def get_user(self, user_id):
        if not isinstance(user_id, int) or isinstance(user_id, bool):
            return super().get_user(user_id)  # another user model's key: Django's read
        user = _USER.model(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

    async def aget_user(self, user_id):
        return await sync_to_async(self.get_user)(user_id)


def signed_in_user(session: SessionBase):
    """Who ``session`` is signed in as (``AnonymousUser`` if nobody): Django's
    own rule (``django.contrib.auth.get_user``: the backend, ``is_active``, the
    password-change hash), for a socket, which has a session but no request.
    Reading it loads the session (``community.sessions``: its expiry is kept)."""
    return auth.get_user(SimpleNamespace(session=session))  # type: ignore[arg-type]
