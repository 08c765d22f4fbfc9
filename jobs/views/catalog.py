"""HTML views of the service catalog: browse and search, the service page, buying, the order
page for both sides, and the freelancer's "My services". Thin: parse, call ``jobs.catalog``,
message, redirect."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from accounts.models import Category, Skill, Subcategory
from contracts.models import ContractEvent
from marketplace.errors import ApplicationError, NotFoundError
from marketplace.forms import add_application_error
from marketplace.money import format_cents, parse_amount_to_cents
from marketplace.types import AuthedRequest

from .. import catalog
from ..catalog import ListingFilters, ListingInput, TierInput
from ..models import ServiceAddOn, ServiceListing, ServiceOrder, ServiceTier

PAGE_SIZE = 24


def _int(value: Any) -> int | None:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


def _addon_id(value: Any) -> int:
    number = _int(value)
    return -1 if number is None else number


def _cents(value: Any) -> int | None:
    if not value:
        return None
    try:
        return parse_amount_to_cents(str(value))
    except ApplicationError:
        return None


# --- browse and the service page ------------------------------------------------------------------


def service_list(request: HttpRequest) -> HttpResponse:
    params = request.GET
    rating = None
    try:
        rating = Decimal(params["rating"]) if params.get("rating") else None
    except InvalidOperation:
        rating = None
    filters = ListingFilters(
        q=str(params.get("q", "")).replace("\x00", "").strip()[:100],  # PostgreSQL refuses NUL
        category_id=_int(params.get("category")),
        min_price_cents=_cents(params.get("min_price")),
        max_price_cents=_cents(params.get("max_price")),
        max_delivery_days=_int(params.get("delivery")) or None,
        min_rating=rating,
    )
    page = Paginator(catalog.listing_search(filters), PAGE_SIZE).get_page(params.get("page"))
    return render(
        request,
        "jobs/catalog/list.html",
        {
            "page": page,
            "filters": filters,
            "params": params,
            "categories": Category.objects.all(),
            "delivery_choices": [
                (1, "Up to 1 day"),
                (3, "Up to 3 days"),
                (7, "Up to 7 days"),
                (14, "Up to 14 days"),
            ],
            "rating_choices": [("4.5", "4.5 and up"), ("4", "4 and up"), ("3", "3 and up")],
        },
    )


def service_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    try:
        listing = catalog.listing_for_viewer(public_id, request.user)  # type: ignore[arg-type]
    except NotFoundError:
        raise Http404("No such service.")
    return render(
        request,
        "jobs/catalog/detail.html",
        {
            "listing": listing,
            "tiers": catalog.tiers_in_order(listing),
            "addons": list(listing.addons.all()),
            "is_owner": request.user.is_authenticated and request.user.pk == listing.freelancer_id,
            "profile": getattr(listing.freelancer, "freelancer_profile", None),
        },
    )


@login_required
@require_POST
def service_buy(request: AuthedRequest, public_id: str) -> HttpResponse:
    listing = ServiceListing.objects.filter(public_id=public_id).first()
    if listing is None:
        raise Http404("No such service.")
    back = reverse("jobs:service_detail", args=[public_id])
    # an unreadable id becomes -1, which the service refuses like any foreign add-on
    addon_ids = [_addon_id(v) for v in request.POST.getlist("addons")]
    try:
        order = catalog.order_create(
            actor=request.user, listing_id=listing.pk, tier=request.POST.get("tier", ""), addon_ids=addon_ids
        )
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect(back)
    messages.success(
        request,
        f"Order placed: {format_cents(order.amount_cents)} for the {order.tier.get_name_display()} package.",
    )
    return _pay(request, order)


def _pay(request: AuthedRequest, order: ServiceOrder) -> HttpResponse:
    url = reverse("jobs:service_order", args=[order.public_id])
    try:
        result = catalog.order_pay(actor=request.user, order_id=order.pk)
    except ApplicationError as error:
        billing = error.extra.get("billing_url")
        if billing:
            messages.error(request, format_html('{} <a href="{}">Billing</a>', error.message, billing))
        else:
            messages.error(request, error.message)
        return redirect(url)
    if result.paid:
        messages.success(request, "Payment received: the money is in escrow. Now answer the requirements.")
    else:
        messages.error(request, f"The payment did not go through: {result.message}")
    return redirect(url)


# --- orders --------------------------------------------------------------------------------------------


def _party_order(request: AuthedRequest, public_id: str) -> ServiceOrder:
    try:
        return catalog.order_for_party(public_id, request.user)
    except NotFoundError:
        raise Http404("No such order.")


@login_required
def order_list(request: AuthedRequest) -> HttpResponse:
    orders = list(catalog.orders_for_user(request.user)[:200])
    return render(
        request,
        "jobs/catalog/orders.html",
        {
            "bought": [o for o in orders if o.buyer_id == request.user.pk],
            "sold": [o for o in orders if o.listing.freelancer_id == request.user.pk],
        },
    )


@login_required
def order_detail(request: AuthedRequest, public_id: str) -> HttpResponse:
    order = _party_order(request, public_id)
    order = catalog.order_sync(order_id=order.pk)
    order = _party_order(request, public_id)
    milestone = catalog.order_milestone(order)
    role = "buyer" if order.buyer_id == request.user.pk else "seller"
    money_events = ContractEvent.objects.filter(milestone=milestone).order_by("created_at", "id")
    return render(
        request,
        "jobs/catalog/order.html",
        {
            "order": order,
            "milestone": milestone,
            "role": role,
            "questions": list(order.listing.requirements.all()),
            "submissions": list(milestone.submissions.order_by("created_at", "id")),
            "money_events": money_events,
            "can_cancel": order.status == ServiceOrder.Status.AWAITING_PAYMENT
            or catalog.can_cancel_late(order),
            "revisions_left": max(0, order.revisions_allowed - order.revisions_used),
            "addons": list(order.addons.all()),
        },
    )


def _order_action(request: AuthedRequest, public_id: str, call: Any, success: str) -> HttpResponse:
    order = _party_order(request, public_id)
    try:
        call(order)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success)
    return redirect("jobs:service_order", public_id=order.public_id)


@login_required
@require_POST
def order_pay(request: AuthedRequest, public_id: str) -> HttpResponse:
    order = _party_order(request, public_id)
    return _pay(request, order)


@login_required
@require_POST
def order_requirements(request: AuthedRequest, public_id: str) -> HttpResponse:
    order = _party_order(request, public_id)
    count = order.listing.requirements.count()
    answers = [request.POST.get(f"answer_{i}", "") for i in range(1, count + 1)]
    return _order_action(
        request,
        public_id,
        lambda o: catalog.order_submit_requirements(actor=request.user, order_id=o.pk, answers=answers),
        "Requirements sent: the delivery clock has started.",
    )


@login_required
@require_POST
def order_deliver(request: AuthedRequest, public_id: str) -> HttpResponse:
    return _order_action(
        request,
        public_id,
        lambda o: catalog.order_deliver(
            actor=request.user,
            order_id=o.pk,
            message=request.POST.get("message", ""),
            files=request.FILES.getlist("files"),
        ),
        "Delivered: the buyer can approve or ask for a revision.",
    )


@login_required
@require_POST
def order_revision(request: AuthedRequest, public_id: str) -> HttpResponse:
    return _order_action(
        request,
        public_id,
        lambda o: catalog.order_request_revision(
            actor=request.user, order_id=o.pk, note=request.POST.get("note", "")
        ),
        "Revision requested: the seller has been told what to change.",
    )


@login_required
@require_POST
def order_approve(request: AuthedRequest, public_id: str) -> HttpResponse:
    return _order_action(
        request,
        public_id,
        lambda o: catalog.order_approve(actor=request.user, order_id=o.pk),
        "Approved: the payment is released to the seller. Thank you!",
    )


@login_required
@require_POST
def order_cancel(request: AuthedRequest, public_id: str) -> HttpResponse:
    return _order_action(
        request,
        public_id,
        lambda o: catalog.order_cancel(actor=request.user, order_id=o.pk),
        "Order cancelled. Any payment is refunded to your card.",
    )


# --- the freelancer's services ---------------------------------------------------------------------------


class ListingForm(forms.Form):
    title = forms.CharField(max_length=120)
    category = forms.ModelChoiceField(queryset=Category.objects.all())
    subcategory = forms.ModelChoiceField(
        queryset=Subcategory.objects.all(), required=False, label="Specialty"
    )
    skills = forms.ModelMultipleChoiceField(
        queryset=Skill.objects.all(), required=False, widget=forms.SelectMultiple(attrs={"size": 6})
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), max_length=5000)
    questions = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        label="Requirements questions (one per line)",
        max_length=2000,
    )
    fast_price = forms.CharField(required=False, label="Extra fast delivery: price ($)")
    fast_days_less = forms.IntegerField(required=False, min_value=0, label="Extra fast delivery: days less")
    revision_price = forms.CharField(required=False, label="Extra revision: price ($)")
    image = forms.ImageField(required=False, label="Add a gallery image")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, label in ServiceTier.Name.choices:
            self.fields[f"{name}_price"] = forms.CharField(label=f"{label}: price ($)")
            self.fields[f"{name}_days"] = forms.IntegerField(label=f"{label}: delivery days", min_value=1)
            self.fields[f"{name}_revisions"] = forms.IntegerField(label=f"{label}: revisions", min_value=0)
            self.fields[f"{name}_included"] = forms.CharField(
                label=f"{label}: what is included", widget=forms.Textarea(attrs={"rows": 2}), max_length=1000
            )

    def tier_rows(self) -> list[list[Any]]:
        return [
            [self[f"{name}_{part}"] for part in ("price", "days", "revisions", "included")]
            for name in catalog.TIER_ORDER
        ]

    def to_input(self) -> ListingInput:
        data = self.cleaned_data

        def money(name: str) -> int:
            try:
                return parse_amount_to_cents(data.get(name) or "")
            except ApplicationError as error:
                raise ApplicationError(error.message, code=error.code, extra={"field": name})

        tiers: dict[str, TierInput] = {
            str(name): TierInput(
                money(f"{name}_price"),
                data[f"{name}_days"],
                data[f"{name}_revisions"],
                data[f"{name}_included"],
            )
            for name in catalog.TIER_ORDER
        }
        return ListingInput(
            title=data["title"],
            category_id=data["category"].pk,
            subcategory_id=data["subcategory"].pk if data.get("subcategory") else None,
            description=data["description"],
            skill_ids=[s.pk for s in data.get("skills") or []],
            questions=(data.get("questions") or "").splitlines(),
            tiers=tiers,
            fast_delivery_price_cents=money("fast_price") if data.get("fast_price") else None,
            fast_delivery_days_less=data.get("fast_days_less") or 0,
            extra_revision_price_cents=money("revision_price") if data.get("revision_price") else None,
        )


def _initial(listing: ServiceListing) -> dict[str, Any]:
    initial: dict[str, Any] = {
        "title": listing.title,
        "category": listing.category_id,
        "subcategory": listing.subcategory_id,
        "skills": list(listing.skills.values_list("pk", flat=True)),
        "description": listing.description,
        "questions": "\n".join(listing.requirements.values_list("question", flat=True)),
    }
    for tier in listing.tiers.all():
        initial[f"{tier.name}_price"] = f"{tier.price_cents / 100:.2f}"
        initial[f"{tier.name}_days"] = tier.delivery_days
        initial[f"{tier.name}_revisions"] = tier.revisions
        initial[f"{tier.name}_included"] = tier.included
    for addon in listing.addons.all():
        if addon.kind == ServiceAddOn.Kind.FAST_DELIVERY:
            initial["fast_price"] = f"{addon.price_cents / 100:.2f}"
            initial["fast_days_less"] = addon.days_less
        else:
            initial["revision_price"] = f"{addon.price_cents / 100:.2f}"
    return initial


@login_required
def my_services(request: AuthedRequest) -> HttpResponse:
    listings = (
        ServiceListing.objects.filter(freelancer=request.user)
        .select_related("category")
        .order_by("-updated_at", "-id")
    )
    return render(request, "jobs/catalog/mine.html", {"listings": listings})


def _save_form(request: AuthedRequest, listing: ServiceListing | None) -> HttpResponse:
    form = ListingForm(
        request.POST or None, request.FILES or None, initial=_initial(listing) if listing else None
    )
    if request.method == "POST" and form.is_valid():
        try:
            data = form.to_input()
            if listing is None:
                listing = catalog.listing_create(actor=request.user, data=data)
                note = "Service saved as a draft. Submit it for review when it is ready."
            else:
                was = listing.status
                listing = catalog.listing_update(actor=request.user, listing_id=listing.pk, data=data)
                note = "Service saved." + (
                    " It goes back to review before buyers see the changes." if was != listing.status else ""
                )
            if form.cleaned_data.get("image"):
                catalog.listing_add_image(
                    actor=request.user, listing_id=listing.pk, upload=form.cleaned_data["image"]
                )
        except ApplicationError as error:
            add_application_error(form, error)
        else:
            messages.success(request, note)
            return redirect("jobs:my_services")
    return render(request, "jobs/catalog/form.html", {"form": form, "listing": listing})


@login_required
def service_create(request: AuthedRequest) -> HttpResponse:
    return _save_form(request, None)


@login_required
def service_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    listing = ServiceListing.objects.filter(pk=pk, freelancer=request.user).first()
    if listing is None:
        raise Http404("No such service.")
    return _save_form(request, listing)


def _listing_action(request: AuthedRequest, pk: int, call: Any, success: str) -> HttpResponse:
    try:
        call(pk)
    except NotFoundError:
        raise Http404("No such service.")
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success)
    return redirect("jobs:my_services")


@login_required
@require_POST
def service_submit(request: AuthedRequest, pk: int) -> HttpResponse:
    return _listing_action(
        request,
        pk,
        lambda i: catalog.listing_submit(actor=request.user, listing_id=i),
        "Submitted for review: staff usually review services within a day.",
    )


@login_required
@require_POST
def service_pause(request: AuthedRequest, pk: int) -> HttpResponse:
    return _listing_action(
        request,
        pk,
        lambda i: catalog.listing_pause(actor=request.user, listing_id=i),
        "Service paused: buyers no longer see it.",
    )


@login_required
@require_POST
def service_resume(request: AuthedRequest, pk: int) -> HttpResponse:
    return _listing_action(
        request,
        pk,
        lambda i: catalog.listing_resume(actor=request.user, listing_id=i),
        "Service is public again.",
    )


urlpatterns: list[URLPattern] = [
    path("services/", service_list, name="services"),
    path("services/mine/", my_services, name="my_services"),
    path("services/new/", service_create, name="service_create"),
    path("services/mine/<int:pk>/edit/", service_edit, name="service_edit"),
    path("services/mine/<int:pk>/submit/", service_submit, name="service_submit"),
    path("services/mine/<int:pk>/pause/", service_pause, name="service_pause"),
    path("services/mine/<int:pk>/resume/", service_resume, name="service_resume"),
    path("services/orders/", order_list, name="service_orders"),
    path("services/orders/<str:public_id>/", order_detail, name="service_order"),
    path("services/orders/<str:public_id>/pay/", order_pay, name="service_pay"),
    path("services/orders/<str:public_id>/requirements/", order_requirements, name="service_requirements"),
    path("services/orders/<str:public_id>/deliver/", order_deliver, name="service_deliver"),
    path("services/orders/<str:public_id>/revision/", order_revision, name="service_revision"),
    path("services/orders/<str:public_id>/approve/", order_approve, name="service_approve"),
    path("services/orders/<str:public_id>/cancel/", order_cancel, name="service_cancel"),
    path("services/<str:public_id>/", service_detail, name="service_detail"),
    path("services/<str:public_id>/buy/", service_buy, name="service_buy"),
]
