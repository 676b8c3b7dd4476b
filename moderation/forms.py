from django import forms

from .decisions import DECISION_LABELS
from .models import KeywordRule
from .selectors import KINDS, MAX_SEARCH, STATUSES, QueueFilters

REVIEW_CHOICES = list(DECISION_LABELS.items())


class ReviewForm(forms.Form):
    action = forms.ChoiceField(choices=REVIEW_CHOICES)
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    minutes = forms.IntegerField(min_value=1, max_value=7 * 24 * 60, required=False, initial=30)


class QueueFilterForm(forms.Form):
    """The queue's filters and search (GET); an unknown value is simply ignored."""

    status = forms.ChoiceField(
        label="Show", choices=[("open", "Waiting"), ("decided", "Decided")], required=False, initial="open"
    )
    kind = forms.ChoiceField(label="Kind", choices=[("", "Any kind"), *KINDS.items()], required=False)
    category = forms.ChoiceField(
        label="Category", choices=[("", "Any category"), *KeywordRule.Category.choices], required=False
    )
    circle = forms.ChoiceField(label="Circle", choices=[("", "Every circle")], required=False)
    q = forms.CharField(
        label="Search messages and report reasons",
        required=False,
        max_length=MAX_SEARCH,
        widget=forms.TextInput(attrs={"type": "search", "enterkeyhint": "search"}),
    )

    def __init__(self, *args, circles=(), **kwargs):
        super().__init__(*args, **kwargs)
        circle = self.fields["circle"]
        assert isinstance(circle, forms.ChoiceField)  # noqa: S101 -- declared above
        circle.choices = [("", "Every circle"), *((c.slug, c.name) for c in circles)]

    def filters(self) -> QueueFilters:
        data = self.cleaned_data if self.is_valid() else {}
        status = data.get("status") or "open"
        return QueueFilters(
            status=status if status in STATUSES else "open",
            kind=data.get("kind", ""),
            category=data.get("category", ""),
            circle=data.get("circle", ""),
            q=(data.get("q") or "").strip(),
        )


class RuleForm(forms.ModelForm):
    class Meta:
        model = KeywordRule
        fields = ["pattern", "kind", "category", "action", "circle", "exempt", "enabled", "shadow", "note"]
        widgets = {
            "pattern": forms.TextInput(attrs={"autocapitalize": "none", "spellcheck": "false"}),
            "exempt": forms.Textarea(attrs={"rows": 3}),
            "note": forms.Textarea(attrs={"rows": 2, "maxlength": 300}),
        }
        labels = {
            "pattern": "Pattern",
            "exempt": "Exempt phrases",
            "enabled": "Switched on",
            "shadow": "Shadow mode",
            "note": "What this rule is for",
        }
        help_texts = {
            "pattern": "A word, a phrase, or a regular expression (see Kind). Matching ignores capitals, "
            "accents, look-alike letters and separators such as k.i.l.l.",
            "circle": "Every circle, or just one.",
            "exempt": "One per line: phrases that look like a match but are not (known false positives), "
            "such as “killed it at work”.",
            "shadow": "Record what the rule would match, without acting on it: a safe way to try a new rule.",
            "note": "One sentence for the next moderator: what it catches, and why.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        circle = self.fields["circle"]
        assert isinstance(circle, forms.ModelChoiceField)  # noqa: S101 -- the model's foreign key
        circle.empty_label = "Every circle"


class TryRuleForm(forms.Form):
    sample = forms.CharField(
        label="Sample text",
        required=False,
        max_length=4000,
        help_text="Write a message as a member might. Nothing is saved or sent.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class RevealForm(forms.Form):
    reason = forms.CharField(
        min_length=10,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why the handle is needed. This is written to the audit log.",
    )
