from django.urls import path

from . import views

app_name = "chat"

urlpatterns = [
    path("circles/<slug:slug>/share/", views.share, name="share"),
]
