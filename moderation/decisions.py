"""The decisions a reviewer may take on a queue item, and which permission each
needs (``community.permissions``: facilitators may remove, mute, dismiss and
check in; approving, warning and banning are for moderators)."""

from community.permissions import Action

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
