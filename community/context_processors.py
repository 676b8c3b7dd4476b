"""What every page's header shows about the signed-in person (the unread count,
the review-queue link), read once per page, only when a template asks."""

from django.utils.functional import SimpleLazyObject

from . import selectors


def header(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"header": SimpleLazyObject(lambda: selectors.header_facts(user))}
