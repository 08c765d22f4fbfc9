from django.urls import path

app_name = "community"

# Each part of the app adds its own routes below (forums, help center, events).
urlpatterns: list = []

# --- help center and events ---
from .views import events as event_views  # noqa: E402
from .views import help as help_views  # noqa: E402

urlpatterns += [
    path("help/", help_views.help_home, name="help_home"),
    path("help/search/", help_views.help_search, name="help_search"),
    path("help/articles/<slug:slug>/", help_views.help_article, name="help_article"),
    path("help/articles/<slug:slug>/feedback/", help_views.help_feedback, name="help_feedback"),
    path("help/<slug:slug>/", help_views.help_category, name="help_category"),
    path("events/", event_views.event_list, name="event_list"),
    path("events/<slug:slug>/", event_views.event_detail, name="event_detail"),
    path("events/<slug:slug>/register/", event_views.event_register, name="event_register"),
    path("events/<slug:slug>/cancel/", event_views.event_cancel, name="event_cancel"),
    path("events/<slug:slug>/calendar.ics", event_views.event_calendar, name="event_calendar"),
]

# --- forums ---
from .views import forums as forum_views  # noqa: E402

urlpatterns += [
    path("community/", forum_views.forum_home, name="forum_home"),
    path("community/search/", forum_views.search, name="forum_search"),
    path("community/new/", forum_views.thread_create, name="thread_new"),
    path("community/boards/<slug:slug>/", forum_views.board_detail, name="board"),
    path("community/boards/<slug:slug>/new/", forum_views.thread_create, name="board_thread_new"),
    path("community/threads/<int:thread_id>/", forum_views.thread_detail, name="thread"),
    path("community/threads/<int:thread_id>/reply/", forum_views.reply_create, name="reply"),
    path("community/threads/<int:thread_id>/accept/", forum_views.accept_answer, name="accept"),
    path("community/threads/<int:thread_id>/follow/", forum_views.follow, name="follow"),
    path("community/threads/<int:thread_id>/moderate/", forum_views.thread_moderate, name="thread_moderate"),
    path("community/posts/<int:post_id>/edit/", forum_views.post_edit, name="post_edit"),
    path("community/posts/<int:post_id>/like/", forum_views.post_like, name="post_like"),
    path("community/posts/<int:post_id>/moderate/", forum_views.post_moderate, name="post_moderate"),
    path("community/preview/", forum_views.preview, name="preview"),
]
