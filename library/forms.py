"""The library's forms: plain Django forms whose checks are the services'
(``library.text`` via ``library.resources`` and ``library.private``); a
refusal lands on the field it names."""

from __future__ import annotations

from django import forms
from django.conf import settings

from core.errors import DomainError

from . import text
from .models import PRACTICES, Kind, Phase

SITE = "site"


def kind_choices(*, blank: str = "") -> list:
    """Kinds for a select, the integration practices as one group."""
    practices = [(k.value, k.label) for k in PRACTICES]
    others = [(k.value, k.label) for k in Kind if k not in PRACTICES]
    choices: list = [("", blank)] if blank else []
    return [*choices, *others[:3], ("Integration practices", practices), *others[3:]]


def place_errors(form: forms.Form, err: DomainError, default: str = "__all__") -> None:
    """Put a service's refusal on the field it names (else on the form)."""
    name = str(err.extra.get("field") or "")
    form.add_error(name if name in form.fields else None if default == "__all__" else default, err.message)


class _AnyPlace(forms.ChoiceField):
    """The places offered are the ones the member may use, but any slug is
    passed on: the service answers a circle they are not in (NOT_MEMBER)."""

    def valid_value(self, value) -> bool:
        return bool(value)


class ResourceForm(forms.Form):
    circle = _AnyPlace(label="Where", help_text="A circle's library, or the site-wide library.")
    title = forms.CharField(label="Title", max_length=text.TITLE_MAX * 2)
    kind = forms.ChoiceField(label="Kind", choices=kind_choices(blank="Choose a kind…"))
    phase = forms.ChoiceField(label="For which phase", choices=[("", "Choose a phase…"), *Phase.choices])
    body = forms.CharField(
        label="Description",
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=text.BODY_MAX * 2,
        help_text="**bold**, *italic*, lists and https:// links work. No images.",
    )
    link = forms.CharField(
        label="Link (optional)",
        required=False,
        max_length=text.LINK_MAX * 2,
        widget=forms.URLInput(attrs={"inputmode": "url", "placeholder": "https://"}),
        help_text="An https:// page where people can find it. Crisis lines: the line's own page.",
    )
    mood = forms.CharField(
        label="Mood and when to use it (playlists)",
        required=False,
        max_length=text.MOOD_MAX * 2,
        help_text="e.g. “Slow, wordless soundscapes for the hour before a session.”",
    )
    tracks = forms.CharField(
        label="Tracks (playlists)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        help_text="One track a line: title | artist | length | link (the link is optional). "
        "Example: Low tide | Any ambient artist | 6:30. No audio is uploaded.",
    )
    prompts = forms.CharField(
        label="Prompts (worksheets and journaling prompts)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="One prompt a line.",
    )

    def __init__(self, *args, places: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self._choose("circle", places)

    def _choose(self, name: str, choices: list) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - declared above
        field.choices = choices


class FilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=200)
    kind = forms.ChoiceField(label="Kind", required=False)
    phase = forms.ChoiceField(label="Phase", required=False, choices=[("", "Every phase"), *Phase.choices])
    circle = forms.ChoiceField(label="Library", required=False)

    def __init__(self, *args, places: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        kinds = [
            ("", "Every kind"),
            *[(k.value, k.label) for k in Kind if k not in PRACTICES],
            ("practice", "All integration practices"),
            *[(k.value, f"— {k.label}") for k in PRACTICES],
        ]
        for name, choices in (("kind", kinds), ("circle", [("", "Everything I can read"), *places])):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)  # noqa: S101 - declared above
            field.choices = choices


def _optional_choice(label: str, options: list[tuple[int, str]]) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "—"), *options],
    )


class EntryForm(forms.Form):
    body = forms.CharField(
        label="What is with you today?",
        required=False,
        widget=forms.Textarea(attrs={"rows": 10}),
        max_length=text.JOURNAL_MAX * 2,
        help_text="**bold**, *italic* and lists work.",
    )
    tags = forms.CharField(
        label="Tags (optional)",
        required=False,
        max_length=400,
        help_text="Separated by commas, e.g. gratitude, body, dream.",
    )
    voice_seconds = forms.IntegerField(required=False, min_value=0, max_value=24 * 3600, widget=forms.HiddenInput)
    drop_voice = forms.BooleanField(label="Delete the voice note", required=False)
    voice = forms.FileField(
        label="Or upload a recording",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "audio/*"}),
        help_text="",
    )

    def __init__(self, *args, worksheets, sessions, dates, **kwargs):
        super().__init__(*args, **kwargs)
        limit = settings.VOICE_NOTE_MAX_BYTES // (1024 * 1024)
        self.fields["voice"].help_text = (
            f"WebM, Ogg, MP4/M4A, MP3 or WAV, up to {limit} MiB (about "
            f"{settings.VOICE_NOTE_MAX_SECONDS // 60} minutes). Only you can play it."
        )
        if worksheets:
            self.fields["worksheet"] = _optional_choice("Beside one of my worksheets", worksheets)
        if sessions:
            self.fields["occurrence"] = _optional_choice("About a group session", sessions)
        if dates:
            self.fields["treatment_date"] = _optional_choice("About a treatment day", dates)
        # The recording comes last in the request, after every other field.
        self.order_fields(
            ["body", "tags", "worksheet", "occurrence", "treatment_date", "drop_voice", "voice_seconds", "voice"]
        )


class SheetForm(forms.Form):
    def __init__(self, *args, prompts: list[str], answers: list[str] | None = None, sessions, dates, **kwargs):
        super().__init__(*args, **kwargs)
        answers = answers or []
        for n, prompt in enumerate(prompts, 1):
            self.fields[f"answer-{n}"] = forms.CharField(
                label=prompt,
                required=False,
                max_length=text.ANSWER_MAX * 2,
                initial=answers[n - 1] if n - 1 < len(answers) else "",
                widget=forms.Textarea(attrs={"rows": 4}),
            )
        self.prompt_count = len(prompts)
        if sessions:
            self.fields["occurrence"] = _optional_choice("For a group session", sessions)
        if dates:
            self.fields["treatment_date"] = _optional_choice("For a treatment day", dates)

    def answers(self) -> list[str]:
        return [self.cleaned_data.get(f"answer-{n}", "") or "" for n in range(1, self.prompt_count + 1)]


class RemoveForm(forms.Form):
    reason = forms.CharField(
        label="Why (kept in the audit log)", required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class EraseForm(forms.Form):
    confirm = forms.BooleanField(
        label="Yes, delete every journal entry, voice note and worksheet of mine. This cannot be undone."
    )
