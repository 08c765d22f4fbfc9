"""Demo data of the help center and events: the articles (through ``seed_help_center``),
three upcoming webinars and two past ones with recordings. Idempotent (by slug)."""

from __future__ import annotations

import io
from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone

from accounts.models import User

from .models import Event

DEMO_EVENTS = [
    # slug, title, speaker, speaker title, days from today, hour UTC, capacity, description
    (
        "winning-your-first-contract",
        "Winning your first contract",
        "Amara Okafor",
        "Top Rated Plus developer",
        3,
        15,
        100,
        "How to pick jobs worth your Connects, write a cover letter the client reads to the end, "
        "and price your first fixed-price milestones.",
    ),
    (
        "hiring-well-on-the-marketplace",
        "Hiring well: from job post to first milestone",
        "Daniel Weiss",
        "Head of client success",
        8,
        17,
        150,
        "Write a job post that attracts the right freelancers, review proposals quickly with "
        "shortlists and match reasons, and fund milestones the right way.",
    ),
    (
        "getting-paid-escrow-and-holds",
        "Getting paid: escrow, holds and weekly billing",
        "Lena Marquez",
        "Payments team",
        15,
        14,
        80,
        "A walk through the money timeline: funding, release, the security hold, hourly weeks "
        "and their review period, and withdrawals. Bring your questions.",
    ),
    (
        "pricing-your-services",
        "Pricing your services in the catalog",
        "Kenji Sato",
        "Designer and catalog seller",
        -20,
        16,
        120,
        "Three tiers, add-ons and delivery times: how successful sellers package their work.",
    ),
    (
        "disputes-demystified",
        "Disputes demystified",
        "Priya Raman",
        "Trust and safety lead",
        -45,
        15,
        120,
        "What happens when a client and a freelancer disagree: deadlines, settlement proposals "
        "and how staff mediate.",
    ),
]


def seed_demo_help_events(*, staff: User | None = None) -> dict[str, int]:
    call_command("seed_help_center", verbosity=0, stdout=io.StringIO())
    staff = staff or User.objects.filter(is_staff=True).order_by("pk").first()
    if staff is None:
        return {"events": 0}
    today = timezone.now().replace(minute=0, second=0, microsecond=0)
    created = 0
    for slug, title, speaker, speaker_title, days, hour, capacity, description in DEMO_EVENTS:
        starts_at = (today + timedelta(days=days)).replace(hour=hour)
        past = days < 0
        _, was_created = Event.objects.get_or_create(
            slug=slug,
            defaults={
                "title": title,
                "description": description,
                "speaker_name": speaker,
                "speaker_title": speaker_title,
                "starts_at": starts_at,
                "duration_minutes": 60,
                "capacity": capacity,
                "join_url": f"https://meet.example.com/{slug}",
                "recording_url": f"https://videos.example.com/{slug}" if past else "",
                "is_published": True,
                "created_by": staff,
            },
        )
        created += int(was_created)
    return {"events": created}
