"""The member's private pages: the journal (timeline, entries, voice notes,
export, erase) and their filled-in worksheets.  Every page reads the signed-in
member's own rows only; any other id is a 404 (never a 403)."""

from __future__ import annotations

import contextlib

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from community.permissions import check_owner
from core.errors import DomainError, ErrorCode

from .. import schedule_links, selectors
from ..forms import EntryForm, EraseForm, SheetForm, place_errors
from ..models import Kind
from . import export, journal, voice, worksheets

PRIVATE = "private, no-store"
# Room for the entry's other fields beside the recording.
UPLOAD_OVERHEAD = 256 * 1024


def _private(response: HttpResponseBase) -> HttpResponseBase:
    response["Cache-Control"] = PRIVATE
    return response


def _link_options(user):
    sheets = [(s.pk, f"{s.title} · {timezone.localtime(s.created_at):%d %b %Y}") for s in worksheets.mine(user)[:50]]
    sessions = [(s.id, s.label) for s in schedule_links.upcoming_sessions(selectors.my_circle_ids(user))]
    dates = [(d.id, d.label) for d in schedule_links.treatment_dates(user)]
    return sheets, sessions, dates


@login_required
def timeline(request):
    """The journal's timeline, newest first, by month, with the member's
    worksheets beside it."""
    tag = (request.GET.get("tag") or "").strip().lower()[:30]
    entries = journal.timeline(request.user, tag=tag)
    return _private(
        render(
            request,
            "library/journal.html",
            {
                "months": journal.by_month(entries),
                "count": len(entries),
                "tag": tag,
                "tags": journal.all_tags(request.user),
                "sheets": worksheets.mine(request.user),
            },
        )
    )


def _entry_input(form: EntryForm, upload) -> journal.EntryInput:
    data = form.cleaned_data
    return journal.EntryInput(
        body=data.get("body") or "",
        tags=data.get("tags") or "",
        worksheet=data.get("worksheet"),
        occurrence=data.get("occurrence"),
        treatment_date=data.get("treatment_date"),
        voice=upload.read() if upload is not None else None,
        voice_seconds=data.get("voice_seconds"),
        drop_voice=bool(data.get("drop_voice")),
    )


def _entry_form_page(request, entry=None):
    sheets, sessions, dates = _link_options(request.user)
    initial = {}
    if entry is not None:
        initial = {
            "body": entry.body,
            "tags": ", ".join(entry.tags),
            "worksheet": entry.worksheet_id,
            "occurrence": entry.occurrence_id,
            "treatment_date": entry.treatment_date_id,
        }
    elif request.GET.get("worksheet", "").isdigit():
        initial["worksheet"] = int(request.GET["worksheet"])
    too_large = int(request.META.get("CONTENT_LENGTH") or 0) > settings.VOICE_NOTE_MAX_BYTES + UPLOAD_OVERHEAD
    if request.method == "POST" and too_large:
        # Refused before a byte of it is read.
        form = EntryForm({}, initial=initial, worksheets=sheets, sessions=sessions, dates=dates)
        form.is_valid()
        form.add_error("voice", _too_large_message())
        return _entry_form_render(request, form, entry, status=413)
    bound = request.method == "POST"
    form = EntryForm(
        request.POST if bound else None,
        request.FILES if bound else None,
        initial=initial,
        worksheets=sheets,
        sessions=sessions,
        dates=dates,
    )
    if request.method == "POST":
        handler = request.upload_handlers[0] if request.upload_handlers else None
        if getattr(handler, "too_large", False):
            form.is_valid()
            form.add_error("voice", _too_large_message())
            return _entry_form_render(request, form, entry, status=413)
        if form.is_valid():
            try:
                saved = journal.save_entry(
                    request.user,
                    _entry_input(form, request.FILES.get("voice")),
                    pk=entry.pk if entry is not None else None,
                )
            except DomainError as err:
                if err.code == ErrorCode.NOT_FOUND and not err.extra.get("field"):
                    raise
                place_errors(form, err)
                if err.code == ErrorCode.TOO_LARGE and err.extra.get("field") == "voice":
                    return _entry_form_render(request, form, entry, status=413)
            else:
                messages.success(request, "Saved in your journal. Only you can read it.")
                if saved.care:
                    return _private(
                        render(
                            request,
                            "library/entry.html",
                            {"entry": saved.entry, "care": saved.care, "crisis_resources": settings.CRISIS_RESOURCES},
                        )
                    )
                return redirect("library:entry", pk=saved.entry.pk)
        return _entry_form_render(request, form, entry, status=400)
    return _entry_form_render(request, form, entry)


def _too_large_message() -> str:
    limit = settings.VOICE_NOTE_MAX_BYTES // (1024 * 1024) or 1
    minutes = settings.VOICE_NOTE_MAX_SECONDS // 60
    return f"Voice notes can be at most {limit} MiB (about {minutes} minutes). Nothing was saved."


def _entry_form_render(request, form, entry, status: int = 200):
    return _private(
        render(
            request,
            "library/entry_form.html",
            {
                "form": form,
                "entry": entry,
                "max_seconds": settings.VOICE_NOTE_MAX_SECONDS,
                "max_bytes": settings.VOICE_NOTE_MAX_BYTES,
            },
            status=status,
        )
    )


@csrf_exempt  # checked inside, once the bounded upload handler is in place
@login_required
def entry_new(request):
    request.upload_handlers = [voice.BoundedUploadHandler(request)]
    return _protected_new(request)


@csrf_protect
def _protected_new(request):
    return _entry_form_page(request)


@csrf_exempt  # checked inside, once the bounded upload handler is in place
@login_required
def entry_edit(request, pk: int):
    request.upload_handlers = [voice.BoundedUploadHandler(request)]
    return _protected_edit(request, pk)


@csrf_protect
def _protected_edit(request, pk: int):
    return _entry_form_page(request, journal.own_entry(request.user, pk))


@login_required
def entry(request, pk: int):
    item = journal.own_entry(request.user, pk)
    session = schedule_links.session(item.occurrence_id)
    day = schedule_links.treatment_date(request.user, item.treatment_date_id)
    return _private(render(request, "library/entry.html", {"entry": item, "session": session, "day": day}))


@login_required
@require_POST
def entry_delete(request, pk: int):
    journal.delete_entry(request.user, pk)
    messages.success(request, "The entry is deleted.")
    return redirect("library:journal")


@login_required
def voice_file(request, pk: int):
    """The voice note of the member's entry ``pk``: theirs alone (404 for anyone
    else), never cached, shown inline only as audio."""
    note = journal.voice_note(request.user, pk)
    try:
        handle = voice.path_of(note.storage_name).open("rb")
    except (FileNotFoundError, ValueError):
        raise DomainError(ErrorCode.NOT_FOUND, "There is nothing here.") from None
    response = FileResponse(handle, content_type=note.content_type)
    ext = voice.EXTENSIONS.get(note.content_type, "bin")
    disposition = "inline" if note.content_type.startswith("audio/") else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="voice-note-{pk}.{ext}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return _private(response)


@login_required
@require_POST
def voice_delete(request, pk: int):
    journal.delete_voice(request.user, pk)
    messages.success(request, "The voice note is deleted.")
    with contextlib.suppress(DomainError):
        journal.own_entry(request.user, pk)
        return redirect("library:entry", pk=pk)
    return redirect("library:journal")


@login_required
def export_zip(request):
    """Everything in the member's journal and worksheets: Markdown, JSON and the audio files."""
    check_owner(request.user, request.user.pk)
    stamp = timezone.localdate().isoformat()
    response = FileResponse(
        export.zip_file(request.user),
        as_attachment=True,
        filename=f"my-integration-journal-{stamp}.zip",
        content_type="application/zip",
    )
    return _private(response)


@login_required
def erase(request):
    form = EraseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        count = journal.erase_all(request.user)
        messages.success(request, f"Deleted: your journal and worksheets are empty ({count} items).")
        return redirect("library:journal")
    status = 400 if request.method == "POST" else 200
    return _private(render(request, "library/erase.html", {"form": form}, status=status))


# --- worksheets ------------------------------------------------------------------


@login_required
def sheet_fill(request, pk: int):
    """Fill in worksheet resource ``pk``: a new private copy."""
    resource = selectors.access_resource(request.user, pk)
    if resource.kind != Kind.WORKSHEET:
        raise DomainError(ErrorCode.NOT_FOUND, "That is not a worksheet in the library.")
    prompts = [p.text for p in resource.prompts.all()]
    _sheets, sessions, dates = _link_options(request.user)
    form = SheetForm(request.POST or None, prompts=prompts, sessions=sessions, dates=dates)
    if request.method == "POST" and form.is_valid():
        data = worksheets.SheetInput(
            form.answers(), form.cleaned_data.get("occurrence"), form.cleaned_data.get("treatment_date")
        )
        try:
            sheet = worksheets.fill(request.user, resource_id=pk, data=data)
        except DomainError as err:
            if err.code == ErrorCode.NOT_FOUND and not err.extra.get("field"):
                raise
            place_errors(form, err)
        else:
            messages.success(request, "Kept privately beside your journal. Only you can read it.")
            return redirect("library:sheet", pk=sheet.pk)
    status = 400 if request.method == "POST" else 200
    return _private(
        render(request, "library/sheet_form.html", {"form": form, "resource": resource, "sheet": None}, status=status)
    )


@login_required
def sheet(request, pk: int):
    """One of the member's filled-in worksheets; editable in place."""
    item = worksheets.own_sheet(request.user, pk)
    prompts = [a.get("prompt", "") for a in item.answers]
    answers = [a.get("answer", "") for a in item.answers]
    _sheets, sessions, dates = _link_options(request.user)
    initial = {"occurrence": item.occurrence_id, "treatment_date": item.treatment_date_id}
    form = SheetForm(
        request.POST or None, prompts=prompts, answers=answers, sessions=sessions, dates=dates, initial=initial
    )
    editing = request.method == "POST" or request.GET.get("edit") == "1"
    if request.method == "POST" and form.is_valid():
        data = worksheets.SheetInput(
            form.answers(), form.cleaned_data.get("occurrence"), form.cleaned_data.get("treatment_date")
        )
        try:
            worksheets.update(request.user, pk, data)
        except DomainError as err:
            place_errors(form, err)
        else:
            messages.success(request, "Saved.")
            return redirect("library:sheet", pk=pk)
    status = 400 if request.method == "POST" else 200
    context = {
        "sheet": item,
        "form": form,
        "editing": editing,
        "session": schedule_links.session(item.occurrence_id),
        "day": schedule_links.treatment_date(request.user, item.treatment_date_id),
        "entries": [e for e in journal.timeline(request.user) if e.worksheet_id == item.pk][:20],
    }
    return _private(render(request, "library/sheet.html", context, status=status))


@login_required
@require_POST
def sheet_delete(request, pk: int):
    worksheets.delete(request.user, pk)
    messages.success(request, "The worksheet is deleted.")
    return redirect("library:journal")
