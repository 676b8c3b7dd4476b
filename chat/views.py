"""The room's one page action outside the socket: a facilitator shares a library
resource into the live room from the circle page (the ``share`` frame's twin,
for a page without the room's script).  Thin: one service call."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from core.errors import DomainError

from . import services

_SAID = {
    "published": "Shared in the live room.",
    "redacted": "Shared in the live room (part of it was removed by a rule).",
    "held": "Your share is waiting for a moderator before it shows in the room.",
    "blocked": "That could not be shared in the room.",
}


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@login_required
@require_POST
def share(request, slug):
    """Share resource ``resource`` (POST) into circle ``slug``'s live room, pinned
    with ``pin``.  ``client_id`` makes a repeated submit one message."""
    client_id = (request.POST.get("client_id") or "").strip()[:64] or uuid.uuid4().hex
    try:
        resource_id = int(request.POST.get("resource", ""))
    except ValueError:
        resource_id = 0
    try:
        ctx = services.open_room(user=request.user, slug=slug)
        result = services.share_resource(
            ctx, client_id=client_id, resource_id=resource_id, pin=request.POST.get("pin") == "on"
        )
    except DomainError as err:
        if _wants_json(request):
            return JsonResponse({"code": err.code.value, "message": err.message}, status=err.http_status)
        messages.error(request, err.message)
        return redirect("community:circle", slug=slug)
    said = result.reason or _SAID.get(result.verdict, _SAID["published"])
    if _wants_json(request):
        return JsonResponse({"id": result.id, "verdict": result.verdict, "message": said})
    (messages.error if result.verdict == "blocked" else messages.success)(request, said)
    return redirect("community:circle", slug=slug)
