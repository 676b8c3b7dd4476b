from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = "Live rooms"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
