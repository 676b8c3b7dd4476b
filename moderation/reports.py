"""Member reports: several reports of one message become one queue item."""

from django.conf import settings
from django.db import IntegrityError, transaction

from community.models import Membership
from core.errors import DomainError, ErrorCode
from realtime import publish
from realtime.events import QueueChanged

from . import content
from .models import Flag, Report

REOPEN_FIELDS = ("status", "handled_at", "handled_by", "resolution")


def reopen(flag: Flag) -> None:
    """Put a decided item back in the queue (new reports, or an edit a rule caught)."""
    flag.status, flag.handled_at, flag.handled_by, flag.resolution = Flag.Status.OPEN, None, None, ""


def file_report(*, reporter: Membership, message, reason: str) -> Flag:
    """Record ``reporter``'s report of ``message`` in the review queue.

    One open ``Flag`` per message carries the report count.  Reports from
    ``settings.REPORTS_TO_HIDE`` distinct members hide the message for everyone
    until a moderator decides (broadcast as ``room.edited`` with ``hidden``).
    The author is never told who reported; the moderators' queue pages are told
    an item changed (on commit).  Refusals: ALREADY_REPORTED, and
    FORBIDDEN for one's own message.
    """
    if message.author_id == reporter.pk:
        raise DomainError(ErrorCode.FORBIDDEN, "You cannot report your own message.")
    if not reason:
        raise DomainError(ErrorCode.BAD_FRAME, "Please say briefly why you are reporting this message.")
    try:  # two first reports at once: one creates the flag, the other finds it
        with transaction.atomic():
            Flag.objects.get_or_create(
                message=message, defaults={"circle_id": message.circle_id, "source": Flag.Source.REPORT}
            )
    except IntegrityError:
        pass
    try:
        with transaction.atomic():
            flag = Flag.objects.select_for_update().get(message=message)
            Report.objects.create(flag=flag, reporter=reporter, reason=reason[:500])
            flag.report_count = flag.reports.count()
            if flag.status == Flag.Status.RESOLVED:
                reopen(flag)
            flag.save(update_fields=["report_count", *REOPEN_FIELDS])
            messages = content.messages()
            if flag.report_count >= settings.REPORTS_TO_HIDE and not messages.is_hidden(message):
                messages.set_hidden(message, hidden=True)
            # Queue pages refresh themselves (the moderators' socket).
            publish.to_staff(QueueChanged(change="reported", flag=flag.pk, urgent=flag.urgent))
    except IntegrityError:
        raise DomainError(ErrorCode.ALREADY_REPORTED, "You have already reported this message. Thank you.") from None
    flag.refresh_from_db()
    return flag
