"""``manage.py seed_help_center``: create or update the help center's categories and
articles from ``community/help_content/`` (by slug; idempotent)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from community.help_content import sync_help_content
from community.models import Article, HelpCategory


class Command(BaseCommand):
    help = "Load or refresh the help center articles from community/help_content/."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            counts = sync_help_content(HelpCategory, Article)
        self.stdout.write(
            self.style.SUCCESS(
                f"Help center: {counts['categories']} categories, {counts['created']} articles created, "
                f"{counts['updated']} updated."
            )
        )
