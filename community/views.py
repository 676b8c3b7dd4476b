"""Pages for accounts and circles.  Thin: parse the form, call a service, render."""

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

from . import memberdata, selectors, services, throttle, unread
from .forms import DeleteAccountForm, JoinForm, SignUpForm
from .permissions import Action, can, membership_for


class ThrottledLoginView(LoginView):
    """Django's log-in view; a throttled handle answers 429, other failures 400."""

    def form_invalid(self, form):
        response = super().form_invalid(form)
        throttled = any(e.code == ErrorCode.LOGIN_THROTTLED for e in form.errors.as_data().get("__all__", []))
        response.status_code = 429 if throttled else 400
        return response


def signup(request):
    if request.user.is_authenticated:
        return redirect("community:directory")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        if user is not None:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, "Welcome. Choose a circle to join.")
            return redirect("community:directory")
    status = 400 if request.method == "POST" else 200
    return render(request, "registration/signup.html", {"form": form}, status=status)


@login_required
def delete_account(request):
    form = DeleteAccountForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = request.user
        logout(request)
        services.delete_account(user=user, erase_messages=form.cleaned_data["erase_messages"])
        messages.success(request, "Your account is deleted.")
        return redirect("community:directory")
    status = 400 if request.method == "POST" else 200
    return render(request, "registration/delete_account.html", {"form": form}, status=status)


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
    """Django's password change, and every socket the account has open elsewhere
    closes at once (this browser's pages reconnect with the renewed session)."""

    def form_valid(self, form):
        response = super().form_valid(form)
        services.end_access(user=form.user, why="password_changed")
        return response


@login_required
def export_my_data(request):
    """Everything held about the member, as a JSON download (theirs alone)."""
    data = memberdata.export(request.user)
    response = JsonResponse(data, json_dumps_params={"indent": 2, "ensure_ascii": False})
    stamp = timezone.now().strftime("%Y-%m-%d")
    response["Content-Disposition"] = f'attachment; filename="integration-circles-my-data-{stamp}.json"'
    return response
