"""HTML views: talent search, inviting freelancers to jobs, and the freelancer's invitations.

Thin views: parse a form, call a selector of ``jobs.talent`` or one service of
``jobs.services``, render or redirect with a message.
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from accounts.models import User
from marketplace.errors import ApplicationError, NotFoundError
from marketplace.forms import add_application_error
from marketplace.ids import as_id, as_ids
from marketplace.types import AuthedRequest

from .. import services, talent
from ..models import Invitation, Job

# --- forms ----------------------------------------------------------------------------------------


class InviteForm(forms.Form):
    message = forms.CharField(
        label="Message",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 6, "data-charcount": "2000"}),
        help_text="The freelancer sees this with your job. Up to 2,000 characters.",
    )


class DeclineForm(forms.Form):
    reason = forms.ChoiceField(
        label="Reason",
        choices=[("", "Choose a reason"), *Invitation.DeclineReason.choices],
        help_text="The client sees your reason.",
    )
    note = forms.CharField(
        label="Note to the client (optional)",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "data-charcount": "500"}),
    )


class PickJobForm(forms.Form):
    job = forms.ChoiceField(label="Job", widget=forms.RadioSelect)

    def __init__(self, *args: Any, jobs: list[Job], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ChoiceField, self.fields["job"])
        field.choices = [(job.public_id, job.title) for job in jobs]
        field.error_messages["invalid_choice"] = "Choose one of your open jobs."


def _default_message(freelancer: User, job: Job) -> str:
    name = freelancer.first_name or freelancer.display_name
    return f"Hi {name}, I'd like to invite you to submit a proposal for my job {job.title}."


def _wants_fragment(request: HttpRequest) -> bool:
    """An htmx request for part of the page (not a boosted navigation)."""
    htmx: Any = getattr(request, "htmx", None)  # set by django_htmx's middleware
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def _invite_url(public_id: str, user_id: int) -> str:
    return f"{reverse('jobs:invite', args=[public_id])}?{urlencode({'freelancer': user_id})}"


# --- talent search -------------------------------------------------------------------------------


@require_GET
@vary_on_headers("HX-Request")
def talent_search(request: HttpRequest) -> HttpResponse:
    """/talent/: filters and results; htmx asks for the results only."""
    search = talent.talent_search(params=request.GET, viewer=request.user)
    page = Paginator(search.profiles, talent.PAGE_SIZE).get_page(request.GET.get("page"))
    open_jobs = talent.client_open_jobs(viewer=request.user)
    target = next((job for job in open_jobs if job.public_id == request.GET.get("job")), None)
    if target is None and len(open_jobs) == 1:
        target = open_jobs[0]
    context = {
        "search": search,
        "form": search.form,
        "page": page,
        "cards": talent.talent_cards(page.object_list),
        "open_jobs": open_jobs,
        "invite_job": target,
    }
    if _wants_fragment(request):
        return render(request, "jobs/talent/_results.html", context)
    raw_category = request.GET.get("category", "")
    options, selected = talent.talent_skill_options(
        category_id=as_id(raw_category),
        selected_ids=as_ids(request.GET.getlist("skills")),
    )
    context["skill_options"], context["selected_skill_ids"] = options, selected
    return render(request, "jobs/talent/search.html", context)


@require_GET
def talent_skill_options(request: HttpRequest) -> HttpResponse:
    """htmx partial: the skill checkboxes of the chosen category."""
    raw_category = request.GET.get("category", "")
    options, selected = talent.talent_skill_options(
        category_id=as_id(raw_category),
        selected_ids=as_ids(request.GET.getlist("skills")),
    )
    return render(
        request, "jobs/talent/_skill_options.html", {"skill_options": options, "selected_skill_ids": selected}
    )


# --- inviting ------------------------------------------------------------------------------------


@login_required
def invite(request: AuthedRequest, public_id: str) -> HttpResponse:
    """/jobs/<public_id>/invite/?freelancer=<user id>: the client writes the invitation."""
    job = talent.job_for_owner(public_id=public_id, viewer=request.user)
    raw = request.GET.get("freelancer") or request.POST.get("freelancer") or ""
    if as_id(raw) is None:
        messages.info(request, "Choose a freelancer to invite to your job.")
        return redirect(f"{reverse('jobs:talent')}?{urlencode({'job': job.public_id})}")
    profile = talent.invitable_freelancer(user_id=int(raw), viewer=request.user)
    freelancer = profile.user
    form = InviteForm(
        request.POST or None,
        initial={"message": _default_message(freelancer, job)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.invitation_send(
                actor=request.user,
                job_id=job.pk,
                freelancer_id=freelancer.pk,
                message=form.cleaned_data["message"],
            )
        except NotFoundError as error:
            raise Http404(error.message)
        except ApplicationError as error:
            add_application_error(form, error)
        else:
            messages.success(
                request,
                f"Invitation sent to {freelancer.display_name}: "
                f"they have {services.INVITATION_DAYS} days to answer.",
            )
            return redirect("jobs:detail", public_id=job.public_id)
    context = {
        "job": job,
        "card": talent.talent_cards([profile])[0],
        "form": form,
        "already_invited": job.pk in talent.invited_job_ids(freelancer_id=freelancer.pk, jobs=[job]),
        "action": _invite_url(job.public_id, freelancer.pk),
    }
    return render(request, "jobs/invitations/invite.html", context, status=400 if form.errors else 200)


@login_required
def invite_pick(request: AuthedRequest, user_id: int) -> HttpResponse:
    """/talent/invite/<user id>/: a client with several open jobs picks the one to invite to."""
    profile = talent.invitable_freelancer(user_id=user_id, viewer=request.user)
    open_jobs = talent.client_open_jobs(viewer=request.user)
    invited = talent.invited_job_ids(freelancer_id=user_id, jobs=open_jobs)
    choosable = [job for job in open_jobs if job.pk not in invited]
    form = PickJobForm(request.GET if "job" in request.GET else None, jobs=choosable)
    if form.is_bound and form.is_valid():
        return redirect(_invite_url(form.cleaned_data["job"], user_id))
    context = {
        "card": talent.talent_cards([profile])[0],
        "form": form,
        "open_jobs": open_jobs,
        "invited": invited,
        "choosable": choosable,
    }
    return render(request, "jobs/invitations/pick.html", context, status=400 if form.errors else 200)


# --- the freelancer's invitations ----------------------------------------------------------------


@login_required
def invitation_list(request: AuthedRequest) -> HttpResponse:
    inbox = talent.invitation_inbox(user=request.user)
    return render(request, "jobs/invitations/list.html", {"inbox": inbox})


def _detail_context(request: AuthedRequest, invitation: Invitation, decline_form: DeclineForm) -> dict:
    is_freelancer = invitation.freelancer_id == request.user.pk
    return {
        "invitation": invitation,
        "job": invitation.job,
        "is_freelancer": is_freelancer,
        "can_answer": is_freelancer and talent.invitation_is_open(invitation),
        "decline_form": decline_form,
    }


@login_required
def invitation_detail(request: AuthedRequest, invitation_id: int) -> HttpResponse:
    invitation = talent.invitation_for_party(invitation_id=invitation_id, viewer=request.user)
    context = _detail_context(request, invitation, DeclineForm())
    return render(request, "jobs/invitations/detail.html", context)


@login_required
@require_POST
def invitation_accept(request: AuthedRequest, invitation_id: int) -> HttpResponse:
    try:
        invitation = services.invitation_accept(actor=request.user, invitation_id=invitation_id)
    except NotFoundError as error:
        raise Http404(error.message)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("jobs:invitation_detail", invitation_id=invitation_id)
    messages.success(request, "Invitation accepted. Send your proposal: it costs no Connects.")
    return redirect("proposals:apply", public_id=invitation.job.public_id)


@login_required
@require_POST
def invitation_decline(request: AuthedRequest, invitation_id: int) -> HttpResponse:
    form = DeclineForm(request.POST)
    if form.is_valid():
        try:
            services.invitation_decline(
                actor=request.user,
                invitation_id=invitation_id,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
            )
        except NotFoundError as error:
            raise Http404(error.message)
        except ApplicationError as error:
            messages.error(request, error.message)
            return redirect("jobs:invitation_detail", invitation_id=invitation_id)
        messages.success(request, "Invitation declined. The client sees your reason.")
        return redirect("jobs:invitations")
    invitation = talent.invitation_for_party(invitation_id=invitation_id, viewer=request.user)
    if invitation.freelancer_id != request.user.pk:
        raise Http404("No such invitation.")
    context = _detail_context(request, invitation, form)
    return render(request, "jobs/invitations/detail.html", context, status=400)


urlpatterns: list[URLPattern] = [
    path("talent/", talent_search, name="talent"),
    path("talent/skills/", talent_skill_options, name="talent_skill_options"),
    path("talent/invite/<int:user_id>/", invite_pick, name="invite_pick"),
    path("jobs/<str:public_id>/invite/", invite, name="invite"),
    path("invitations/", invitation_list, name="invitations"),
    path("invitations/<int:invitation_id>/", invitation_detail, name="invitation_detail"),
    path("invitations/<int:invitation_id>/accept/", invitation_accept, name="invitation_accept"),
    path("invitations/<int:invitation_id>/decline/", invitation_decline, name="invitation_decline"),
]
