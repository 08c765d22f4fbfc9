"""API serializers. Inputs validate; outputs document the JSON shapes and delegate to
``messaging.payloads``, the one definition shared with the websocket frames."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from .. import payloads
from ..models import (
    BODY_MAX_CHARS,
    CLIENT_MSG_ID_MAX,
    Channel,
    Message,
    Notification,
    NotificationKind,
    Participant,
)
from ..services import MAX_ATTACHMENTS_PER_MESSAGE


class AttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    size_bytes = serializers.IntegerField()
    content_type = serializers.CharField()
    is_image = serializers.BooleanField()
    url = serializers.CharField(help_text="Download link (participants only).")
    thumbnail_url = serializers.CharField(allow_null=True, help_text="Preview of an image, else null.")

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return payloads.attachment_payload(instance)


class SenderSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ReplySerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    sender_name = serializers.CharField()
    excerpt = serializers.CharField()


class MessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    conversation = serializers.IntegerField()
    seq = serializers.IntegerField(help_text="Position in the conversation: 1, 2, 3 ...")
    kind = serializers.ChoiceField(choices=Message.Kind.choices)
    sender = SenderSerializer(allow_null=True, help_text="Null for system messages.")
    body = serializers.CharField(help_text="Plain text; empty once deleted.")
    body_html = serializers.CharField(help_text="The body escaped, with links made clickable.")
    reply_to = ReplySerializer(allow_null=True)
    client_msg_id = serializers.CharField()
    created_at = serializers.DateTimeField()
    edited_at = serializers.DateTimeField(allow_null=True)
    deleted_at = serializers.DateTimeField(allow_null=True)
    hidden = serializers.BooleanField(help_text="Removed by a moderator: the body says so, files are gone.")
    flagged_off_platform = serializers.BooleanField(
        help_text="The message seems to move contact or payment off the platform: warn the reader."
    )
    attachments = AttachmentSerializer(many=True)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return payloads.message_payload(instance)


class MessagePageSerializer(serializers.Serializer):
    results = MessageSerializer(many=True, help_text="In ascending seq.")
    has_more = serializers.BooleanField(help_text="More messages lie beyond this page in its direction.")
    before_cursor = serializers.IntegerField(
        allow_null=True, help_text="Pass as ?before= for older messages."
    )
    after_cursor = serializers.IntegerField(allow_null=True, help_text="Pass as ?after= for newer messages.")


class MemberSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    last_read_seq = serializers.IntegerField()


class SubjectSerializer(serializers.Serializer):
    type = serializers.CharField(help_text='"app_label.model"')
    id = serializers.IntegerField()


class ConversationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    subject = SubjectSerializer(allow_null=True)
    has_contract = serializers.BooleanField()
    last_message_seq = serializers.IntegerField()
    last_read_seq = serializers.IntegerField()
    unread = serializers.IntegerField()
    archived = serializers.BooleanField()
    muted = serializers.BooleanField()
    updated_at = serializers.DateTimeField()
    participants = MemberSerializer(many=True)
    last_message = MessageSerializer(allow_null=True)

    def to_representation(self, instance: Participant) -> dict[str, Any]:
        conversation = instance.conversation
        subject_type = conversation.subject_type
        last = conversation.last_message
        members = getattr(conversation, "members", None)
        if members is None:
            members = list(conversation.participants.filter(left_at__isnull=True).select_related("user"))
        return {
            "id": conversation.pk,
            "title": conversation.title,
            "subject": {
                "type": f"{subject_type.app_label}.{subject_type.model}",
                "id": conversation.subject_id,
            }
            if subject_type is not None
            else None,
            "has_contract": conversation.has_contract,
            "last_message_seq": conversation.last_message_seq,
            "last_read_seq": instance.last_read_seq,
            "unread": conversation.last_message_seq - instance.last_read_seq,
            "archived": instance.archived,
            "muted": instance.muted,
            "updated_at": conversation.updated_at.isoformat(),
            "participants": [
                {"id": p.user_id, "name": p.user.display_name, "last_read_seq": p.last_read_seq}
                for p in members
            ],
            "last_message": payloads.message_payload(last, attachments=[]) if last is not None else None,
        }


class SendInputSerializer(serializers.Serializer):
    client_msg_id = serializers.CharField(
        max_length=CLIENT_MSG_ID_MAX,
        help_text="Chosen by the client; sending it again returns the same message.",
    )
    body = serializers.CharField(max_length=BODY_MAX_CHARS, allow_blank=True, required=False, default="")
    reply_to = serializers.IntegerField(min_value=1, allow_null=True, required=False, default=None)
    attachment_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        max_length=MAX_ATTACHMENTS_PER_MESSAGE,
        required=False,
        default=list,
        help_text="Ids of files uploaded to this conversation beforehand.",
    )


class EditInputSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=BODY_MAX_CHARS)


class ReadInputSerializer(serializers.Serializer):
    seq = serializers.IntegerField(min_value=0)


class ReadOutputSerializer(serializers.Serializer):
    conversation = serializers.IntegerField()
    last_read_seq = serializers.IntegerField()
    unread = serializers.IntegerField()


class UploadInputSerializer(serializers.Serializer):
    file = serializers.FileField()


class NotificationSerializer(serializers.ModelSerializer):
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "text", "url", "read", "created_at"]

    def get_read(self, obj: Notification) -> bool:
        return obj.read_at is not None


class MarkAllOutputSerializer(serializers.Serializer):
    marked = serializers.IntegerField()


PreferencesSerializer = type(
    "PreferencesSerializer",
    (serializers.Serializer,),
    {
        "__doc__": "Delivery channel per notification kind: email (in the app and by email), in_app or off.",
        **{
            kind: serializers.ChoiceField(choices=Channel.choices, required=False, help_text=str(label))
            for kind, label in NotificationKind.choices
        },
    },
)
