import io

import pytest
from django.core.management import call_command

from accounts.models import (
    Agency,
    Category,
    ClientProfile,
    FreelancerProfile,
    Skill,
    SkillAssessment,
    Subcategory,
    User,
)
from accounts.selectors import profile_completeness
from jobs.models import Job, ServiceListing, ServiceListingEvent
from messaging.models import Attachment, Conversation, Message

pytestmark = pytest.mark.django_db


def _run(**kwargs) -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out, **kwargs)
    return out.getvalue()


def test_taxonomy_meets_the_marketplace_scale():
    assert Category.objects.count() >= 10
    assert Subcategory.objects.count() >= 60
    assert Skill.objects.count() >= 400
    assert SkillAssessment.objects.count() >= 12
    python = SkillAssessment.objects.get(skill__name="Python")
    assert python.questions.count() >= 8
    for question in python.questions.prefetch_related("choices"):
        assert sum(choice.is_correct for choice in question.choices.all()) == 1


def test_seed_demo_creates_people_prints_logins_and_is_idempotent():
    output = _run(freelancers=4, clients=2, jobs=6)
    assert "Created 4 freelancers and 2 clients" in output
    assert "Created 6 jobs" in output
    assert Job.objects.filter(client__email__endswith="@demo.marketplace.local").count() == 6
    assert "freelancer1@demo.marketplace.local" in output
    assert "staff@demo.marketplace.local" in output
    assert "[##############################] 4/4" in output  # the progress bar finished

    profiles = list(FreelancerProfile.objects.filter(user__email__endswith="@demo.marketplace.local"))
    assert len(profiles) == 4
    for profile in profiles:
        assert profile.published_at is not None
        assert profile_completeness(profile).percent == 100
        assert profile.photo
    assert ClientProfile.objects.filter(user__email__startswith="client").count() == 2
    assert User.objects.get(email="staff@demo.marketplace.local").is_staff

    snapshot = sorted(FreelancerProfile.objects.values_list("user__email", "title", "hourly_rate_cents"))
    output_again = _run(freelancers=4, clients=2, jobs=6)
    assert "Created 0 freelancers and 0 clients" in output_again
    assert "Created 0 jobs" in output_again
    assert Job.objects.count() == 6
    assert (
        sorted(FreelancerProfile.objects.values_list("user__email", "title", "hourly_rate_cents")) == snapshot
    )
    assert User.objects.count() == 4 + 2 + 1


def test_seed_demo_is_deterministic_for_a_seed(django_db_blocker):
    _run(freelancers=3, clients=1, seed=7, jobs=0)
    first = sorted(
        FreelancerProfile.objects.values_list("user__email", "title", "hourly_rate_cents", "country")
    )
    # chat rows and catalog services protect their authors
    for model in (Attachment, Message, Conversation, ServiceListingEvent, ServiceListing):
        model.objects.all().delete()
    Agency.objects.all().delete()  # the demo agency protects its founder and inviters
    from community.models import Event

    Event.objects.all().delete()  # the demo webinars protect the staff member who created them
    User.objects.filter(email__endswith="@demo.marketplace.local").delete()
    _run(freelancers=3, clients=1, seed=7, jobs=0)
    second = sorted(
        FreelancerProfile.objects.values_list("user__email", "title", "hourly_rate_cents", "country")
    )
    assert first == second
