from django.apps import AppConfig


class ModerationConfig(AppConfig):
    name = "moderation"
    verbose_name = "Moderation"

    def ready(self) -> None:
        from community import memberdata

        from .selectors import reports_filed_by

        memberdata.register("reports", export=reports_filed_by)
