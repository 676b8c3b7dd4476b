from django import forms

from .models import Flag, KeywordRule

REVIEW_CHOICES = [
    (Flag.Resolution.APPROVE, "Approve: publish / keep the message"),
    (Flag.Resolution.REMOVE, "Remove the message"),
    (Flag.Resolution.WARN, "Remove and warn the member privately"),
    (Flag.Resolution.MUTE, "Remove and mute the member"),
    (Flag.Resolution.BAN, "Remove and ban from the circle"),
    (Flag.Resolution.DISMISS, "Dismiss: nothing wrong"),
]


class ReviewForm(forms.Form):
    action = forms.ChoiceField(choices=REVIEW_CHOICES)
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    minutes = forms.IntegerField(min_value=1, max_value=7 * 24 * 60, required=False, initial=30)


class RuleForm(forms.ModelForm):
    class Meta:
        model = KeywordRule
        fields = ["pattern", "kind", "category", "action", "circle", "exempt", "enabled", "shadow", "note"]
        widgets = {"exempt": forms.Textarea(attrs={"rows": 3}), "note": forms.TextInput()}


class RevealForm(forms.Form):
    reason = forms.CharField(
        min_length=10,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why the handle is needed. This is written to the audit log.",
    )
