"""Forms of the account and circle pages.  Each field's error is shown beside it and
named by the field's ``aria-describedby`` (Django 5.2 links ``<id>_error``, the id
``registration/_form.html`` gives the error text)."""

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm

from core.errors import DomainError

from . import services, throttle


class SignUpForm(forms.Form):
    # No max_length: a browser would silently cut a longer handle at the limit;
    # validate_handle refuses it instead, and says so.
    handle = forms.CharField(
        label="Handle",
        error_messages={"required": "Please choose a handle."},
        help_text=f"{services.HANDLE_RULE} Only used to log in: nobody in a circle sees it, "
        "there you have a generated alias.",
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}),
    )
    password = forms.CharField(
        label="Password",
        error_messages={"required": "Please choose a password."},
        help_text="At least 10 characters, not a common password. Keep it somewhere safe.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_again = forms.CharField(
        label="Password again",
        error_messages={"required": "Please type the password a second time."},
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_handle(self):
        try:
            return services.validate_handle(self.cleaned_data["handle"])
        except DomainError as err:
            raise forms.ValidationError(err.message, code=err.code.value) from None

    def clean(self):
        data = super().clean() or {}
        if data.get("password") and data.get("password_again") and data["password"] != data["password_again"]:
            self.add_error("password_again", "The two passwords are not the same.")
        return data

    def save(self):
        """Create the account, mapping refusals onto the form's fields."""
        try:
            return services.register_user(handle=self.cleaned_data["handle"], password=self.cleaned_data["password"])
        except DomainError as err:
            self.add_error("handle", forms.ValidationError(err.message, code=err.code.value))
        except forms.ValidationError as err:
            self.add_error("password", err)
        return None


class ThrottledAuthenticationForm(AuthenticationForm):
    """Django's log-in form, in our words ("handle"), refusing a handle after
    repeated failures, with "stay signed in"."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That handle and password do not match. Check both, letter by letter "
        "(capital letters count in the password).",
    }
    stay_signed_in = forms.BooleanField(
        label=f"Stay signed in on this device for {settings.STAY_SIGNED_IN_DAYS} days",
        required=False,
        help_text=f"Leave this unticked on a shared device: you are signed out after "
        f"{settings.SESSION_COOKIE_AGE // 3600} hours.",
    )

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = "Handle"
        self.fields["username"].error_messages["required"] = "Please type your handle."
        self.fields["password"].error_messages["required"] = "Please type your password."
        self.fields["username"].widget.attrs.update(autocapitalize="none", spellcheck="false")
        # The handle rule is checked at sign-up; at log-in a long handle is simply
        # not one that exists, so the browser must not cut it either.
        username = self.fields["username"]
        assert isinstance(username, forms.CharField)  # noqa: S101 -- Django's UsernameField
        username.max_length = None
        username.widget.attrs.pop("maxlength", None)

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


class RecoveryForm(forms.Form):
    handle = forms.CharField(
        label="Handle",
        error_messages={"required": "Please type your handle."},
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}),
    )
    code = forms.CharField(
        label="One recovery code",
        max_length=40,
        error_messages={"required": "Please type one of your recovery codes."},
        help_text="For example K7QM-XR4T-9PWD-HN2C. Capitals, spaces and dashes do not matter. Each code works once.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autocapitalize": "characters"}),
    )
    new_password = forms.CharField(
        label="New password",
        error_messages={"required": "Please choose a new password."},
        help_text="At least 10 characters.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password_again = forms.CharField(
        label="New password again",
        error_messages={"required": "Please type the new password a second time."},
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean() or {}
        again = data.get("new_password_again")
        if data.get("new_password") and again and data["new_password"] != again:
            self.add_error("new_password_again", "The two passwords are not the same.")
        return data


class PasswordConfirmForm(forms.Form):
    """Your current password, to confirm a change to the account's security."""

    password = forms.CharField(
        label="Your password, to confirm",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class AccountPasswordChangeForm(PasswordChangeForm):
    """Django's password change, labelled for people."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = "Your current password"
        self.fields["new_password1"].label = "New password"
        self.fields["new_password1"].help_text = "At least 10 characters, not a common password."
        self.fields["new_password2"].label = "New password again"


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
