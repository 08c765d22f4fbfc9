"""API views: the job search, saved jobs and saved searches. Thin: parse, call a selector or
a service, serialise. Errors answer the ``{"message", "code", "extra"}`` envelope.

The search answers the same to every caller, so its body is cached as JSON bytes for the
parameters and the jobs generation (``jobs.cache``), all but the ``next`` link, which is
built from each request's own URL and put in front. JSON callers get those bytes as they
are; any other renderer DRF negotiates (the browsable API, ``indent=``) gets the same data
through a ``Response``."""

from __future__ import annotations

import copy
import json
from typing import Any, cast

import django_filters
from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import ErrorSerializer
from accounts.models import User
from accounts.permissions import NotSuspended
from marketplace.errors import ApplicationError

from .. import cache as jobs_cache
from .. import selectors, services
from ..filters import JobFilter, search_cache_parts
from ..models import SavedJob, SavedSearch
from . import serializers as s


def _me(request: Request) -> User:
    """The caller, on views whose permission classes already require authentication."""
    return cast(User, request.user)


def _filter_parameters() -> list[OpenApiParameter]:
    """The search's query parameters, described from ``JobFilter`` itself."""
    out = []
    for name, filter_ in JobFilter.base_filters.items():
        many = isinstance(
            filter_, django_filters.MultipleChoiceFilter | django_filters.ModelMultipleChoiceFilter
        )
        if isinstance(filter_, django_filters.ModelChoiceFilter | django_filters.ModelMultipleChoiceFilter):
            kind = OpenApiTypes.INT
        elif isinstance(filter_, django_filters.NumberFilter):
            kind = OpenApiTypes.DECIMAL
        elif isinstance(filter_, django_filters.BooleanFilter):
            kind = OpenApiTypes.BOOL
        else:
            kind = OpenApiTypes.STR
        choices = filter_.extra.get("choices")
        enum = None
        if choices is not None and name != "location":
            enum = [str(value) for value, _label in (choices() if callable(choices) else choices)]
        description = str(filter_.label or name)
        if name == "location":
            description += " (ISO 3166 country codes)"
        if many:
            description += " (repeat the parameter for several values)"
        out.append(OpenApiParameter(name, kind, many=many, enum=enum, description=description))
    out += [
        OpenApiParameter(
            "cursor", OpenApiTypes.STR, description="From the `next` link of the previous page."
        ),
        OpenApiParameter("page_size", OpenApiTypes.INT, description="1 to 50, default 20."),
    ]
    return out


def _plain_paging(params: Any) -> tuple[int, str | None] | None:
    """``page_size`` and ``cursor`` when they are plain values (what clients send), else None."""
    size, cursor = params.get("page_size"), params.get("cursor")
    plain_size = size is None or (size.isascii() and size.isdigit() and 1 <= int(size) <= 50)
    plain_cursor = cursor is None or (len(cursor) <= 500 and cursor == cursor.strip())
    if plain_size and plain_cursor:
        return (int(size) if size is not None else 20), cursor or None
    return None


def _paging(params: Any) -> tuple[int, str | None]:
    """``page_size`` and ``cursor`` as ``SearchPageParamsSerializer`` reads them: plain values
    are taken as they are, anything else goes through the serializer (and its errors)."""
    plain = _plain_paging(params)
    if plain is not None:
        return plain
    paging = s.SearchPageParamsSerializer(data=params)
    paging.is_valid(raise_exception=True)
    return paging.validated_data["page_size"], paging.validated_data.get("cursor") or None


def _json(data: Any) -> bytes:
    """``data`` as DRF's ``JSONRenderer`` writes it (compact, UTF-8, U+2028/9 escaped)."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()


_items: dict[tuple[Any, ...], bytes] = {}
ITEM_ENTRIES = 20_000  # items kept per process (then forgotten all at once)


def _item_head(card: selectors.JobCard) -> bytes:
    """A card's item (``job_card_item``) as JSON up to its proposal count, remembered for
    the card's content: the search index hands out the same jobs over and over, and their
    encoding was a tenth of an uncached search. Kept with the card (``JobCard.remembered``:
    the index's cards keep it as long as the index holds them) and in a bounded table for
    cards read from PostgreSQL, which are new objects on every search."""
    # the time zone published_at is written in, and the card's content
    zone = timezone.get_current_timezone_name()
    return card.remembered(("json", zone), lambda c: _encoded_head(c, zone))


def _encoded_head(card: selectors.JobCard, zone: str, *, keep: bool = True) -> bytes:
    key = (zone, *card.content_key())
    found = _items.get(key)
    if found is None:
        item = s.job_card_item(card)
        del item["proposals_count"], item["client_country"]
        found = _json(item)[:-1] + b',"proposals_count":'
        if not keep:  # only with the card (``make_items``)
            return found
        if len(_items) >= ITEM_ENTRIES:
            _items.clear()
        _items[key] = found
    return found


def make_items(sender: Any, cards: list[selectors.JobCard], **kwargs: Any) -> None:
    """Make every card's item head (``_item_head``) in the default time zone, as the search
    index is built (``search_index.index_built``)."""
    zone = timezone.get_default_timezone_name()
    with timezone.override(timezone.get_default_timezone()):
        for card in cards:
            card.remembered(("json", zone), lambda c: _encoded_head(c, zone, keep=False))


def results_json(cards: list[selectors.JobCard]) -> bytes:
    """``_json([job_card_item(card) for card in cards])``, the same bytes (a test compares),
    from the remembered heads (``_item_head``)."""
    items = [
        _item_head(card)
        + _json(card.proposals_count)
        + b',"client_country":'
        + _json(card.client_country)
        + b"}"
        for card in cards
    ]
    return b"[" + b",".join(items) + b"]"


def _slot(params: Any, page_size: int) -> jobs_cache.Slot:
    """Where a page of the search is cached: the same for every caller (no per-user field),
    for the parameters and the jobs generation (jobs.cache)."""
    return jobs_cache.lookup(
        "search-api-body", [("page_size", str(page_size)), *search_cache_parts(params, "cursor")], mark=True
    )


def _next_url(request: HttpRequest, next_cursor: str | None) -> str | None:
    """The next page's link, from this request's own URL (scheme, host, parameters)."""
    if not next_cursor:
        return None
    query: QueryDict = cast(QueryDict, copy.copy(request.GET))  # mutable, new lists (.copy() deep-copies)
    query["cursor"] = next_cursor
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


def _body(request: HttpRequest, cached: dict[str, Any]) -> bytes:
    return b'{"next":' + _json(_next_url(request, cached["next_cursor"])) + b"," + cached["rest"]


def _fill(slot: jobs_cache.Slot, params: Any, page_size: int, cursor: str | None) -> dict[str, Any]:
    """Search, keep the page in ``slot`` and return it as kept: the body after
    ``{"next":...,`` (the same bytes for every caller) and the next page's cursor. Raises
    ``ApplicationError`` for bad parameters or a damaged cursor."""
    page = selectors.job_search_card_page(
        params=params, viewer=None, cursor=cursor, page_size=page_size, generation=slot.generation
    )
    head = {"count": page.count, "count_capped": page.count_capped, "match": page.step}
    rest = _json(head)[1:-1] + b',"results":' + results_json(page.jobs) + b"}"
    cached = {"next_cursor": page.next_cursor, "rest": rest}
    slot.set(cached, from_second=True)  # a page asked once is not stored for nobody
    return cached


JSON_ACCEPTS = frozenset({"", "*/*", "application/json"})
_SLOT_KEY = "jobs.search_api_slot"


class JobSearchApi(APIView):
    """Search open jobs: keyword (typo-tolerant on PostgreSQL) and filters, keyset-paginated."""

    permission_classes = [AllowAny, NotSuspended]

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        """A caller with no credentials who takes JSON gets the page (cached, or searched and
        kept) as DRF would answer it, without DRF's request, authentication, permission and
        negotiation steps (half the time of a cached answer); bad parameters, and everyone
        and everything else, go through DRF."""
        plain = _plain_paging(request.GET) if request.method == "GET" else None
        if (
            plain is not None
            and "HTTP_AUTHORIZATION" not in request.META
            and settings.SESSION_COOKIE_NAME not in request.COOKIES
            and "format" not in request.GET
            and request.headers.get("Accept", "") in JSON_ACCEPTS
            and not self.throttle_classes  # (none today; throttles would count every call)
        ):
            slot = _slot(request.GET, plain[0])
            request.META[_SLOT_KEY] = (plain[0], slot)  # a miss DRF answers: ``get`` fills this slot
            cached = slot.entry
            if not isinstance(cached, dict):  # a miss: searched here too
                try:
                    cached = _fill(slot, request.GET, *plain)
                except ApplicationError:  # bad parameters: DRF answers, with its error envelope
                    cached = None
            if isinstance(cached, dict):
                response = HttpResponse(_body(request, cached), content_type="application/json")
                response["Allow"] = ", ".join(self.allowed_methods)
                patch_vary_headers(response, ["Accept"])
                return response
        return super().dispatch(request, *args, **kwargs)

    @extend_schema(
        parameters=_filter_parameters(), responses={200: s.JobSearchPageSerializer, 400: ErrorSerializer}
    )
    def get(self, request: Request) -> Response | HttpResponse:
        page_size, cursor = _paging(request.query_params)
        # only the `next` link is built per request
        looked_up = request._request.META.get(_SLOT_KEY)
        # the slot ``dispatch`` looked up already (one cache read per request), or this one's
        slot = (
            looked_up[1]
            if looked_up and looked_up[0] == page_size
            else _slot(request.query_params, page_size)
        )
        cached = slot.entry
        if not isinstance(cached, dict):
            cached = _fill(slot, request.query_params, page_size, cursor)
        if (
            isinstance(request.accepted_renderer, JSONRenderer)
            and request.accepted_media_type == "application/json"
        ):
            return HttpResponse(_body(request._request, cached), content_type="application/json")
        next_url = _next_url(request._request, cached["next_cursor"])
        return Response({"next": next_url, **json.loads(b"{" + cached["rest"])})


class NewestFirstPagination(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 20


class SavedJobListApi(generics.GenericAPIView):
    """The caller's saved jobs (newest saved first); POST saves one."""

    permission_classes = [IsAuthenticated, NotSuspended]
    serializer_class = s.SavedJobSerializer
    pagination_class = NewestFirstPagination
    filter_backends: list = []

    def get_queryset(self) -> QuerySet[SavedJob]:
        return selectors.saved_jobs_for_user(user=_me(self.request))

    @extend_schema(responses={200: s.SavedJobSerializer(many=True)})
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.SavedJobSerializer(page, many=True).data)

    @extend_schema(
        request=s.SavedJobInputSerializer,
        responses={201: s.SavedJobSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def post(self, request: Request) -> Response:
        data = s.SavedJobInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = selectors.job_for_save(public_id=data.validated_data["job"], viewer=_me(request))
        saved = services.job_save(actor=_me(request), job_id=job.pk)
        saved = self.get_queryset().get(pk=saved.pk)
        return Response(s.SavedJobSerializer(saved).data, status=status.HTTP_201_CREATED)


class SavedJobDeleteApi(APIView):
    permission_classes = [IsAuthenticated, NotSuspended]

    @extend_schema(responses={204: None, 404: ErrorSerializer})
    def delete(self, request: Request, public_id: str) -> Response:
        job = selectors.job_for_save(public_id=public_id, viewer=_me(request))
        services.job_unsave(actor=_me(request), job_id=job.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SavedSearchListApi(generics.GenericAPIView):
    """The caller's saved searches; POST saves one (the same parameters as the search)."""

    permission_classes = [IsAuthenticated, NotSuspended]
    serializer_class = s.SavedSearchSerializer
    pagination_class = NewestFirstPagination
    filter_backends: list = []

    def get_queryset(self) -> QuerySet[SavedSearch]:
        return selectors.saved_searches_for_user(user=_me(self.request))

    @extend_schema(responses={200: s.SavedSearchSerializer(many=True)})
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.SavedSearchSerializer(page, many=True).data)

    @extend_schema(
        request=s.SavedSearchInputSerializer,
        responses={201: s.SavedSearchSerializer, 400: ErrorSerializer},
    )
    def post(self, request: Request) -> Response:
        data = s.SavedSearchInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        search = services.saved_search_create(actor=_me(request), **data.validated_data)
        return Response(s.SavedSearchSerializer(search).data, status=status.HTTP_201_CREATED)


class SavedSearchDeleteApi(APIView):
    permission_classes = [IsAuthenticated, NotSuspended]

    @extend_schema(responses={204: None, 404: ErrorSerializer})
    def delete(self, request: Request, search_id: int) -> Response:
        services.saved_search_delete(actor=_me(request), search_id=search_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


# Before the posting area's /jobs/<public_id>/: these fixed paths must win.
urlpatterns: list[URLPattern] = [
    path("jobs/", JobSearchApi.as_view(), name="api_jobs_search"),
    path("jobs/saved/", SavedJobListApi.as_view(), name="api_jobs_saved"),
    path("jobs/saved/<str:public_id>/", SavedJobDeleteApi.as_view(), name="api_jobs_saved_delete"),
    path("jobs/searches/", SavedSearchListApi.as_view(), name="api_jobs_saved_searches"),
    path(
        "jobs/searches/<int:search_id>/", SavedSearchDeleteApi.as_view(), name="api_jobs_saved_search_delete"
    ),
]
