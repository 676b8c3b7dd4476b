from django.urls import path

from . import views

app_name = "schedules"

urlpatterns = [
    path("", views.my_sessions, name="my_sessions"),
    path("treatments/", views.treatment_add, name="treatment_add"),
    path("treatments/<int:treatment_id>/delete/", views.treatment_delete, name="treatment_delete"),
    path("settings/", views.preferences, name="preferences"),
    path("calendar/", views.calendar, name="calendar"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="feed"),
    path("circles/<slug:slug>/new/", views.series_new, name="series_new"),
    path("circles/new/", views.circle_new, name="circle_new"),
    path("series/<int:series_id>/edit/", views.series_edit, name="series_edit"),
    path("circles/<slug:slug>/edit/", views.circle_edit, name="circle_edit"),
    path("leaders/", views.leaders, name="leaders"),
    path("<int:occurrence_id>/", views.occurrence, name="occurrence"),
    path("<int:occurrence_id>/manage/", views.occurrence_action, name="occurrence_action"),
    path("<int:occurrence_id>/rsvp/", views.rsvp, name="rsvp"),
    path("<int:occurrence_id>/rsvp/cancel/", views.rsvp_cancel, name="rsvp_cancel"),
    path("<int:occurrence_id>/check-in/", views.check_in, name="check_in"),
]
