"""HTML views of the forums: home, boards, threads, search, and the member and staff
actions on them. Thin: parse a form, call one service of ``community.forums``, redirect
with a message. Content one cannot see is a 404; a visible but forbidden action a 403.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from marketplace.errors import ApplicationError, NotFoundError, PermissionDeniedError
from marketplace.forms import add_application_error
from marketplace.ids import as_id
from marketplace.types import AuthedRequest

from .. import forum_selectors as selectors
from .. import forums
from ..forum_forms import PostEditForm, ReplyForm, SearchForm, ThreadForm
from ..markdown import render_markdown


def _thread_page(thread_id: int) -> HttpResponse:
    return redirect("community:thread", thread_id=thread_id)


def _forbidden_or_raise(error: ApplicationError) -> None:
    if isinstance(error, NotFoundError | PermissionDeniedError):
        raise error


@require_safe
def forum_home(request: HttpRequest) -> HttpResponse:
    page = selectors.thread_page(viewer=request.user, limit=10)
    context = {"boards": selectors.board_list(), "recent": page.threads, "search_form": SearchForm()}
    return render(request, "community/forums/home.html", context)


@require_safe
def board_detail(request: HttpRequest, slug: str) -> HttpResponse:
    board = selectors.board_get(slug=slug)
    sort = request.GET.get("sort", "latest")
    try:
        page = selectors.thread_page(
            viewer=request.user, board=board, sort=sort, cursor=request.GET.get("cursor", "")
        )
    except selectors.BadCursorError as error:
        messages.error(request, error.message)
        page = selectors.thread_page(viewer=request.user, board=board, sort=sort)
    context = {
        "board": board,
        "page": page,
        "sorts": selectors.SORTS,
        "can_start": selectors.board_can_start(board=board, viewer=request.user),
    }
    return render(request, "community/forums/board.html", context)


@require_safe
def search(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    results: list[Any] = []
    query = ""
    if form.is_valid():
        query = form.cleaned_data["q"]
        results = selectors.thread_search(viewer=request.user, query=query)
    return render(request, "community/forums/search.html", {"form": form, "query": query, "results": results})


@login_required
def thread_create(request: AuthedRequest, slug: str | None = None) -> HttpResponse:
    initial = {}
    if slug:
        board = selectors.board_get(slug=slug)
        if not selectors.board_can_start(board=board, viewer=request.user):
            raise PermissionDeniedError(f"Only the marketplace team starts threads in {board.name}.")
        initial["board"] = board.pk
    form = ThreadForm(request.POST or None, staff=request.user.is_staff, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                thread = forums.thread_create(
                    actor=request.user,
                    board_id=form.cleaned_data["board"].pk,
                    title=form.cleaned_data["title"],
                    body=form.cleaned_data["body"],
                )
            except ApplicationError as error:
                status = error.status_code if error.status_code in (403, 429) else 400
                add_application_error(form, error)
                messages.error(request, error.message)
            else:
                if thread.held_at is not None:
                    messages.info(
                        request,
                        "Thanks! Posts with links from new accounts are checked by our team first; "
                        "yours will be visible to everyone once approved.",
                    )
                else:
                    messages.success(request, "Your thread is posted. You will be told about replies.")
                return _thread_page(thread.pk)
        else:
            status = 400
            messages.error(request, "Please correct the errors below.")
    return render(request, "community/forums/thread_form.html", {"form": form}, status=status)


@require_safe
def thread_detail(request: HttpRequest, thread_id: int) -> HttpResponse:
    thread = selectors.thread_get_for_viewer(thread_id=thread_id, viewer=request.user)
    try:
        view = selectors.thread_view(thread=thread, viewer=request.user, cursor=request.GET.get("cursor", ""))
    except selectors.BadCursorError as error:
        messages.error(request, error.message)
        view = selectors.thread_view(thread=thread, viewer=request.user)
    _count_view(request, thread)
    quote_id = as_id(request.GET.get("quote"))
    form = ReplyForm(initial={"quote": quote_id} if quote_id is not None else None)
    return render(request, "community/forums/thread.html", _thread_context(request, view, form))


VIEWED_SESSION_KEY = "community_viewed_threads"
VIEWED_REMEMBERED = 200  # the session remembers this many threads, newest last


def _count_view(request: HttpRequest, thread: Any) -> None:
    """A thread's first visit in a session counts as a view; reloads and later pages don't."""
    seen = list(request.session.get(VIEWED_SESSION_KEY, []))
    if thread.pk in seen:
        return
    if forums.thread_view_record(thread=thread, viewer=request.user):
        request.session[VIEWED_SESSION_KEY] = [*seen, thread.pk][-VIEWED_REMEMBERED:]


def _thread_context(request: HttpRequest, view: selectors.ThreadView, form: ReplyForm) -> dict[str, Any]:
    boards = selectors.board_list() if request.user.is_staff else []
    quote_id = form["quote"].value()
    return {"view": view, "thread": view.thread, "form": form, "boards": boards, "quote_id": quote_id}


@login_required
@require_POST
def reply_create(request: AuthedRequest, thread_id: int) -> HttpResponse:
    thread = selectors.thread_get_for_viewer(thread_id=thread_id, viewer=request.user)
    form = ReplyForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            post = forums.reply_create(
                actor=request.user,
                thread_id=thread.pk,
                body=form.cleaned_data["body"],
                quote_post_id=form.cleaned_data.get("quote"),
            )
        except ApplicationError as error:
            _forbidden_or_raise(error)
            status = error.status_code
            add_application_error(form, error)
            messages.error(request, error.message)
        else:
            if post.held_at is not None:
                messages.info(
                    request,
                    "Thanks! Posts with links from new accounts are checked by our team first; "
                    "yours will be visible to everyone once approved.",
                )
            else:
                messages.success(request, "Your reply is posted.")
            return redirect(forums.post_url(post))
    else:
        messages.error(request, "Write your reply (up to 20,000 characters).")
    view = selectors.thread_view(thread=thread, viewer=request.user)
    return render(
        request, "community/forums/thread.html", _thread_context(request, view, form), status=status
    )


@login_required
def post_edit(request: AuthedRequest, post_id: int) -> HttpResponse:
    post = selectors.post_get_for_author(post_id=post_id, viewer=request.user)
    initial = {"body": post.body, "title": post.thread.title}
    form = PostEditForm(request.POST or None, with_title=post.is_opening, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                forums.post_edit(
                    actor=request.user,
                    post_id=post.pk,
                    body=form.cleaned_data["body"],
                    title=form.cleaned_data.get("title") if post.is_opening else None,
                )
            except ApplicationError as error:
                _forbidden_or_raise(error)
                status = 400
                add_application_error(form, error)
                messages.error(request, error.message)
            else:
                messages.success(request, "Your post is updated.")
                return redirect(forums.post_url(post))
        else:
            status = 400
            messages.error(request, "Please correct the errors below.")
    return render(request, "community/forums/post_edit.html", {"form": form, "post": post}, status=status)


@login_required
@require_POST
def post_like(request: AuthedRequest, post_id: int) -> HttpResponse:
    unlike = request.POST.get("action") == "unlike"
    service = forums.post_unlike if unlike else forums.post_like
    try:
        post = service(actor=request.user, post_id=post_id)
    except ApplicationError as error:
        _forbidden_or_raise(error)
        raise
    messages.success(request, "Like removed." if unlike else "You liked this post.")
    return redirect(forums.post_url(post))


@login_required
@require_POST
def accept_answer(request: AuthedRequest, thread_id: int) -> HttpResponse:
    post_id = request.POST.get("post") or None
    thread = forums.thread_accept_answer(actor=request.user, thread_id=thread_id, post_id=post_id)
    if thread.accepted_post_id:
        messages.success(request, "Answer accepted: it now shows first under your question.")
    else:
        messages.success(request, "The accepted answer is cleared.")
    return _thread_page(thread.pk)


@login_required
@require_POST
def follow(request: AuthedRequest, thread_id: int) -> HttpResponse:
    if request.POST.get("action") == "unfollow":
        thread = forums.thread_unfollow(actor=request.user, thread_id=thread_id)
        messages.success(request, "You no longer follow this thread.")
    else:
        thread = forums.thread_follow(actor=request.user, thread_id=thread_id)
        messages.success(request, "You follow this thread: you will be told about new replies.")
    return _thread_page(thread.pk)


# --- staff -----------------------------------------------------------------------------------------


@login_required
@require_POST
def thread_moderate(request: AuthedRequest, thread_id: int) -> HttpResponse:
    if not request.user.is_staff:
        raise PermissionDeniedError("Only staff can moderate the community.")
    action = request.POST.get("action", "")
    note = request.POST.get("note", "")
    done = {
        "pin": "Thread pinned.",
        "unpin": "Thread unpinned.",
        "lock": "Thread locked.",
        "unlock": "Thread unlocked.",
        "move": "Thread moved.",
    }
    if action in ("pin", "unpin"):
        forums.thread_set_pinned(actor=request.user, thread_id=thread_id, pinned=action == "pin", note=note)
    elif action in ("lock", "unlock"):
        forums.thread_set_locked(actor=request.user, thread_id=thread_id, locked=action == "lock", note=note)
    elif action == "move":
        forums.thread_move(
            actor=request.user, thread_id=thread_id, board_id=request.POST.get("board"), note=note
        )
    else:
        messages.error(request, "Choose an action.")
        return _thread_page(thread_id)
    messages.success(request, done[action])
    return _thread_page(thread_id)


@login_required
@require_POST
def post_moderate(request: AuthedRequest, post_id: int) -> HttpResponse:
    if not request.user.is_staff:
        raise PermissionDeniedError("Only staff can moderate the community.")
    action = request.POST.get("action", "")
    note = request.POST.get("note", "")
    if action == "hide":
        post = forums.post_hide(actor=request.user, post_id=post_id, note=note)
        messages.success(request, "Post hidden.")
    elif action == "unhide":
        post = forums.post_unhide(actor=request.user, post_id=post_id, note=note)
        messages.success(request, "Post shown again.")
    elif action == "approve":
        post = forums.post_approve(actor=request.user, post_id=post_id, note=note)
        messages.success(request, "Post approved.")
    else:
        raise NotFoundError("No such action.")
    return _thread_page(post.thread_id)


@login_required
@require_POST
def preview(request: AuthedRequest) -> HttpResponse:
    """The Markdown of a draft as it will show (htmx, from the post forms). Mentions are
    not resolved here: they become links when the post is saved."""
    body = str(request.POST.get("body", ""))[: forums.BODY_MAX]
    return render(request, "community/forums/_preview.html", {"html": render_markdown(body)})
