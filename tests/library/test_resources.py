"""Resource posts through the real path (library.resources): who publishes,
who suggests, the one screening path, the review queue, edits, removal,
re-checks and pins; every refusal changes nothing."""

import pytest
from django.utils import timezone

from community.models import Membership
from core.errors import DomainError, ErrorCode
from library import resources, selectors
from library.models import ResourcePost
from moderation import selectors as moderation_selectors
from moderation import services as moderation_services
from moderation.models import AuditEntry, Flag, RuleHit
from tests.library.conftest import PLAYLIST, resource_input, snapshot

pytestmark = pytest.mark.django_db


def refuse(code, call, **kwargs) -> DomainError:
    before = snapshot()
    flags, hits = Flag.objects.count(), RuleHit.objects.count()
    with pytest.raises(DomainError) as caught:
        call(**kwargs)
    assert caught.value.code == code, caught.value
    assert caught.value.message
    assert snapshot() == before and Flag.objects.count() == flags and RuleHit.objects.count() == hits
    return caught.value


def test_a_facilitator_publishes_to_their_circle_at_once(circle, facilitator, post_resource):
    """Published, shown under the facilitator's alias, re-checked by them now, audited."""
    resource = post_resource(facilitator.user, circle, link="https://example.org/breath")
    assert resource.status == "published" and not resource.suggested
    assert resource.author_label == facilitator.alias and resource.verified_by_label == facilitator.alias
    assert "facilitator-one" not in (resource.author_label + resource.verified_by_label)
    assert resource.html == "<p>Breathe out for longer than you breathe in.</p>"
    assert AuditEntry.objects.filter(action="resource_publish", extra__resource=resource.pk).exists()
    assert not Flag.objects.filter(resource=resource).exists()


def test_a_members_post_is_a_suggestion_that_waits_in_the_queue(circle, member, post_resource, site_moderator):
    """Pending, invisible to the circle, one queue item for moderators."""
    resource = post_resource(member.user, circle)
    assert (resource.status, resource.suggested, resource.author_label) == ("pending", True, member.alias)
    flag = Flag.objects.get(resource=resource)
    assert (flag.source, flag.status, flag.circle_id) == ("suggestion", "open", circle.pk)
    assert resource not in selectors.readable(member.user)
    items = moderation_selectors.review_queue(site_moderator)
    assert [i.flag.pk for i in items] == [flag.pk] and items[0].member_number == member.number


def test_a_moderator_approves_a_suggestion_and_it_is_published(circle, member, post_resource, site_moderator):
    resource = post_resource(member.user, circle)
    flag = Flag.objects.get(resource=resource)
    moderation_services.review_flag(user=site_moderator, flag_id=flag.pk, action="approve", reason="Helpful")
    resource.refresh_from_db()
    assert resource.status == "published" and resource.verified_by_label == "Moderators"
    assert resource in selectors.readable(member.user)
    entry = AuditEntry.objects.get(action="approve")
    assert entry.extra["resource"] == resource.pk and entry.target_message is None
    assert entry.target_membership == member


def test_a_moderator_removes_a_suggestion_and_warns_its_author(circle, member, post_resource, site_moderator):
    resource = post_resource(member.user, circle)
    flag = Flag.objects.get(resource=resource)
    moderation_services.review_flag(user=site_moderator, flag_id=flag.pk, action="warn", reason="Off topic")
    resource.refresh_from_db()
    assert resource.status == "removed"
    with pytest.raises(DomainError) as caught:
        selectors.access_resource(member.user, resource.pk)
    assert caught.value.code == ErrorCode.NOT_FOUND


def test_a_circle_moderator_reviews_their_circles_suggestions(circle, member, circle_moderator, post_resource):
    resource = post_resource(member.user, circle)
    items = moderation_selectors.review_queue(circle_moderator.user)
    assert [i.flag.resource_id for i in items] == [resource.pk]


def test_suggesting_into_a_circle_you_are_not_in_is_refused(make_circle, member, post_resource):
    other = make_circle(name="Evening", slug="evening")
    refuse(ErrorCode.NOT_MEMBER, resources.post_resource, user=member.user, circle=other, data=resource_input())


def test_a_muted_or_banned_member_cannot_suggest(circle, member):
    from community import services as community_services

    community_services.mute_membership(target=member, minutes=10)
    refuse(ErrorCode.MUTED, resources.post_resource, user=member.user, circle=circle, data=resource_input())
    community_services.ban_membership(target=member)
    refuse(ErrorCode.BANNED, resources.post_resource, user=member.user, circle=circle, data=resource_input())


def test_only_site_moderators_post_to_the_site_wide_library(facilitator, site_moderator, post_resource):
    refuse(ErrorCode.FORBIDDEN, resources.post_resource, user=facilitator.user, circle=None, data=resource_input())
    resource = post_resource(site_moderator, None)
    assert resource.circle is None and resource.status == "published"
    assert resource.author_label == "Site moderator" and resource.author is None


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": "<script>alert(1)</script>"}, "title"),
        ({"body": "<script>alert(1)</script>"}, "body"),
        ({"link": "javascript:alert(1)"}, "link"),
        ({"kind": "playlist", "tracks": "A | <img src=x onerror=alert(1)> | 3:00"}, "tracks"),
        ({"kind": "playlist", "tracks": ""}, "tracks"),
        ({"kind": "worksheet", "prompts": ""}, "prompts"),
        ({"body": "x" * 8001}, "body"),
        ({"kind": "nonsense"}, "kind"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_stored(circle, facilitator, fields, field):
    with pytest.raises(DomainError) as caught:
        resources.post_resource(user=facilitator.user, circle=circle, data=resource_input(**fields))
    assert caught.value.extra["field"] == field
    assert snapshot() == [] and not AuditEntry.objects.filter(action="resource_publish").exists()


def test_a_playlist_keeps_its_tracks_in_order_with_the_total(circle, facilitator, post_resource):
    resource = post_resource(facilitator.user, circle, kind="playlist", mood="Slow and wordless", tracks=PLAYLIST)
    assert [(t.position, t.title, t.seconds) for t in resource.tracks.all()] == [
        (1, "Low tide", 390),
        (2, "Morning light", 245),
    ]
    assert resource.total_seconds == 635 and resource.mood == "Slow and wordless"


def test_every_post_takes_the_one_screening_path(circle, facilitator, post_resource, make_rule):
    """A flag rule on a post: published, a rule hit and a queue item about the resource."""
    rule = make_rule("lozenges", action="flag", category="sourcing")
    resource = post_resource(facilitator.user, circle, body="Where to get lozenges")
    assert resource.status == "published"
    hit = RuleHit.objects.get(rule=rule)
    assert hit.resource == resource and hit.message is None and hit.matched == "lozenges"
    assert Flag.objects.get(resource=resource).source == "rule"


def test_a_hold_rule_keeps_a_facilitators_post_waiting(circle, facilitator, post_resource, make_rule):
    make_rule("plug", action="hold", category="sourcing")
    resource = post_resource(facilitator.user, circle, title="Find a plug")
    assert resource.status == "pending"
    assert Flag.objects.get(resource=resource).status == "open"


def test_a_block_rule_refuses_the_post_with_its_reason(circle, facilitator, make_rule):
    make_rule("sellingstuff", action="block", category="sourcing")
    err = refuse(
        ErrorCode.BLOCKED,
        resources.post_resource,
        user=facilitator.user,
        circle=circle,
        data=resource_input(body="sellingstuff here"),
    )
    assert "Buying, selling" in err.message


def test_a_link_in_the_post_is_screened_too(circle, facilitator, make_rule):
    make_rule("badsite", action="block", category="spam")
    refuse(
        ErrorCode.BLOCKED,
        resources.post_resource,
        user=facilitator.user,
        circle=circle,
        data=resource_input(link="https://badsite.example/x"),
    )


def test_personal_details_are_refused_rather_than_cut(circle, facilitator, make_rule):
    make_rule("@email", kind="regex", action="redact", category="personal-info")
    err = refuse(
        ErrorCode.BLOCKED,
        resources.post_resource,
        user=facilitator.user,
        circle=circle,
        data=resource_input(body="write to jess.turner@example.org"),
    )
    assert "personal contact details" in err.message


def test_a_members_crisis_words_are_an_urgent_case_and_they_are_offered_help(circle, member, make_rule):
    make_rule("end my life", kind="phrase", action="crisis", category="crisis")
    saved = resources.post_resource(
        user=member.user, circle=circle, data=resource_input(body="I want to end my life, this helped")
    )
    assert saved.care == "crisis" and saved.outcome == "pending"
    assert Flag.objects.get(resource=saved.resource).urgent


def test_a_facilitators_post_about_a_crisis_line_is_queued_not_raised(circle, facilitator, make_rule):
    make_rule("suicide", action="crisis", category="crisis")
    saved = resources.post_resource(
        user=facilitator.user,
        circle=circle,
        data=resource_input(kind="crisis_line", phase="any", title="988 Suicide & Crisis Lifeline", body="Call 988."),
    )
    assert saved.care == "" and saved.outcome == "published"
    flag = Flag.objects.get(resource=saved.resource)
    assert not flag.urgent and flag.category == "crisis"


def test_escalation_leaves_library_cases_alone(circle, member, make_rule):
    """The re-alert names a room message; an urgent library case waits atop the queue."""
    make_rule("end my life", kind="phrase", action="crisis", category="crisis")
    resources.post_resource(user=member.user, circle=circle, data=resource_input(body="I want to end my life"))
    later = timezone.now() + timezone.timedelta(hours=1)
    assert moderation_services.escalate_overdue(now=later) == []


def test_the_author_edits_their_own_post_and_a_member_edit_waits_for_review(
    circle, member, post_resource, site_moderator
):
    resource = post_resource(member.user, circle)
    flag = Flag.objects.get(resource=resource)
    moderation_services.review_flag(user=site_moderator, flag_id=flag.pk, action="approve", reason="ok")
    saved = resources.edit_resource(user=member.user, pk=resource.pk, data=resource_input(title="Calmer breathing"))
    assert saved.outcome == "pending" and saved.resource.title == "Calmer breathing"
    flag.refresh_from_db()
    assert flag.status == "open"


def test_a_staff_edit_keeps_the_post_published_and_re_checks_it(circle, facilitator, post_resource):
    resource = post_resource(facilitator.user, circle)
    ResourcePost.objects.filter(pk=resource.pk).update(verified_at=timezone.now() - timezone.timedelta(days=200))
    saved = resources.edit_resource(user=facilitator.user, pk=resource.pk, data=resource_input(body="Longer out."))
    assert saved.outcome == "published"
    assert saved.resource.verified_at > timezone.now() - timezone.timedelta(minutes=1)
    assert AuditEntry.objects.filter(action="resource_edit").count() == 1


def test_editing_someone_elses_post_is_refused_and_changes_nothing(circle, facilitator, people, post_resource):
    resource = post_resource(facilitator.user, circle)
    [(other_user, _m)] = people(circle)
    [(other_facilitator, _f)] = people(circle, role=Membership.Role.FACILITATOR)
    for user in (other_user, other_facilitator):
        refuse(ErrorCode.FORBIDDEN, resources.edit_resource, user=user, pk=resource.pk, data=resource_input(title="x"))
        refuse(ErrorCode.FORBIDDEN, resources.remove_resource, user=user, pk=resource.pk, reason="x")


def test_a_moderator_edits_or_removes_any_post_with_a_reason(circle, facilitator, circle_moderator, post_resource):
    resource = post_resource(facilitator.user, circle)
    resources.edit_resource(user=circle_moderator.user, pk=resource.pk, data=resource_input(title="Fixed title"))
    refuse(ErrorCode.INVALID, resources.remove_resource, user=circle_moderator.user, pk=resource.pk, reason=" ")
    resources.remove_resource(user=circle_moderator.user, pk=resource.pk, reason="Duplicate")
    resource.refresh_from_db()
    assert resource.status == "removed"
    assert AuditEntry.objects.get(action="resource_remove").reason == "Duplicate"


def test_a_post_outside_your_circles_is_not_found(make_circle, make_user, join, post_resource, facilitator, circle):
    resource = post_resource(facilitator.user, circle)
    outsider = join(make_user("outsider"), make_circle(name="Other", slug="other"))
    refuse(ErrorCode.NOT_FOUND, selectors.access_resource, user=outsider.user, pk=resource.pk)
    refuse(ErrorCode.NOT_FOUND, resources.edit_resource, user=outsider.user, pk=resource.pk, data=resource_input())


def test_re_checking_records_when_and_by_whom(circle, facilitator, people, post_resource):
    resource = post_resource(facilitator.user, circle)
    [(f2, m2)] = people(circle, role=Membership.Role.FACILITATOR)
    resources.verify_resource(user=f2, pk=resource.pk)
    resource.refresh_from_db()
    assert resource.verified_by_label == m2.alias
    [(member_user, _m)] = people(circle)
    refuse(ErrorCode.FORBIDDEN, resources.verify_resource, user=member_user, pk=resource.pk)


def test_pinning_puts_a_resource_first(circle, facilitator, post_resource):
    first = post_resource(facilitator.user, circle, title="First")
    post_resource(facilitator.user, circle, title="Second")
    resources.set_pinned(user=facilitator.user, pk=first.pk, pinned=True)
    shelf = selectors.circle_shelf(facilitator.user, circle)
    assert [r.title for r in shelf] == ["First", "Second"]


def test_attaching_a_playlist_needs_a_scheduled_session(circle, facilitator, post_resource):
    """Until the schedule exists, there is no session to attach to (NOT_FOUND)."""
    playlist = post_resource(facilitator.user, circle, kind="playlist", tracks=PLAYLIST)
    refuse(ErrorCode.NOT_FOUND, resources.attach_playlist, user=facilitator.user, pk=playlist.pk, occurrence_id=1)
    other = post_resource(facilitator.user, circle)
    refuse(ErrorCode.INVALID, resources.attach_playlist, user=facilitator.user, pk=other.pk, occurrence_id=1)
