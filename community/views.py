"""Pages for accounts and circles.  Thin: parse the form, call a service, render."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.errors import DomainError, ErrorCode

from . import accounts, auth, memberdata, notifications, selectors, services, throttle, unread
from .forms import (
    AccountPasswordChangeForm,
    DeleteAccountForm,
    JoinForm,
    PasswordConfirmForm,
    RecoveryForm,
    SignUpForm,
)
from .permissions import Action, can, check, membership_for


class ThrottledLoginView(LoginView):
    """Django's log-in view; a throttled handle answers 429, other failures 400.
    "Stay signed in" keeps the session STAY_SIGNED_IN_DAYS instead of
    SESSION_COOKIE_AGE."""

    def form_valid(self, form):
        response = super().form_valid(form)
        stay = bool(form.cleaned_data.get("stay_signed_in"))
        self.request.session.set_expiry(settings.STAY_SIGNED_IN_DAYS * 24 * 3600 if stay else None)
        accounts.track_session(user=form.get_user(), session_key=self.request.session.session_key, stay_signed_in=stay)
        return response

    def form_invalid(self, form):
        response = super().form_invalid(form)
        throttled = any(e.code == ErrorCode.LOGIN_THROTTLED for e in form.errors.as_data().get("__all__", []))
        response.status_code = 429 if throttled else 400
        return response


def _typed_a_password(request, *fields: str) -> bool:
    """A refused form had a password typed in: the page says why it is empty now."""
    return request.method == "POST" and any(request.POST.get(name) for name in fields)


def _show_codes(request, codes: list[str], *, first_time: bool):
    """The one page that shows recovery codes in clear: rendered in the response to
    the request that made them (never stored, never redirected to)."""
    return render(
        request,
        "account/recovery_codes.html",
        {"codes": codes, "first_time": first_time, "count": len(codes)},
    )


def signup(request):
    if request.user.is_authenticated:
        return redirect("community:directory")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        if user is not None:
            login(request, user, backend=auth.BACKEND)
            return _show_codes(request, accounts.issue_recovery_codes(user=user), first_time=True)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "registration/signup.html",
        {"form": form, "password_not_kept": _typed_a_password(request, "password", "password_again")},
        status=status,
    )


@login_required
def delete_account(request):
    check(request.user, Action.OWN_ACCOUNT)
    form = DeleteAccountForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = request.user
        logout(request)
        services.delete_account(user=user, erase_messages=form.cleaned_data["erase_messages"])
        messages.success(request, "Your account is deleted.")
        return redirect("community:directory")
    status = 400 if request.method == "POST" else 200
    return render(request, "registration/delete_account.html", {"form": form}, status=status)


# --- the account page ---------------------------------------------------------------


@login_required
def account(request):
    """Everything about the member's own account, in one calm page."""
    check(request.user, Action.OWN_ACCOUNT)
    return render(
        request,
        "account/account.html",
        {
            "memberships": selectors.memberships_of(request.user),
            "codes": accounts.recovery_codes_state(request.user),
            "code_count": accounts.RECOVERY_CODE_COUNT,
            "sessions": accounts.sessions_of(request.user, current=request.session.session_key),
            "stay_days": settings.STAY_SIGNED_IN_DAYS,
        },
    )


@login_required
def recovery_codes(request):
    """Make a new set of recovery codes (the password first); shown once."""
    check(request.user, Action.OWN_ACCOUNT)
    form = PasswordConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = accounts.issue_recovery_codes_with_password(
                user=request.user, password=form.cleaned_data["password"]
            )
        except DomainError as err:
            form.add_error("password", forms.ValidationError(err.message, code=err.code.value))
        else:
            return _show_codes(request, codes, first_time=False)
    status = 400 if form.is_bound else 200
    context = {"form": form, "codes": accounts.recovery_codes_state(request.user)}
    context["code_count"] = accounts.RECOVERY_CODE_COUNT
    return render(request, "account/new_codes.html", context, status=status)


@login_required
@require_POST
def recovery_codes_saved(request):
    """The "I have saved them" step after the codes were shown."""
    check(request.user, Action.OWN_ACCOUNT)
    accounts.mark_codes_saved(user=request.user)
    if request.POST.get("first_time"):
        messages.success(request, "Welcome. Your account is ready: choose a circle to join.")
        return redirect("community:directory")
    messages.success(request, "Your new recovery codes are saved. The old ones no longer work.")
    return redirect("account")


def recover(request):
    """A forgotten password: handle + one recovery code -> a new password."""
    if request.user.is_authenticated:
        messages.info(request, "You are signed in: change your password here.")
        return redirect("password_change")
    form = RecoveryForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                user, left = accounts.recover_account(
                    handle=form.cleaned_data["handle"],
                    code=form.cleaned_data["code"],
                    new_password=form.cleaned_data["new_password"],
                    source=throttle.source_of(request),
                )
            except DomainError as err:
                form.add_error(None, forms.ValidationError(err.message, code=err.code.value))
                status = err.http_status
            except forms.ValidationError as err:
                form.add_error("new_password", err)
            else:
                login(request, user, backend=auth.BACKEND)
                messages.success(request, _recovered_message(left))
                return redirect("account")
    context = {"form": form, "password_not_kept": _typed_a_password(request, "new_password", "new_password_again")}
    return render(request, "registration/recover.html", context, status=status)


def _recovered_message(left: int) -> str:
    done = "Your new password is set and every other session is signed out."
    if left == 0:
        return f"{done} That was your last recovery code: please make new ones now, below."
    if left <= 2:
        return f"{done} You have {left} recovery code{'s' if left > 1 else ''} left: consider making new ones."
    return f"{done} You have {left} recovery codes left."


@login_required
@require_POST
def end_other_sessions(request):
    """Sign out everywhere else: every other session ends, its pages' sockets close."""
    check(request.user, Action.OWN_ACCOUNT)
    ended = accounts.end_sessions(user=request.user, keep=request.session.session_key)
    if ended:
        messages.success(request, f"Signed out on {ended} other session{'s' if ended != 1 else ''}. This one stays.")
    else:
        messages.info(request, "No other session was signed in. This one stays.")
    return redirect("account")


# --- notifications --------------------------------------------------------------------


@login_required
def notification_list(request):
    check(request.user, Action.OWN_ACCOUNT)
    notes = notifications.recent(request.user)
    unread = sum(1 for note in notes if note.read_at is None)
    return render(request, "account/notifications.html", {"notes": notes, "unread": unread})


@login_required
@require_POST
def notifications_read(request):
    """Mark one notification (``id``) or all of them read."""
    check(request.user, Action.OWN_ACCOUNT)
    raw = request.POST.get("id", "")
    if raw:
        if not raw.isdigit():
            raise DomainError(ErrorCode.NOT_FOUND, "That notification does not exist.")
        notifications.mark_read(user=request.user, ids=[int(raw)])
    else:
        count = notifications.mark_read(user=request.user)
        messages.success(request, "All caught up." if count else "Nothing was unread.")
    return redirect("notifications")


@login_required
@require_POST
def notification_open(request, note_id: int):
    """Mark the notification read and go where it points (a page of this site)."""
    check(request.user, Action.OWN_ACCOUNT)
    link = notifications.open_notification(user=request.user, note_id=note_id)
    return redirect(link or "notifications")


def directory(request):
    mine = selectors.my_memberships(request.user)
    new = unread.counts(request.user)
    rows = [(c, mine.get(c.pk), new.get(c.pk, 0)) for c in selectors.circle_directory(request.user)]
    return render(request, "community/directory.html", {"rows": rows})


def _help_resources() -> list[dict]:
    """The crisis lines (settings.CRISIS_RESOURCES) with their call and text
    links, for the circle page's "If you need someone now" block; only tel:,
    sms: and https: links are kept."""
    safe = ("tel:", "sms:", "https:")
    return [
        {**line, "links": [link for link in line.get("links", []) if str(link.get("href", "")).startswith(safe)]}
        for line in settings.CRISIS_RESOURCES
    ]


def _circle_context(request, circle, **extra):
    membership = membership_for(request.user, circle)
    active = membership if membership is not None and membership.is_active else None
    context = {
        "circle": circle,
        "membership": active,
        "banned": membership is not None and membership.banned,
        "join_form": JoinForm(),
        "can_join": can(request.user, Action.JOIN, circle, membership),
        "can_moderate_room": active is not None and can(request.user, Action.REMOVE_MESSAGE, circle, active),
        "full": circle.member_count >= circle.capacity,
        "edit_window": settings.CHAT_EDIT_WINDOW_SECONDS,
        "edit_minutes": settings.CHAT_EDIT_WINDOW_SECONDS // 60,
        "help_resources": _help_resources(),
    }
    context.update(extra)
    return context


@login_required
def circle_detail(request, slug):
    circle = selectors.access_circle(slug)
    return render(request, "community/circle.html", _circle_context(request, circle))


@login_required
@require_POST
def join(request, slug):
    circle = selectors.access_circle(slug)
    form = JoinForm(request.POST)
    form.is_valid()
    try:
        membership = services.join_circle(
            user=request.user,
            circle=circle,
            invite_code=form.cleaned_data.get("invite_code", ""),
            source=throttle.source_of(request),
        )
    except DomainError as err:
        context = _circle_context(request, circle, error=err, join_form=form)
        return render(request, "community/circle.html", context, status=err.http_status)
    messages.success(request, f"You joined {circle.name}. Here you are {membership.alias}.")
    return redirect(circle)


@login_required
@require_POST
def leave(request, slug):
    circle = selectors.access_circle(slug)
    try:
        services.leave_circle(user=request.user, circle=circle)
    except DomainError as err:
        return render(
            request, "community/circle.html", _circle_context(request, circle, error=err), status=err.http_status
        )
    messages.success(request, f"You left {circle.name}.")
    return redirect("community:directory")


@login_required
@require_POST
def reroll(request, slug):
    circle = selectors.access_circle(slug)
    try:
        membership = services.reroll_alias(user=request.user, circle=circle)
    except DomainError as err:
        return render(
            request, "community/circle.html", _circle_context(request, circle, error=err), status=err.http_status
        )
    messages.success(request, f"Your new alias is {membership.alias}.")
    return redirect(circle)


class PasswordChange(auth_views.PasswordChangeView):
    """Django's password change; every other session of the account ends and every
    socket the account has open closes at once (this browser's pages reconnect
    with the renewed session)."""

    form_class = AccountPasswordChangeForm

    def form_valid(self, form):
        stay = accounts.stays_signed_in(self.request.session.session_key)
        response = super().form_valid(form)  # the session gets a new key here
        key = self.request.session.session_key
        accounts.track_session(user=form.user, session_key=key, stay_signed_in=stay)
        accounts.end_sessions(user=form.user, keep=key, why="password_changed")
        return response


@login_required
def export_my_data(request):
    """Everything held about the member, as a JSON download (theirs alone)."""
    check(request.user, Action.OWN_ACCOUNT)
    data = memberdata.export(request.user)
    response = JsonResponse(data, json_dumps_params={"indent": 2, "ensure_ascii": False})
    stamp = timezone.now().strftime("%Y-%m-%d")
    response["Content-Disposition"] = f'attachment; filename="integration-circles-my-data-{stamp}.json"'
    return response
