from django.urls import path

from . import views

app_name = "community"

urlpatterns = [
    path("", views.directory, name="directory"),
    path("circles/<slug:slug>/", views.circle_detail, name="circle"),
    path("circles/<slug:slug>/join/", views.join, name="join"),
    path("circles/<slug:slug>/leave/", views.leave, name="leave"),
    path("circles/<slug:slug>/alias/", views.reroll, name="reroll"),
]
