"""A member's private copies of intention worksheets: filled in before a
session (linked to a session or a treatment date if they choose), looked back
on beside their journal.  Owner only; NOT_FOUND for anyone else."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from community.permissions import check_owner
from core.errors import DomainError, ErrorCode

from .. import schedule_links, selectors, text
from ..models import FilledWorksheet, Kind


@dataclass(frozen=True)
class SheetInput:
    answers: list[str]
    occurrence: int | None = None
    treatment_date: int | None = None


def mine(user) -> QuerySet[FilledWorksheet]:
    check_owner(user, getattr(user, "pk", None))
    return FilledWorksheet.objects.filter(user=user).order_by("-created_at", "-id")


def own_sheet(user, pk: int) -> FilledWorksheet:
    sheet = FilledWorksheet.objects.filter(pk=pk).first()
    check_owner(user, sheet.user_id if sheet is not None else None)
    assert sheet is not None  # noqa: S101 - check_owner refused a missing sheet
    return sheet


def _answers(prompts: list[str], answers: list[str]) -> list[dict[str, str]]:
    out = []
    for n, prompt in enumerate(prompts):
        raw = answers[n] if n < len(answers) else ""
        answer = text.body(
            raw, field=f"answer-{n + 1}", label=f"Answer {n + 1}", max_len=text.ANSWER_MAX, required=False
        )
        out.append({"prompt": prompt, "answer": answer})
    if not any(a["answer"] for a in out):
        raise DomainError(ErrorCode.EMPTY_BODY, "Answer at least one prompt.", field="answer-1")
    return out


def _links(user, data: SheetInput) -> tuple[int | None, int | None]:
    occurrence = treatment = None
    if data.occurrence is not None:
        session = schedule_links.session(data.occurrence)
        if session is None:
            raise DomainError(ErrorCode.NOT_FOUND, "That session is not on the schedule.", field="occurrence")
        occurrence = session.id
    if data.treatment_date is not None:
        found = schedule_links.treatment_date(user, data.treatment_date)
        if found is None:
            raise DomainError(ErrorCode.NOT_FOUND, "That treatment date is not one of yours.", field="treatment_date")
        treatment = found.id
    return occurrence, treatment


def fill(user, *, resource_id: int, data: SheetInput) -> FilledWorksheet:
    """A new private copy of worksheet ``resource_id`` with the member's answers."""
    check_owner(user, getattr(user, "pk", None))
    resource = selectors.access_resource(user, resource_id)
    if resource.kind != Kind.WORKSHEET or resource.status != resource.Status.PUBLISHED:
        raise DomainError(ErrorCode.NOT_FOUND, "That is not a worksheet in the library.")
    prompts = [p.text for p in resource.prompts.all()]
    answers = _answers(prompts, data.answers)
    occurrence, treatment = _links(user, data)
    now = timezone.now()
    with transaction.atomic():
        return FilledWorksheet.objects.create(
            user=user,
            resource=resource,
            title=resource.title,
            answers=answers,
            occurrence_id=occurrence,
            treatment_date_id=treatment,
            created_at=now,
            updated_at=now,
        )


def update(user, pk: int, data: SheetInput) -> FilledWorksheet:
    """Change the answers (and links) of one of the member's copies."""
    sheet = own_sheet(user, pk)
    prompts = [a.get("prompt", "") for a in sheet.answers]
    answers = _answers(prompts, data.answers)
    occurrence, treatment = _links(user, data)
    with transaction.atomic():
        sheet.answers, sheet.occurrence_id, sheet.treatment_date_id = answers, occurrence, treatment
        sheet.updated_at = timezone.now()
        sheet.save(update_fields=["answers", "occurrence_id", "treatment_date_id", "updated_at"])
    return sheet


def delete(user, pk: int) -> None:
    sheet = own_sheet(user, pk)
    with transaction.atomic():
        sheet.delete()
