"""Fixtures for the library tests: resources built through the services, a
private data folder of the test's own, rules made through the moderation service."""

import pytest

from library import resources
from library.models import ResourcePost
from moderation import screening
from moderation import services as moderation_services


@pytest.fixture(autouse=True)
def private_dir(settings, tmp_path):
    """Voice notes of this test only, in a folder it owns."""
    settings.PRIVATE_DATA_DIR = tmp_path / "private"
    return settings.PRIVATE_DATA_DIR


@pytest.fixture(autouse=True)
def fresh_rules():
    """Each test screens with the rules it made: the process's compiled rules (and
    the split-sentence window) never carry over from a test whose rows are gone."""
    screening.forget_compiled_rules()
    screening.recent.forget()
    yield
    screening.forget_compiled_rules()
    screening.recent.forget()


@pytest.fixture
def make_rule(db):
    def make(pattern, *, kind="word", category="harassment", action="flag", **fields):
        rule = moderation_services.save_rule(
            user=None, pattern=pattern, kind=kind, category=category, action=action, **fields
        )
        screening.forget_compiled_rules()  # on_commit does this too; plain django_db tests never commit
        return rule

    return make


def resource_input(**fields) -> resources.ResourceInput:
    fields.setdefault("title", "Slow breathing for the evening")
    fields.setdefault("body", "Breathe out for longer than you breathe in.")
    fields.setdefault("kind", "breathwork")
    fields.setdefault("phase", "integration")
    return resources.ResourceInput(**fields)


@pytest.fixture
def post_resource(db):
    """``post_resource(user, circle, **fields)`` → the saved resource, through the service."""

    def do(user, circle, **fields) -> ResourcePost:
        return resources.post_resource(user=user, circle=circle, data=resource_input(**fields)).resource

    return do


PLAYLIST = "Low tide | Any ambient artist | 6:30\nMorning light | A guitarist | 4:05 | https://example.org/track"


def snapshot() -> list[tuple]:
    """Every non-starter resource row, to prove a refusal changed nothing."""
    return list(
        ResourcePost.objects.filter(starter_key="")
        .order_by("pk")
        .values_list("pk", "title", "body", "link", "status", "updated_at", "verified_at", "pinned")
    )
