from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = "Live rooms"

    def ready(self) -> None:
        from moderation import content

        from . import checks  # noqa: F401  (registers the system checks)
        from .content import MessageActions

        content.register("message", MessageActions())
