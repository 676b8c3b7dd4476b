import pytest
from django.contrib.auth.models import Group

from community.apps import MODERATORS_GROUP
from moderation import screening, services
from moderation.models import KeywordRule


@pytest.fixture
def make_rule(db):
    def make(pattern, *, kind="word", category="harassment", action="flag", **fields) -> KeywordRule:
        rule = services.save_rule(user=None, pattern=pattern, kind=kind, category=category, action=action, **fields)
        screening.forget_compiled_rules()  # on_commit does this too; plain django_db tests never commit
        return rule

    return make


@pytest.fixture
def site_moderator(make_user):
    user = make_user("site-mod")
    user.groups.add(Group.objects.get(name=MODERATORS_GROUP))
    return user


@pytest.fixture
def site_moderator_2(make_user):
    user = make_user("site-mod-two")
    user.groups.add(Group.objects.get(name=MODERATORS_GROUP))
    return user
