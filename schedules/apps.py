from django.apps import AppConfig


class SchedulesConfig(AppConfig):
    name = "schedules"
    verbose_name = "Scheduled sessions"

    def ready(self) -> None:
        from community import memberdata

        from .memberdata import export_schedule

        memberdata.register("schedule", export=export_schedule)  # rows go with the account (CASCADE)
