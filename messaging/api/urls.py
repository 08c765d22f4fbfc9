"""API routes of messaging, under /api/v1/ (included by marketplace/api_urls.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("conversations/", views.ConversationListApi.as_view(), name="api_conversations"),
    path(
        "conversations/<int:conversation_id>/", views.ConversationDetailApi.as_view(), name="api_conversation"
    ),
    path(
        "conversations/<int:conversation_id>/messages/",
        views.ConversationMessagesApi.as_view(),
        name="api_conversation_messages",
    ),
    path(
        "conversations/<int:conversation_id>/messages/<int:seq>/",
        views.MessageDetailApi.as_view(),
        name="api_conversation_message",
    ),
    path(
        "conversations/<int:conversation_id>/read/",
        views.ConversationReadApi.as_view(),
        name="api_conversation_read",
    ),
    path(
        "conversations/<int:conversation_id>/attachments/",
        views.AttachmentUploadApi.as_view(),
        name="api_conversation_attachments",
    ),
    path(
        "conversations/<int:conversation_id>/attachments/<int:attachment_id>/",
        views.AttachmentDownloadApi.as_view(),
        name="api_conversation_attachment",
    ),
    path("notifications/", views.NotificationListApi.as_view(), name="api_notifications"),
    path(
        "notifications/read-all/", views.NotificationReadAllApi.as_view(), name="api_notifications_read_all"
    ),
    path(
        "notifications/preferences/",
        views.NotificationPreferencesApi.as_view(),
        name="api_notification_preferences",
    ),
    path(
        "notifications/<int:notification_id>/read/",
        views.NotificationReadApi.as_view(),
        name="api_notification_read",
    ),
]
