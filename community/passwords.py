"""Password rules in our words: the account has a handle, not a "username"."""

from django.contrib.auth.password_validation import UserAttributeSimilarityValidator


class HandleSimilarityValidator(UserAttributeSimilarityValidator):
    """Django's similarity check, speaking of the handle."""

    def get_error_message(self) -> str:
        return "The password is too similar to your handle. Please choose something less like it."

    def get_help_text(self) -> str:
        return "Your password must not be too similar to your handle."
