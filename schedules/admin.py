"""Series and occurrences in the admin.  The members' private tools (treatment
dates, check-ins, calendar tokens, settings) are never registered: only their
owner reads them."""

from django.contrib import admin

from .models import Occurrence, SessionSeries


@admin.register(SessionSeries)
class SessionSeriesAdmin(admin.ModelAdmin):
    list_display = ("title", "circle", "start_local", "time_zone", "rrule")
    list_filter = ("circle",)
    readonly_fields = ("rrule", "materialised_until", "created_by")

    def has_add_permission(self, request):
        return False  # made by schedules.services.create_series (validation, occurrences)


@admin.register(Occurrence)
class OccurrenceAdmin(admin.ModelAdmin):
    list_display = ("series", "circle", "start", "end", "cancelled", "opened_at", "closed_at")
    list_filter = ("circle", "cancelled")
    readonly_fields = (
        "series",
        "circle",
        "original_start",
        "opened_at",
        "closed_at",
        "reminded_at",
        "started_notice_at",
        "checkins_sent_at",
    )

    def has_add_permission(self, request):
        return False
