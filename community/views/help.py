"""HTML views of the help center: home (categories and search box), search results, a
category, an article with "Was this helpful?". Anyone may read published articles;
drafts are a 404 except for staff, who preview them.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from marketplace import ratelimit
from marketplace.errors import ApplicationError

from .. import help as help_center

SESSION_FLAG = "help_feedback_session"
# settings.RATE_LIMITS["help_feedback"], e.g. "10/h/ip"; no entry means no limit
FEEDBACK_RATE_SCOPE = "help_feedback"


class HelpSearchForm(forms.Form):
    q = forms.CharField(
        label="Search the help center", max_length=help_center.SEARCH_MAX_QUERY_CHARS, required=False
    )


class FeedbackForm(forms.Form):
    helpful = forms.TypedChoiceField(
        label="Was this article helpful?",
        choices=[("yes", "Yes"), ("no", "No")],
        coerce=lambda value: value == "yes",
    )


def _user_or_none(request: HttpRequest):
    return request.user if request.user.is_authenticated else None


@require_GET
def help_home(request: HttpRequest) -> HttpResponse:
    context = {"categories": help_center.category_list(), "form": HelpSearchForm()}
    return render(request, "community/help/home.html", context)


@require_GET
def help_search(request: HttpRequest) -> HttpResponse:
    form = HelpSearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    hits = help_center.article_search(query=query) if query else []
    context = {"form": form, "query": query, "hits": hits, "invalid": not form.is_valid()}
    return render(request, "community/help/search.html", context, status=200 if form.is_valid() else 400)


@require_GET
def help_category(request: HttpRequest, slug: str) -> HttpResponse:
    category = help_center.category_get(slug=slug)
    context = {
        "category": category,
        "articles": help_center.category_articles(category=category),
        "form": HelpSearchForm(),
    }
    return render(request, "community/help/category.html", context)


@require_GET
def help_article(request: HttpRequest, slug: str) -> HttpResponse:
    article = help_center.article_get_for_viewer(slug=slug, viewer=request.user)
    given = help_center.feedback_given(
        article=article, user=_user_or_none(request), session_key=request.session.session_key or ""
    )
    context = {
        "article": article,
        "feedback": given,
        "related": help_center.related_articles(article=article),
        "form": HelpSearchForm(),
    }
    return render(request, "community/help/article.html", context)


@require_POST
def help_feedback(request: HttpRequest, slug: str) -> HttpResponse:
    article = help_center.article_get_published(slug=slug)
    form = FeedbackForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose Yes or No.")
        return redirect("community:help_article", slug=article.slug)
    user = _user_or_none(request)
    session_key = ""
    if user is None:
        # A client that drops its cookie gets a new session, so one answer per session does
        # not stop a script: count anonymous answers per IP too (before a session is made).
        wait = ratelimit.hit(request, FEEDBACK_RATE_SCOPE)
        if wait:
            return ratelimit.limited_response(request, FEEDBACK_RATE_SCOPE, wait)
        # An anonymous visitor answers once per session: make sure the session exists.
        request.session[SESSION_FLAG] = True
        if not request.session.session_key:
            request.session.save()
        session_key = request.session.session_key or ""
    try:
        help_center.article_feedback_submit(
            actor=user, article_id=article.pk, helpful=form.cleaned_data["helpful"], session_key=session_key
        )
    except ApplicationError as error:
        messages.info(request, error.message)
    else:
        if form.cleaned_data["helpful"]:
            messages.success(request, "Thank you for your feedback! We're glad this article helped.")
        else:
            messages.success(request, "Thank you for your feedback! We'll use it to improve this article.")
    return redirect("community:help_article", slug=article.slug)
