"""Sessions signed in through Django's ModelBackend name it; the sign-in backend
is now ``community.auth.AccountBackend`` (the same rules, its user read
compiled).  Django signs a session out whose backend is no longer configured,
so the live sessions are renamed here instead: nobody is signed out by the
change.  Reversible (the reverse renames them back)."""

from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.db import migrations
from django.utils import timezone

LEGACY = "django.contrib.auth.backends.ModelBackend"
CURRENT = "community.auth.AccountBackend"


def _rename(apps, old: str, new: str) -> None:
    Session = apps.get_model("sessions", "Session")  # noqa: N806 - a model class
    store = SessionStore()  # the same signing salt as community.sessions.SessionStore
    changed = []
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator(chunk_size=500):
        data = store.decode(session.session_data)  # {} when it cannot be read: left as it is
        if data.get(BACKEND_SESSION_KEY) == old:
            data[BACKEND_SESSION_KEY] = new
            session.session_data = store.encode(data)
            changed.append(session)
    Session.objects.bulk_update(changed, ["session_data"], batch_size=500)


def forwards(apps, schema_editor):
    _rename(apps, LEGACY, CURRENT)


def backwards(apps, schema_editor):
    _rename(apps, CURRENT, LEGACY)


class Migration(migrations.Migration):
    dependencies = [
        ("community", "0006_account_security"),
        ("sessions", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
