from django.urls import path

# Each part of the app adds its own API routes below (forums, help center, events).
urlpatterns: list = []

# --- help center and events ---
from . import events as events_api  # noqa: E402
from . import help as help_api  # noqa: E402

urlpatterns += [
    path("help/categories/", help_api.HelpCategoryListApi.as_view(), name="api_help_categories"),
    path("help/articles/", help_api.HelpArticleListApi.as_view(), name="api_help_articles"),
    path("help/articles/<slug:slug>/", help_api.HelpArticleDetailApi.as_view(), name="api_help_article"),
    path("events/", events_api.EventListApi.as_view(), name="api_events"),
    path("events/<slug:slug>/", events_api.EventDetailApi.as_view(), name="api_event"),
    path(
        "events/<slug:slug>/registration/",
        events_api.EventRegistrationApi.as_view(),
        name="api_event_registration",
    ),
]

# --- forums ---
from . import forums as forum_api  # noqa: E402

urlpatterns += [
    path("community/boards/", forum_api.BoardListApi.as_view(), name="api_forum_boards"),
    path("community/threads/", forum_api.ThreadListCreateApi.as_view(), name="api_forum_threads"),
    path("community/threads/<int:thread_id>/", forum_api.ThreadDetailApi.as_view(), name="api_forum_thread"),
    path(
        "community/threads/<int:thread_id>/replies/",
        forum_api.ReplyCreateApi.as_view(),
        name="api_forum_reply",
    ),
    path(
        "community/threads/<int:thread_id>/accept/",
        forum_api.AcceptAnswerApi.as_view(),
        name="api_forum_accept",
    ),
    path("community/threads/<int:thread_id>/follow/", forum_api.FollowApi.as_view(), name="api_forum_follow"),
    path("community/posts/<int:post_id>/like/", forum_api.LikeApi.as_view(), name="api_forum_like"),
]
