from django.urls import path  # noqa: F401

app_name = "community"

# Each part of the app adds its own routes below (forums, help center, events).
urlpatterns: list = []
