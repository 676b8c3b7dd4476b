from django.urls import path

from .consumers import StaffConsumer

websocket_urlpatterns = [path("ws/moderation/", StaffConsumer.as_asgi())]
