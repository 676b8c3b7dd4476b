"""The decisions a reviewer may take on a queue item, and which permission each
needs (``community.permissions``: facilitators may remove, mute, dismiss and
check in; approving, warning and banning are for moderators)."""

from community.models import Circle
from community.permissions import Action, can, check

from .models import Flag

R = Flag.Resolution

# In the order the decision list offers them.
DECISION_LABELS: dict[str, str] = {
    R.APPROVE: "Approve: publish / keep the message",
    R.CHECKED_IN: "I checked in with them: nothing more needed",
    R.DISMISS: "Dismiss: nothing wrong",
    R.REMOVE: "Remove the message",
    R.WARN: "Remove and warn the member privately",
    R.MUTE: "Remove and mute the member",
    R.BAN: "Remove and ban from the circle",
}

DECISION_NEEDS: dict[str, Action] = {
    R.APPROVE: Action.REVIEW,
    R.CHECKED_IN: Action.CHECK_IN,
    R.DISMISS: Action.DISMISS,
    R.REMOVE: Action.REMOVE_MESSAGE,
    R.WARN: Action.WARN,
    R.MUTE: Action.MUTE,
    R.BAN: Action.BAN,
}


def _where(action: Action, circle: Circle | None) -> tuple[Action, Circle | None]:
    """``action`` in ``circle``; but a case about the site-wide library (no
    circle) is the site moderators' alone (``CURATE_LIBRARY``), whatever it asks."""
    return (Action.CURATE_LIBRARY, None) if circle is None else (action, circle)


def check_review(user, circle) -> None:
    """Raise unless ``user`` may see (and acknowledge) the cases of ``circle``."""
    check(user, *_where(Action.VIEW_QUEUE, circle))


def may_review(user, circle) -> bool:
    return can(user, *_where(Action.VIEW_QUEUE, circle))


def check_decision(user, decision: str, circle) -> None:
    """Raise unless ``user`` may take ``decision`` on a case in ``circle``."""
    check(user, *_where(DECISION_NEEDS[decision], circle))


def may_decide(user, decision: str, circle, membership) -> bool:
    """``check_decision`` as a bool, with the user's membership of ``circle``
    already looked up (the queue page asks for every item)."""
    return can(user, *_where(DECISION_NEEDS[decision], circle), membership)
