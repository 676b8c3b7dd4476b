from django import forms
from django.contrib.auth.forms import AuthenticationForm

from core.errors import DomainError

from . import services, throttle


class SignUpForm(forms.Form):
    handle = forms.CharField(
        label="Handle",
        max_length=services.HANDLE_MAX,
        help_text="Only used to log in. Nobody in a circle sees it: there you have a generated alias.",
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    password = forms.CharField(
        label="Password",
        help_text="At least 10 characters.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_again = forms.CharField(
        label="Password again", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        data = super().clean() or {}
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", "The two passwords are not the same.")
        return data

    def save(self):
        """Create the account, mapping refusals onto the form's fields."""
        try:
            return services.register_user(handle=self.cleaned_data["handle"], password=self.cleaned_data["password"])
        except DomainError as err:
            self.add_error("handle", err.message)
        except forms.ValidationError as err:
            self.add_error("password" if "password" in str(err).lower() else "handle", err)
        return None


class ThrottledAuthenticationForm(AuthenticationForm):
    """Django's log-in form, refusing a handle after repeated failures."""

    def clean(self):
        handle = self.cleaned_data.get("username") or ""
        source = throttle.source_of(self.request)
        try:
            throttle.check_login(handle=handle, source=source)
        except DomainError as err:
            raise forms.ValidationError(err.message, code=err.code.value) from None
        try:
            data = super().clean()
        except forms.ValidationError:
            throttle.login_failed(handle=handle, source=source)
            raise
        # Django's clean() skips authentication when the password is empty, so only
        # a user actually authenticated counts as a success.
        if self.get_user() is not None:
            throttle.login_succeeded(handle=handle, source=source)
        return data


class JoinForm(forms.Form):
    invite_code = forms.CharField(label="Invite code", max_length=40, required=False)


class DeleteAccountForm(forms.Form):
    password = forms.CharField(
        label="Your password, to confirm", widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    erase_messages = forms.BooleanField(
        label="Also erase everything I wrote in the circles",
        required=False,
        help_text="Your messages leave every room and their text is deleted. Left unticked, they stay "
        "under their alias so conversations still make sense; nothing links them to you.",
    )

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That password is not right.")
        return password
