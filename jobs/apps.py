from django.apps import AppConfig


class JobsConfig(AppConfig):
    """Job posts, screening questions, saved jobs and searches, invitations, search and matching."""

    name = "jobs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import moderation, search_index
        from .api.search import make_items
        from .views.search import make_cards

        moderation.register()  # jobs and services in the moderation queue
        # each card's markup and API item made when the search index is built (see there)
        search_index.index_built.connect(make_cards, sender=search_index.Index)
        search_index.index_built.connect(make_items, sender=search_index.Index)
