from django.urls import path  # noqa: F401

# Each part of the app adds its own API routes below (forums, help center, events).
urlpatterns: list = []
