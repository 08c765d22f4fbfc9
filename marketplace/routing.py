from django.urls import path

from messaging.routing import websocket_urlpatterns as messaging_websocket_urlpatterns

from .consumers import HealthConsumer

websocket_urlpatterns = [
    path("ws/health/", HealthConsumer.as_asgi()),
    *messaging_websocket_urlpatterns,
]
