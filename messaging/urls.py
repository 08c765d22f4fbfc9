"""HTML routes of messaging: ``/messages/`` (chat) and ``/notifications/``."""

from django.urls import path

from . import views

app_name = "messaging"

urlpatterns = [
    path("messages/", views.inbox, name="inbox"),
    path("messages/search/", views.search, name="search"),
    path("messages/blocked/", views.blocked, name="blocked"),
    path("messages/users/<int:user_id>/block/", views.block, name="block"),
    path("messages/users/<int:user_id>/unblock/", views.unblock, name="unblock"),
    path("messages/files/<int:attachment_id>/", views.attachment_download, name="attachment_download"),
    path(
        "messages/files/<int:attachment_id>/preview/", views.attachment_thumbnail, name="attachment_thumbnail"
    ),
    path("messages/<int:conversation_id>/", views.conversation, name="conversation"),
    path("messages/<int:conversation_id>/history/", views.history, name="history"),
    path("messages/<int:conversation_id>/send/", views.send, name="send"),
    path("messages/<int:conversation_id>/files/", views.attachment_upload, name="attachment_upload"),
    path("messages/<int:conversation_id>/archive/", views.conversation_archive, name="archive"),
    path("messages/<int:conversation_id>/mute/", views.conversation_mute, name="mute"),
    path("messages/<int:conversation_id>/leave/", views.conversation_leave, name="leave"),
    path("messages/<int:conversation_id>/people/", views.participant_add, name="add_participant"),
    path("messages/<int:conversation_id>/m/<int:seq>/edit/", views.message_edit, name="edit"),
    path("messages/<int:conversation_id>/m/<int:seq>/delete/", views.message_delete, name="delete"),
    path("messages/<int:conversation_id>/m/<int:seq>/report/", views.message_report, name="report"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read-all/", views.notifications_read_all, name="notifications_read_all"),
    path("notifications/settings/", views.preferences, name="preferences"),
    path("notifications/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("notifications/<int:notification_id>/read/", views.notification_read, name="notification_read"),
]
