from django.urls import path

from . import views

app_name = "moderation"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("flags/<int:flag_id>/review/", views.review, name="review"),
    path("flags/<int:flag_id>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("rules/", views.rules, name="rules"),
    path("rules/new/", views.rule_edit, name="rule_new"),
    path("rules/<int:rule_id>/", views.rule_edit, name="rule_edit"),
    path("audit/", views.audit, name="audit"),
    path("members/<int:membership_id>/reveal/", views.reveal, name="reveal"),
]
