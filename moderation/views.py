"""Moderator pages: the review queue, rules, the audit log, identity reveal; and a
member's own reports.  Thin: parse, call a service or selector, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from community.models import Circle, Membership
from community.permissions import Action, check, is_site_moderator
from core.errors import DomainError, ErrorCode

from . import selectors, services
from .forms import QueueFilterForm, RevealForm, ReviewForm, RuleForm, TryRuleForm
from .models import AuditEntry, KeywordRule

# Who each staff page is for, in words, for the page that explains a refusal.
PAGE_TITLES = {
    Action.MANAGE_RULES: ("Keyword rules", "Keyword rules are kept by site moderators"),
    Action.VIEW_AUDIT: ("Audit log", "The audit log is kept by site moderators"),
    Action.REVEAL_IDENTITY: ("Reveal a handle", "Seeing who is behind an alias is for administrators"),
}
QUEUE_TITLE = ("Review queue", "The review queue is for facilitators and moderators")


def _not_for_you(request, action: Action | None):
    """A calm explanation, not an error: what this page is, who keeps it, and
    what this person can do instead (403)."""
    can_queue = is_site_moderator(request.user) or selectors.reviewable_circles(request.user).exists()
    title, heading = PAGE_TITLES.get(action, QUEUE_TITLE) if action else QUEUE_TITLE
    context = {"title": title, "heading": heading, "action": str(action or ""), "can_queue": can_queue}
    return render(request, "moderation/not_for_you.html", context, status=403)


def _allowed(request, action: Action) -> bool:
    try:
        check(request.user, action)
    except DomainError as err:
        if err.code != ErrorCode.FORBIDDEN:
            raise
        return False
    return True


def _queue_context(request, **extra):
    circles = list(selectors.reviewable_circles(request.user).order_by("name"))
    filter_form = QueueFilterForm(request.GET or None, circles=circles)
    filters = filter_form.filters()
    site_moderator = is_site_moderator(request.user)
    context = {
        "items": selectors.review_queue(request.user, filters),
        "filters": filters,
        "filter_form": filter_form,
        "form": ReviewForm(),
        "urgent": selectors.urgent_waiting(request.user),
        "site_moderator": site_moderator,
        "query": request.GET.urlencode(),
        "many_circles": len(circles) > 1,
        "active": "queue",
    }
    context.update(extra)
    return context


@login_required
def queue(request):
    if not (is_site_moderator(request.user) or selectors.reviewable_circles(request.user).exists()):
        return _not_for_you(request, None)
    context = _queue_context(request)
    template = "moderation/_queue_items.html" if request.GET.get("fragment") else "moderation/queue.html"
    return render(request, template, context)


@login_required
@require_POST
def review(request, flag_id):
    form = ReviewForm(request.POST)
    back = _safe_next(request, "moderation:queue")
    if not form.is_valid():
        messages.error(request, "Choose a decision and write a reason; nothing was changed.")
        return redirect(back)
    try:
        services.review_flag(
            user=request.user,
            flag_id=flag_id,
            action=form.cleaned_data["action"],
            reason=form.cleaned_data["reason"],
            minutes=form.cleaned_data.get("minutes"),
        )
    except DomainError as err:
        if err.code == ErrorCode.FORBIDDEN:
            raise
        messages.error(request, err.message)
        response = queue(request)
        response.status_code = err.http_status
        return response
    messages.success(request, "Done. The decision is in the audit log.")
    return redirect(back)


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@login_required
@require_POST
def acknowledge(request, flag_id):
    """Someone is on a crisis alert ("I am on it"): it clears on every moderator's screen."""
    try:
        services.acknowledge_crisis(user=request.user, flag_id=flag_id)
    except DomainError as err:
        if _wants_json(request):
            return JsonResponse({"code": err.code.value, "message": err.message}, status=err.http_status)
        if err.code == ErrorCode.FORBIDDEN:
            raise
        messages.error(request, err.message)
        return redirect(_safe_next(request, "moderation:queue"))
    if _wants_json(request):
        return JsonResponse({"ok": True, "flag": flag_id})
    messages.success(request, "Acknowledged. Thank you for looking after them.")
    return redirect(_safe_next(request, "moderation:queue"))


def _safe_next(request, fallback: str) -> str:
    """``next`` from the form when it points into this site, else ``fallback``."""
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


@login_required
def rules(request):
    if not _allowed(request, Action.MANAGE_RULES):
        return _not_for_you(request, Action.MANAGE_RULES)
    return render(
        request,
        "moderation/rules.html",
        {
            "rows": selectors.rule_rows(),
            "urgent": selectors.urgent_waiting(request.user),
            "site_moderator": True,
            "active": "rules",
        },
    )


@login_required
def rule_edit(request, rule_id=None):
    """Create or change a rule; "Try this rule" runs the draft on a sample text
    without saving anything."""
    if not _allowed(request, Action.MANAGE_RULES):
        return _not_for_you(request, Action.MANAGE_RULES)
    rule = get_object_or_404(KeywordRule, pk=rule_id) if rule_id else None
    form = RuleForm(request.POST or None, instance=rule)
    try_form = TryRuleForm(request.POST or None)
    trial, trial_error = None, None
    status = 200
    if request.method == "POST" and request.POST.get("intent") == "try":
        if form.is_valid() and try_form.is_valid():
            data = form.cleaned_data
            try:
                trial = services.try_rule(
                    user=request.user,
                    pattern=data["pattern"],
                    kind=data["kind"],
                    category=data["category"],
                    action=data["action"],
                    exempt=data["exempt"],
                    shadow=data["shadow"],
                    sample=try_form.cleaned_data["sample"],
                )
            except DomainError as err:
                trial_error = err
        else:
            status = 400
    elif request.method == "POST":
        if form.is_valid():
            fields = {name: form.cleaned_data[name] for name in services.RULE_FIELDS}
            services.save_rule(user=request.user, rule=rule, **fields)
            messages.success(request, "Rule saved. Every room uses it within a few seconds.")
            return redirect("moderation:rules")
        status = 400
    context = {
        "form": form,
        "try_form": try_form,
        "rule": rule,
        "trial": trial,
        "trial_error": trial_error,
        "urgent": selectors.urgent_waiting(request.user),
        "site_moderator": True,
        "active": "rules",
    }
    return render(request, "moderation/rule_form.html", context, status=status)


@login_required
def audit(request):
    if not _allowed(request, Action.VIEW_AUDIT):
        return _not_for_you(request, Action.VIEW_AUDIT)
    filters = {k: request.GET.get(k, "") for k in ("action", "circle", "role")}
    page = Paginator(selectors.audit_log(**filters), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "moderation/audit.html",
        {
            "page": page,
            "filters": filters,
            "actions": AuditEntry.Action.choices,
            "circles": Circle.objects.order_by("name").only("name", "slug"),
            "urgent": selectors.urgent_waiting(request.user),
            "site_moderator": True,
            "active": "audit",
        },
    )


@login_required
def reveal(request, membership_id):
    if not _allowed(request, Action.REVEAL_IDENTITY):
        return _not_for_you(request, Action.REVEAL_IDENTITY)
    membership = get_object_or_404(Membership.objects.select_related("circle"), pk=membership_id)
    form = RevealForm(request.POST or None)
    handle = None
    if request.method == "POST" and form.is_valid():
        handle = services.reveal_identity(
            user=request.user, membership_id=membership.pk, reason=form.cleaned_data["reason"]
        )
    return render(request, "moderation/reveal.html", {"membership": membership, "form": form, "handle": handle})


@login_required
def my_reports(request):
    """The reports this member made and whether each is decided (their own page)."""
    check(request.user, Action.OWN_ACCOUNT)
    return render(request, "account/reports.html", {"reports": selectors.my_reports(request.user)})
