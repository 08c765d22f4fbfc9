"""Thin HTML views of agencies: parse a form, call one service, redirect with a message.

Pages: my agencies and invitations, create, the public agency page, manage (profile,
members, invitations), an invitation link, and the owner's earnings page (balance,
distribution, history)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from marketplace.errors import ApplicationError, NotFoundError, PermissionDeniedError
from marketplace.forms import add_application_error
from marketplace.types import AuthedRequest
from payments import agency as agency_money

from . import agencies
from .agency_forms import AgencyForm, DistributeForm, InviteForm, RoleForm, TransferForm
from .models import Agency, AgencyMembership, AgencyRole


def _agency_or_404(slug: str, viewer: Any) -> Agency:
    agency = agencies.agency_get(slug=slug, viewer=viewer)
    if agency is None:
        raise Http404("No such agency.")
    return agency


def _membership_or_403(agency: Agency, user: Any, roles: tuple[str, ...]) -> AgencyMembership:
    membership = agencies.membership_for(agency=agency, user=user)
    if membership is None or membership.role not in roles:
        raise PermissionDeniedError("Only the agency's managers can open this page.", code="agency_forbidden")
    return membership


def _manage(agency: Agency) -> HttpResponse:
    return redirect("accounts:agency_manage", slug=agency.slug)


def _profile_values(form: AgencyForm) -> dict[str, Any]:
    return {
        key: form.cleaned_data.get(key) or ""
        for key in ("name", "tagline", "description", "website", "country")
    }


@login_required
def agency_index(request: AuthedRequest) -> HttpResponse:
    """My agencies and the invitations addressed to me."""
    context = {
        "memberships": agencies.agency_memberships_for_user(user=request.user),
        "invitations": agencies.invitations_for_user(user=request.user),
        "is_freelancer": request.user.is_freelancer,
    }
    return render(request, "accounts/agencies/index.html", context)


@login_required
def agency_create(request: AuthedRequest) -> HttpResponse:
    form = AgencyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            agency = agencies.agency_create(actor=request.user, **_profile_values(form))
        except PermissionDeniedError as error:
            messages.error(request, error.message)
            return redirect("accounts:agencies")
        except ApplicationError as error:
            add_application_error(form, error)
        else:
            messages.success(request, f"Your agency “{agency.name}” is created. Invite your team.")
            return _manage(agency)
    return render(request, "accounts/agencies/create.html", {"form": form})


def agency_detail(request: HttpRequest, slug: str) -> HttpResponse:
    agency = _agency_or_404(slug, request.user)
    page = agencies.agency_page(agency=agency)
    membership = agencies.membership_for(agency=agency, user=request.user)
    return render(
        request, "accounts/agencies/detail.html", {"page": page, "agency": agency, "membership": membership}
    )


def _manage_context(
    request: AuthedRequest, agency: Agency, membership: AgencyMembership, **forms: Any
) -> dict:
    members = agencies.agency_members(agency=agency)
    initial = {
        "name": agency.name,
        "tagline": agency.tagline,
        "description": agency.description,
        "website": agency.website,
        "country": str(agency.country) if agency.country else "",
    }
    return {
        "agency": agency,
        "membership": membership,
        "is_owner": membership.role == AgencyRole.OWNER,
        "members": members,
        "invitations": agencies.agency_pending_invitations(agency=agency),
        "profile_form": forms.get("profile_form") or AgencyForm(initial=initial),
        "invite_form": forms.get("invite_form") or InviteForm(),
        "transfer_form": forms.get("transfer_form") or TransferForm(members=members),
        "role_choices": RoleForm.base_fields["role"].choices,  # type: ignore[attr-defined]
    }


@login_required
def agency_manage(request: AuthedRequest, slug: str) -> HttpResponse:
    """Profile form, members and pending invitations: the owner and admins."""
    agency = _agency_or_404(slug, request.user)
    membership = _membership_or_403(agency, request.user, agencies.MANAGER_ROLES)
    profile_form = None
    if request.method == "POST":
        profile_form = AgencyForm(request.POST)
        if profile_form.is_valid():
            try:
                agencies.agency_update(
                    actor=request.user, agency_id=agency.pk, **_profile_values(profile_form)
                )
            except ApplicationError as error:
                add_application_error(profile_form, error)
            else:
                messages.success(request, "Saved the agency's profile.")
                return _manage(agency)
    context = _manage_context(request, agency, membership, profile_form=profile_form)
    return render(request, "accounts/agencies/manage.html", context)


@login_required
@require_POST
def agency_invite(request: AuthedRequest, slug: str) -> HttpResponse:
    agency = _agency_or_404(slug, request.user)
    membership = _membership_or_403(agency, request.user, agencies.MANAGER_ROLES)
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            sent = agencies.member_invite(
                actor=request.user,
                agency_id=agency.pk,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
            )
        except PermissionDeniedError as error:
            messages.error(request, error.message)
            return _manage(agency)
        except ApplicationError as error:
            add_application_error(form, error)
        else:
            messages.success(request, f"Invitation sent to {sent.invitation.email}.")
            return _manage(agency)
    messages.error(request, "The invitation was not sent; see the form below.")
    context = _manage_context(request, agency, membership, invite_form=form)
    return render(request, "accounts/agencies/manage.html", context, status=400)


def _run(request: AuthedRequest, agency: Agency, action: Any, success: str) -> HttpResponse:
    """Call a service; show its error (or the success message) and go back to manage."""
    try:
        action()
    except NotFoundError as error:
        raise Http404(error.message)
    except ApplicationError as error:
        if error.status_code == 403:
            raise
        messages.error(request, error.message)
    else:
        messages.success(request, success)
    return _manage(agency)


@login_required
@require_POST
def invitation_revoke(request: AuthedRequest, slug: str, invitation_id: int) -> HttpResponse:
    agency = _agency_or_404(slug, request.user)
    if not agency.invitations.filter(pk=invitation_id).exists():
        raise Http404("No such invitation.")
    return _run(
        request,
        agency,
        lambda: agencies.invitation_revoke(actor=request.user, invitation_id=invitation_id),
        "The invitation is revoked; its link no longer works.",
    )


@login_required
@require_POST
def member_role(request: AuthedRequest, slug: str, user_id: int) -> HttpResponse:
    agency = _agency_or_404(slug, request.user)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose admin or member.")
        return _manage(agency)
    return _run(
        request,
        agency,
        lambda: agencies.member_role_change(
            actor=request.user, agency_id=agency.pk, member_id=user_id, role=form.cleaned_data["role"]
        ),
        "The member's role is changed.",
    )


@login_required
@require_POST
def member_remove(request: AuthedRequest, slug: str, user_id: int) -> HttpResponse:
    agency = _agency_or_404(slug, request.user)
    return _run(
        request,
        agency,
        lambda: agencies.member_remove(actor=request.user, agency_id=agency.pk, member_id=user_id),
        "The member is removed from the agency.",
    )


@login_required
@require_POST
def ownership_transfer(request: AuthedRequest, slug: str) -> HttpResponse:
    agency = _agency_or_404(slug, request.user)
    membership = _membership_or_403(agency, request.user, (AgencyRole.OWNER,))
    form = TransferForm(request.POST, members=agencies.agency_members(agency=agency))
    if not form.is_valid():
        messages.error(request, "Choose the member who becomes the owner.")
        return render(
            request,
            "accounts/agencies/manage.html",
            _manage_context(request, agency, membership, transfer_form=form),
            status=400,
        )
    return _run(
        request,
        agency,
        lambda: agencies.agency_transfer_ownership(
            actor=request.user, agency_id=agency.pk, member_id=form.cleaned_data["member"]
        ),
        "The ownership is transferred; you are now an admin of the agency.",
    )


@login_required
@require_POST
def agency_leave(request: AuthedRequest, slug: str) -> HttpResponse:
    agency = _agency_or_404(slug, request.user)
    if agencies.membership_for(agency=agency, user=request.user) is None:
        raise PermissionDeniedError("You are not a member of this agency.", code="agency_forbidden")
    try:
        agencies.member_leave(actor=request.user, agency_id=agency.pk)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("accounts:agency_detail", slug=agency.slug)
    messages.success(request, f"You left the agency “{agency.name}”.")
    return redirect("accounts:agencies")


# --- invitations ----------------------------------------------------------------------------------


@login_required
def invitation(request: AuthedRequest, token: str) -> HttpResponse:
    """The page an invitation email links to: accept or decline (signed in with the
    invited email address)."""
    found = agencies.invitation_by_token(token=token)
    if found is None:
        raise Http404("This invitation link is not valid.")
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "accept":
                agencies.invitation_accept(actor=request.user, token=token)
                messages.success(request, f"Welcome to {found.agency.name}.")
                return redirect("accounts:agency_detail", slug=found.agency.slug)
            if action == "decline":
                agencies.invitation_decline(actor=request.user, token=token)
                messages.info(request, f"You declined the invitation to {found.agency.name}.")
                return redirect("accounts:agencies")
            messages.error(request, "Choose accept or decline.")
            status = 400
        except ApplicationError as error:
            if error.status_code == 404:
                raise Http404(error.message)
            messages.error(request, error.message)
            status = error.status_code
        found.refresh_from_db()
    context = {
        "invitation": found,
        "email_matches": found.email.lower() == request.user.email.lower(),
        "is_expired": found.expires_at <= timezone.now(),
        "is_freelancer": request.user.is_freelancer,
        "token": token,
    }
    return render(request, "accounts/agencies/invitation.html", context, status=status)


@login_required
@require_POST
def invitation_respond(request: AuthedRequest, invitation_id: int) -> HttpResponse:
    """Accept or decline from "My agencies" (the invitation is addressed to my email)."""
    action = request.POST.get("action")
    try:
        if action == "accept":
            membership = agencies.invitation_accept_by_id(actor=request.user, invitation_id=invitation_id)
            messages.success(request, f"Welcome to {membership.agency.name}.")
            return redirect("accounts:agency_detail", slug=membership.agency.slug)
        if action == "decline":
            agencies.invitation_decline_by_id(actor=request.user, invitation_id=invitation_id)
            messages.info(request, "You declined the invitation.")
        else:
            messages.error(request, "Choose accept or decline.")
    except NotFoundError as error:
        raise Http404(error.message)
    except ApplicationError as error:
        messages.error(request, error.message)
    return redirect("accounts:agencies")


# --- the owner's earnings page -------------------------------------------------------------------


@login_required
def agency_earnings(request: AuthedRequest, slug: str) -> HttpResponse:
    """The agency's balance, the distribution form and the history: the owner only."""
    agency = _agency_or_404(slug, request.user)
    _membership_or_403(agency, request.user, (AgencyRole.OWNER,))
    members = agencies.agency_members(agency=agency)
    form = DistributeForm(request.POST or None, members=members)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                agency_money.agency_distribute(
                    actor=request.user,
                    agency_id=agency.pk,
                    member_id=form.cleaned_data["member"],
                    amount_cents=form.cleaned_data["amount"],
                    idempotency_key=form.cleaned_data["idempotency_key"],
                )
            except ApplicationError as error:
                if error.status_code == 403:
                    raise
                field = (error.extra or {}).get("field")
                form.add_error(
                    {"amount_cents": "amount", "member_id": "member"}.get(field or ""), error.message
                )
            else:
                messages.success(request, "The distribution is in the member's available balance.")
                return redirect("accounts:agency_earnings", slug=agency.slug)
        status = 400
        messages.error(request, "Nothing was distributed; see the form.")
    context = {
        "agency": agency,
        "balance": agency_money.agency_balance(agency_id=agency.pk),
        "history": agency_money.agency_distributions(agency_id=agency.pk),
        "form": form,
    }
    return render(request, "accounts/agencies/earnings.html", context, status=status)
