"""Demo data for the service catalog: approved services with three tiers for demo
freelancers, created through the real services (``jobs.catalog``). Called by the lead's
``seed_demo`` wiring; deterministic for a given list of freelancers."""

from __future__ import annotations

from collections.abc import Sequence

from accounts.models import Category, FreelancerProfile, Skill, User

from . import catalog
from .catalog import ListingInput, TierInput
from .models import ServiceListing

SERVICES = [
    ("I will build a responsive Django web application", "Web app"),
    ("I will design a modern logo and brand identity", "Logo"),
    ("I will write SEO blog articles for your business", "Articles"),
    ("I will set up your PostgreSQL database and tune it", "Database"),
    ("I will create a landing page that converts", "Landing page"),
    ("I will translate your website from English to Polish", "Translation"),
    ("I will automate your spreadsheets with Python", "Automation"),
    ("I will edit your product video for social media", "Video"),
]


def service_input(
    title: str, *, category_id: int, skill_ids: Sequence[int] = (), base_cents: int = 5_000
) -> ListingInput:
    """A valid service: Starter, Standard (2x) and Advanced (4x), both add-ons, two questions."""
    return ListingInput(
        title=title,
        category_id=category_id,
        description=f"{title}. Clear communication, clean work, delivered on time with the files you need. "
        * 2,
        skill_ids=list(skill_ids),
        tiers={
            "starter": TierInput(base_cents, 5, 1, "The essentials: one page or one item."),
            "standard": TierInput(base_cents * 2, 7, 2, "Everything in Starter, up to three pages or items."),
            "advanced": TierInput(
                base_cents * 4, 10, 3, "Everything in Standard, with source files and support."
            ),
        },
        questions=["What is your business about?", "Share links to examples you like."],
        fast_delivery_price_cents=max(500, base_cents // 2),
        fast_delivery_days_less=2,
        extra_revision_price_cents=max(500, base_cents // 5),
    )


def seed_catalog(
    *, freelancers: Sequence[User] | None = None, staff: User, count: int = 8
) -> list[ServiceListing]:
    """Create ``count`` approved services spread over ``freelancers`` (default: the published
    freelancer profiles, oldest first), approved by ``staff``."""
    if freelancers is None:
        freelancers = [
            p.user for p in FreelancerProfile.objects.select_related("user").order_by("pk")[: max(1, count)]
        ]
    freelancers = list(freelancers)
    if not freelancers:
        return []
    fallback = Category.objects.order_by("pk").first()
    if fallback is None:
        return []
    made = []
    for index in range(count):
        title, _ = SERVICES[index % len(SERVICES)]
        seller = freelancers[index % len(freelancers)]
        profile = FreelancerProfile.objects.filter(user=seller).first()
        category_id = (profile.category_id if profile else None) or fallback.pk
        skills = list(
            Skill.objects.filter(subcategory__category_id=category_id)
            .order_by("pk")
            .values_list("pk", flat=True)[:3]
        )
        specialty = profile.subcategory if profile is not None else None
        if profile is not None and specialty is not None:
            # a service in the seller's own specialty reads true on the demo
            title = f"{specialty.name}: a complete package from an experienced freelancer"[:80]
            own = list(profile.skills.order_by("pk").values_list("pk", flat=True)[:3])
            skills = own or skills
        listing = catalog.listing_create(
            actor=seller,
            data=service_input(
                title, category_id=category_id, skill_ids=skills, base_cents=5_000 + 2_500 * index
            ),
        )
        catalog.listing_submit(actor=seller, listing_id=listing.pk)
        made.append(catalog.listing_approve(actor=staff, listing_id=listing.pk))
    return made


def seed_demo_catalog(*, freelancers: Sequence[User], staff: User, count: int = 8) -> int:
    """``seed_demo``'s services: once (nothing is added when demo freelancers already sell)."""
    if ServiceListing.objects.filter(freelancer__in=freelancers).exists():
        return 0
    published = [
        f
        for f in freelancers
        if FreelancerProfile.objects.filter(user=f, published_at__isnull=False).exists()
    ]
    return len(seed_catalog(freelancers=published[:count], staff=staff, count=count)) if published else 0
