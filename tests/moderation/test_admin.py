"""Rules are editable in the Django admin through the same service as the moderator pages."""

import pytest
from django.test import Client

from moderation.models import AuditEntry, KeywordRule

pytestmark = pytest.mark.django_db(transaction=True)

ADD_URL = "/admin/moderation/keywordrule/add/"


@pytest.fixture
def admin_client_for(site_moderator):
    site_moderator.is_staff = True
    site_moderator.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(site_moderator)
    return client


def form(**overrides):
    data = {
        "pattern": "plug",
        "kind": "word",
        "category": "sourcing",
        "action": "hold",
        "exempt": "",
        "note": "",
        "enabled": "on",
    }
    data.update(overrides)
    return data


def test_moderator_adds_a_rule_in_the_admin_and_it_is_audited(admin_client_for, site_moderator):
    """A site moderator saves a rule in the admin; it is stored and the change is audited."""
    response = admin_client_for.post(ADD_URL, form())
    assert response.status_code == 302
    rule = KeywordRule.objects.get(pattern="plug")
    assert rule.updated_by == site_moderator
    assert AuditEntry.objects.filter(action="rule_change", actor=site_moderator, extra__rule=rule.pk).exists()


def test_bad_regular_expression_is_refused_in_the_admin(admin_client_for):
    """A bad regular expression is refused in the admin with a clear message; nothing is stored."""
    response = admin_client_for.post(ADD_URL, form(pattern="(oops", kind="regex"))
    assert response.status_code == 200
    assert "regular expression" in response.content.decode().lower()
    assert not KeywordRule.objects.exists()


def test_audit_log_is_read_only_in_the_admin(admin_client_for):
    """The admin offers no way to add, change or delete an audit entry."""
    assert admin_client_for.get("/admin/moderation/auditentry/add/").status_code == 403
