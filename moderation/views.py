"""Moderator pages: the review queue, rules, the audit log, identity reveal."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from community.models import Membership
from community.permissions import Action, check, is_site_moderator
from core.errors import DomainError, ErrorCode

from . import selectors, services
from .forms import RevealForm, ReviewForm, RuleForm
from .models import AuditEntry, KeywordRule


def _require_queue_access(user):
    if not (is_site_moderator(user) or selectors.reviewable_circles(user).exists()):
        raise DomainError(ErrorCode.FORBIDDEN, "Only moderators can open the review queue.")


@login_required
def queue(request):
    _require_queue_access(request.user)
    items = selectors.review_queue(request.user)
    template = "moderation/_queue_items.html" if request.GET.get("fragment") else "moderation/queue.html"
    return render(request, template, {"items": items, "form": ReviewForm()})


@login_required
@require_POST
def review(request, flag_id):
    form = ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose an action and write a reason.")
        return redirect("moderation:queue")
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
    return redirect("moderation:queue")


@login_required
@require_POST
def acknowledge(request, flag_id):
    try:
        services.acknowledge_crisis(user=request.user, flag_id=flag_id)
    except DomainError as err:
        if err.code == ErrorCode.FORBIDDEN:
            raise
        messages.error(request, err.message)
        return redirect(_safe_next(request, "moderation:queue"))
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
    check(request.user, Action.MANAGE_RULES)
    return render(request, "moderation/rules.html", {"rows": selectors.rule_rows()})


@login_required
def rule_edit(request, rule_id=None):
    check(request.user, Action.MANAGE_RULES)
    rule = get_object_or_404(KeywordRule, pk=rule_id) if rule_id else None
    form = RuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in services.RULE_FIELDS}
        services.save_rule(user=request.user, rule=rule, **fields)
        messages.success(request, "Rule saved. Every room uses it within a few seconds.")
        return redirect("moderation:rules")
    status = 400 if request.method == "POST" else 200
    return render(request, "moderation/rule_form.html", {"form": form, "rule": rule}, status=status)


@login_required
def audit(request):
    check(request.user, Action.VIEW_AUDIT)
    filters = {k: request.GET.get(k, "") for k in ("action", "circle", "role")}
    page = Paginator(selectors.audit_log(**filters), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "moderation/audit.html",
        {"page": page, "filters": filters, "actions": AuditEntry.Action.choices},
    )


@login_required
def reveal(request, membership_id):
    check(request.user, Action.REVEAL_IDENTITY)
    membership = get_object_or_404(Membership.objects.select_related("circle"), pk=membership_id)
    form = RevealForm(request.POST or None)
    handle = None
    if request.method == "POST" and form.is_valid():
        handle = services.reveal_identity(
            user=request.user, membership_id=membership.pk, reason=form.cleaned_data["reason"]
        )
    return render(request, "moderation/reveal.html", {"membership": membership, "form": form, "handle": handle})
