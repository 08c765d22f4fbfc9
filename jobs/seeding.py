"""Demo jobs for ``seed_demo``: realistic posts across categories, built through the services.

Deterministic for a seed; idempotent (clients that already have jobs are skipped).
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import ExperienceLevel, Subcategory, User
from marketplace.progress import Progress

from . import services
from .models import Invitation, Job, SavedSearch
from .services import JobInput

TITLE_PATTERNS = [
    "{skill} expert needed for {project}",
    "Looking for a {sub} specialist ({skill})",
    "{project}: {skill} and {skill2}",
    "Experienced {skill} freelancer for ongoing {sub_l} work",
    "Quick {sub_l} task: {project}",
    "Help us with {project} using {skill}",
]
PROJECTS = [
    "our company website",
    "a mobile app launch",
    "a product catalogue",
    "a new marketing campaign",
    "the quarterly report",
    "an online course",
    "a customer portal",
    "a data migration",
    "our brand refresh",
    "a startup MVP",
    "an e-commerce store",
    "an internal dashboard",
    "a podcast series",
    "a grant application",
]
DESCRIPTION_PARTS = [
    "We are a {size_word} team working on {project}. We need someone who knows {skill} well and can "
    "start this week.",
    "Deliverables are agreed up front and split into milestones. You will work with our product lead, "
    "who answers questions within a day.",
    "Experience with {skill2} is a plus. Please describe a similar project you delivered and how long "
    "it took.",
    "Communication in English; overlap of a few hours with European time is helpful but not required.",
    "If this goes well there is more {sub_l} work over the coming months.",
]
QUESTIONS = [
    "Describe a similar project you completed.",
    "What is your availability over the next month?",
    "Which tools would you use for this work?",
]


def _job_input(rng: random.Random, sub: Subcategory) -> JobInput:
    skills = list(sub.skills.order_by("pk"))
    chosen = rng.sample(skills, k=min(len(skills), rng.randint(2, 6)))
    names = [s.name for s in chosen] + ["clean code", "clear communication"]
    fmt = {
        "skill": names[0],
        "skill2": names[1],
        "sub": sub.name,
        "sub_l": sub.name.lower(),
        "project": rng.choice(PROJECTS),
        "size_word": rng.choice(["small", "growing", "remote", "busy"]),
    }
    title = rng.choice(TITLE_PATTERNS).format(**fmt)[:120]
    if len(title) < 10:
        title = f"{title} project"
    description = " ".join(part.format(**fmt) for part in rng.sample(DESCRIPTION_PARTS, k=rng.randint(3, 5)))
    hourly = rng.random() < 0.45
    data = JobInput(
        title=title,
        description=description,
        category_id=sub.category_id,
        subcategory_id=sub.pk,
        skill_ids=[s.pk for s in chosen],
        size=rng.choice(list(Job.Size.values)),
        duration=rng.choice(list(Job.Duration.values)),
        experience_level=rng.choice(list(ExperienceLevel.values)),
        budget_type=Job.BudgetType.HOURLY if hourly else Job.BudgetType.FIXED,
        visibility=Job.Visibility.INVITE_ONLY if rng.random() < 0.05 else Job.Visibility.PUBLIC,
        freelancers_needed=1 if rng.random() < 0.85 else rng.randint(2, 4),
        questions=rng.sample(QUESTIONS, k=rng.randint(0, 2)),
    )
    if hourly:
        low = rng.choice([10, 15, 20, 25, 30, 40, 50, 60])
        data.hourly_min_cents = low * 100
        data.hourly_max_cents = (low + rng.choice([10, 15, 20, 30, 40])) * 100
    else:
        data.fixed_budget_cents = rng.choice([50, 100, 250, 500, 800, 1200, 2000, 3500, 5000, 10000]) * 100
    return data


def seed_jobs(*, rng: random.Random, clients: list[User], freelancers: list[User], count: int, stream) -> int:
    """Create ``count`` jobs spread over ``clients`` (mostly open; some drafts and closed),
    a few invitations and saved searches. Returns the number of jobs created."""
    fresh_clients = [c for c in clients if not Job.objects.filter(client=c).exists()]
    subcategories = list(Subcategory.objects.order_by("pk"))
    if not fresh_clients or not subcategories:
        return 0
    bar = Progress(count, "Jobs", stream=stream)
    created = 0
    now = timezone.now()
    for i in range(count):
        client = fresh_clients[i % len(fresh_clients)]
        data = _job_input(rng, subcategories[rng.randrange(len(subcategories))])
        roll = rng.random()
        age = timedelta(hours=rng.randint(1, 24 * 40))
        with transaction.atomic():
            job = services.job_create(actor=client, data=data)
            if roll < 0.9:
                job = services.job_publish(actor=client, job_id=job.pk)
                # spread publication dates over the last weeks, as a live site has
                Job.objects.filter(pk=job.pk).update(published_at=now - age, created_at=now - age)
                if roll > 0.82:
                    services.job_close(actor=client, job_id=job.pk, reason=Job.CloseReason.NO_LONGER_NEEDED)
        created += 1
        bar.advance()
    bar.finish()
    _seed_invitations(rng, fresh_clients, freelancers)
    _seed_saved_searches(freelancers)
    return created


def _seed_invitations(rng: random.Random, clients: list[User], freelancers: list[User]) -> None:
    if not freelancers:
        return
    for client in clients:
        job = Job.objects.filter(client=client, status=Job.Status.OPEN).order_by("pk").first()
        if job is None:
            continue
        for freelancer in rng.sample(freelancers, k=min(2, len(freelancers))):
            if Invitation.objects.filter(job=job, freelancer=freelancer).exists():
                continue
            services.invitation_send(
                actor=client,
                job_id=job.pk,
                freelancer_id=freelancer.pk,
                message=f"Hi {freelancer.first_name}, your profile looks like a great fit for {job.title}. "
                "Would you send me a proposal?",
            )


def _seed_saved_searches(freelancers: list[User]) -> None:
    for freelancer in freelancers[:5]:
        profile = getattr(freelancer, "freelancer_profile", None)
        if (
            profile is None
            or profile.category_id is None
            or SavedSearch.objects.filter(user=freelancer).exists()
        ):
            continue
        services.saved_search_create(
            actor=freelancer,
            name=f"{profile.category.name} jobs",
            query_string=f"category={profile.category_id}",
        )
