"""Thin HTML views of the chat and the notifications: parse, call one service, render or
redirect with a message. Every page works without JavaScript (a plain form post sends a
message; reloading shows new ones); ``static/js/chat.js`` adds the live updates."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from marketplace.errors import ApplicationError
from marketplace.forms import add_application_error
from marketplace.ids import as_id
from marketplace.types import AuthedRequest

from . import downloads, emails, payloads, presence, selectors, services
from .forms import AddParticipantForm, MessageEditForm, MessageForm, PreferencesForm, ReportForm
from .models import EDIT_WINDOW, Attachment, Message, NotificationKind

INBOX_PAGE_SIZE = 30  # conversations per inbox page
SIDEBAR_CONVERSATIONS = 30  # the most recent ones beside an open conversation (the template shows 30)

# --- conversations ---------------------------------------------------------------------------


@login_required
@require_GET
def inbox(request: AuthedRequest) -> HttpResponse:
    archived = request.GET.get("archived") == "1"
    rows = selectors.conversation_queryset_for_user(user=request.user, archived=archived).order_by(
        "-conversation__updated_at", "-pk"
    )
    page = Paginator(rows, INBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "conversations": list(page.object_list),
        "conversation_page": page,
        "showing_archived": archived,
    }
    return render(request, "messaging/inbox.html", context)


def _decorate(items: list[Message], user: User) -> list[Message]:
    """Per-viewer flags the template needs: mine, editable, warn."""
    deadline = timezone.now() - EDIT_WINDOW
    for m in items:
        m.mine = m.sender_id == user.pk  # type: ignore[attr-defined]
        m.editable = m.mine and m.deleted_at is None and m.created_at >= deadline  # type: ignore[attr-defined]
        m.warn = m.flagged_off_platform and not m.mine and m.deleted_at is None  # type: ignore[attr-defined]
    return items


def _parse_seq(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    if as_id(value) is None:
        raise ApplicationError("Page positions are whole numbers.", code="invalid")
    return int(value)


@login_required
@require_GET
def conversation(request: AuthedRequest, conversation_id: int) -> HttpResponse:
    view = selectors.conversation_view(user=request.user, conversation_id=conversation_id)
    before = _parse_seq(request.GET.get("before"))
    items, has_more = selectors.messages_page(conversation_id=view.conversation.pk, before=before)
    if before is None and view.conversation.last_message_seq > view.me.last_read_seq:
        # seeing the latest messages is reading them
        view.me.last_read_seq = services.conversation_mark_read(
            actor=request.user, conversation_id=view.conversation.pk, seq=view.conversation.last_message_seq
        )
    reply_to = selectors.message_by_seq(conversation_id=view.conversation.pk, seq=request.GET.get("reply_to"))
    form = MessageForm(
        initial={
            "client_msg_id": uuid.uuid4().hex,
            "reply_to": reply_to.seq if reply_to is not None else None,
        }
    )
    others = view.others
    read_by_others = view.read_by_others()
    decorated = _decorate(items, request.user)
    context = {
        "view": view,
        "conversation": view.conversation,
        "conversations": selectors.conversation_list_for_user(
            user=request.user, limit=SIDEBAR_CONVERSATIONS + 1
        ),
        "items": decorated,
        "has_more": has_more,
        "oldest_seq": items[0].seq if items else None,
        "newest_seq": items[-1].seq if items else 0,
        # "Seen" goes under the newest of my messages that everyone else has read
        "seen_seq": max(
            (m.seq for m in decorated if m.sender_id == request.user.pk and m.seq <= read_by_others),
            default=0,
        ),
        "paged": before is not None,
        "form": form,
        "reply_to": reply_to,
        "read_by_others": read_by_others,
        "online_ids": presence.online_among_sync([p.user_id for p in others]),
        "blocked_ids": selectors.blocked_user_ids(user=request.user),
        "edit_minutes": int(EDIT_WINDOW.total_seconds() // 60),
        "add_form": AddParticipantForm(),
    }
    return render(request, "messaging/conversation.html", context)


@login_required
@require_GET
def history(request: AuthedRequest, conversation_id: int) -> HttpResponse:
    """Older messages as an HTML fragment, for scrolling up (chat.js)."""
    participant = selectors.participation_for_user(user=request.user, conversation_id=conversation_id)
    before = _parse_seq(request.GET.get("before"))
    items, has_more = selectors.messages_page(conversation_id=participant.conversation_id, before=before)
    context = {
        "conversation": participant.conversation,
        "items": _decorate(items, request.user),
        "has_more": has_more,
        "oldest_seq": items[0].seq if items else None,
        "seen_seq": 0,
    }
    return render(request, "messaging/partials/history.html", context)


@login_required
@require_POST
def send(request: AuthedRequest, conversation_id: int) -> HttpResponse:
    """The form post of the composer (without JavaScript): upload the files, then send."""
    form = MessageForm(request.POST, request.FILES)
    target = reverse("messaging:conversation", args=[conversation_id])
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, str(errors[0]))
        return redirect(target)
    data = form.cleaned_data
    try:
        with transaction.atomic():
            ids = [
                services.attachment_upload(actor=request.user, conversation_id=conversation_id, upload=f).pk
                for f in request.FILES.getlist("attachments")
            ]
            result = services.message_send(
                actor=request.user,
                conversation_id=conversation_id,
                body=data["body"],
                client_msg_id=data["client_msg_id"],
                reply_to_seq=data["reply_to"],
                attachment_ids=ids,
            )
    except ApplicationError as error:
        if error.status_code == 404:
            raise
        messages.error(request, error.message)
        return redirect(target)
    messages.success(request, "Message sent." if result.created else "This message was already sent.")
    return redirect(f"{target}#m{result.message.seq}")


@login_required
@require_POST
def attachment_upload(request: AuthedRequest, conversation_id: int) -> JsonResponse:
    """Upload one file before sending it (chat.js); answers the attachment as JSON."""
    try:
        attachment = services.attachment_upload(
            actor=request.user, conversation_id=conversation_id, upload=request.FILES.get("file")
        )
    except ApplicationError as error:
        return JsonResponse(
            {"message": error.message, "code": error.code, "extra": error.extra}, status=error.status_code
        )
    return JsonResponse(payloads.attachment_payload(attachment), status=201)


def _attachment_for(request: AuthedRequest, attachment_id: int) -> Attachment:
    try:
        return selectors.attachment_for_user(user=request.user, attachment_id=attachment_id)
    except ApplicationError:
        raise Http404("No such file.")


@login_required
@require_GET
def attachment_download(request: AuthedRequest, attachment_id: int) -> FileResponse:
    attachment = _attachment_for(request, attachment_id)
    return downloads.file_response(
        attachment.file,
        filename=attachment.original_name,
        content_type=attachment.content_type,
        inline=attachment.is_image and request.GET.get("download") != "1",
    )


@login_required
@require_GET
def attachment_thumbnail(request: AuthedRequest, attachment_id: int) -> FileResponse:
    attachment = _attachment_for(request, attachment_id)
    if not attachment.thumbnail:
        raise Http404("This file has no preview.")
    content_type = "image/png" if (attachment.thumbnail.name or "").endswith(".png") else "image/jpeg"
    return downloads.file_response(
        attachment.thumbnail, filename=f"preview-{attachment.pk}", content_type=content_type, inline=True
    )


def _message_or_404(request: AuthedRequest, conversation_id: int, seq: int) -> tuple[Any, Message]:
    view = selectors.conversation_view(user=request.user, conversation_id=conversation_id)
    message = selectors.message_by_seq(conversation_id=view.conversation.pk, seq=seq)
    if message is None:
        raise Http404("No such message.")
    return view, message


@login_required
@require_http_methods(["GET", "POST"])
def message_edit(request: AuthedRequest, conversation_id: int, seq: int) -> HttpResponse:
    view, message = _message_or_404(request, conversation_id, seq)
    form = MessageEditForm(request.POST or None, initial={"body": message.body})
    if request.method == "POST" and form.is_valid():
        try:
            services.message_edit(
                actor=request.user, conversation_id=conversation_id, seq=seq, body=form.cleaned_data["body"]
            )
            messages.success(request, "Message edited.")
            return redirect(reverse("messaging:conversation", args=[conversation_id]) + f"#m{seq}")
        except ApplicationError as error:
            add_application_error(form, error)
    return render(
        request, "messaging/edit.html", {"conversation": view.conversation, "message": message, "form": form}
    )


@login_required
@require_POST
def message_delete(request: AuthedRequest, conversation_id: int, seq: int) -> HttpResponse:
    try:
        services.message_delete(actor=request.user, conversation_id=conversation_id, seq=seq)
        messages.success(request, "Message deleted.")
    except ApplicationError as error:
        if error.status_code == 404:
            raise
        messages.error(request, error.message)
    return redirect(reverse("messaging:conversation", args=[conversation_id]) + f"#m{seq}")


@login_required
@require_http_methods(["GET", "POST"])
def message_report(request: AuthedRequest, conversation_id: int, seq: int) -> HttpResponse:
    view, message = _message_or_404(request, conversation_id, seq)
    form = ReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.message_report(
                actor=request.user,
                conversation_id=conversation_id,
                seq=seq,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
            )
            messages.success(request, "Thanks: staff will review the message.")
            return redirect("messaging:conversation", conversation_id=conversation_id)
        except ApplicationError as error:
            add_application_error(form, error)
    return render(
        request,
        "messaging/report.html",
        {"conversation": view.conversation, "message": message, "form": form},
    )


@login_required
@require_POST
def conversation_archive(request: AuthedRequest, conversation_id: int) -> HttpResponse:
    archived = request.POST.get("archived") != "0"
    services.conversation_archive(actor=request.user, conversation_id=conversation_id, archived=archived)
    if archived:
        messages.success(request, "Conversation archived. It comes back when someone writes.")
        return redirect("messaging:inbox")
    messages.success(request, "Conversation moved back to your inbox.")
    return redirect("messaging:conversation", conversation_id=conversation_id)


@login_required
@require_POST
def conversation_mute(request: AuthedRequest, conversation_id: int) -> HttpResponse:
    muted = request.POST.get("muted") != "0"
    services.conversation_mute(actor=request.user, conversation_id=conversation_id, muted=muted)
    messages.success(request, "Muted: no emails about this conversation." if muted else "Unmuted.")
    return redirect("messaging:conversation", conversation_id=conversation_id)


@login_required
@require_POST
def conversation_leave(request: AuthedRequest, conversation_id: int) -> HttpResponse:
    services.conversation_leave(actor=request.user, conversation_id=conversation_id)
    messages.success(request, "You left the conversation.")
    return redirect("messaging:inbox")


@login_required
@require_POST
def participant_add(request: AuthedRequest, conversation_id: int) -> HttpResponse:
    selectors.participation_for_user(user=request.user, conversation_id=conversation_id)
    form = AddParticipantForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter a valid email address.")
        return redirect("messaging:conversation", conversation_id=conversation_id)
    user = User.objects.filter(email__iexact=form.cleaned_data["email"]).first()
    try:
        if user is None:
            raise ApplicationError("Nobody with that email has an account.", code="user_not_found")
        participant = services.participant_add(
            actor=request.user, conversation_id=conversation_id, user_id=user.pk
        )
        messages.success(request, f"{participant.user.display_name} was added to the conversation.")
    except ApplicationError as error:
        messages.error(request, error.message)
    return redirect("messaging:conversation", conversation_id=conversation_id)


@login_required
@require_GET
def search(request: AuthedRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    results = selectors.message_search(user=request.user, query=query)
    context = {
        "query": query,
        "results": results,
        "too_short": 0 < len(query.strip()) < selectors.SEARCH_MIN_CHARS,
        "limit": selectors.SEARCH_LIMIT,
    }
    return render(request, "messaging/search.html", context)


@login_required
@require_GET
def blocked(request: AuthedRequest) -> HttpResponse:
    return render(request, "messaging/blocked.html", {"blocks": selectors.blocks_of(user=request.user)})


@login_required
@require_POST
def block(request: AuthedRequest, user_id: int) -> HttpResponse:
    try:
        result = services.user_block(actor=request.user, user_id=user_id)
        messages.success(
            request, f"You blocked {result.blocked.display_name}: they can no longer message you."
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    return redirect("messaging:blocked")


@login_required
@require_POST
def unblock(request: AuthedRequest, user_id: int) -> HttpResponse:
    services.user_unblock(actor=request.user, user_id=user_id)
    messages.success(request, "Unblocked.")
    return redirect("messaging:blocked")


# --- notifications -----------------------------------------------------------------------------


@login_required
@require_GET
def notifications(request: AuthedRequest) -> HttpResponse:
    page = Paginator(selectors.notification_list(user=request.user), 25).get_page(request.GET.get("page"))
    return render(
        request,
        "messaging/notifications.html",
        {"page": page, "unread_count": selectors.notification_unread_count(user_id=request.user.pk)},
    )


@login_required
@require_POST
def notification_read(request: AuthedRequest, notification_id: int) -> HttpResponse:
    notification = services.notification_mark_read(actor=request.user, notification_id=notification_id)
    if request.POST.get("open") == "1" and notification.url:
        return redirect(notification.url)
    messages.success(request, "Marked as read.")
    return redirect("messaging:notifications")


@login_required
@require_POST
def notifications_read_all(request: AuthedRequest) -> HttpResponse:
    count = services.notification_mark_all_read(actor=request.user)
    messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} as read.")
    return redirect("messaging:notifications")


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: AuthedRequest) -> HttpResponse:
    current = selectors.preferences_for(user=request.user)
    form = PreferencesForm(request.POST or None, initial_channels=current)
    if request.method == "POST" and form.is_valid():
        services.notification_preferences_set(actor=request.user, preferences=form.cleaned_data)
        messages.success(request, "Notification settings saved.")
        return redirect("messaging:preferences")
    return render(request, "messaging/preferences.html", {"form": form})


@csrf_exempt  # the signed token is the credential; mail clients post without a session
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """Stop emails of one kind from a link in an email, without logging in.

    GET shows a confirmation button (link scanners must not unsubscribe anyone); POST, from
    that button or a mail client's one-click unsubscribe, does it.
    """
    try:
        user_id, kind = emails.read_unsubscribe_token(token)
        valid = kind in NotificationKind.values and User.objects.filter(pk=user_id).exists()
    except signing.BadSignature:
        valid = False
    if not valid:
        return render(request, "messaging/unsubscribe.html", {"invalid": True}, status=400)
    label = NotificationKind(kind).label
    if request.method == "POST":
        services.notification_unsubscribe(token=token)
        return render(request, "messaging/unsubscribe.html", {"done": True, "label": label})
    return render(request, "messaging/unsubscribe.html", {"label": label, "token": token})
