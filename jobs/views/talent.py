"""HTML views: talent."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
