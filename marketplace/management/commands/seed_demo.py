"""``manage.py seed_demo``: the taxonomy, skill tests, 30 freelancers, 10 clients, a staff user,
200 jobs with invitations and saved searches, conversations, and hiring (proposals in every
state, offers, active, paused and ended contracts).

Idempotent and deterministic: the same seed gives the same people, and running it twice
changes nothing. People are built through the real services, as a user would.
"""

from __future__ import annotations

import functools
import io
import random
from datetime import date

from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand
from django.db import transaction
from PIL import Image, ImageDraw

from accounts import services
from accounts.demo import (
    CLIENT_COMPANIES,
    COMPANIES,
    COUNTRIES,
    FIRST_NAMES,
    LAST_NAMES,
    OVERVIEW_TEMPLATES,
    SCHOOLS,
    TIMEZONES,
    TITLE_TEMPLATES,
)
from accounts.models import (
    AssessmentChoice,
    AssessmentQuestion,
    Availability,
    Category,
    ExperienceLevel,
    Proficiency,
    Role,
    Skill,
    SkillAssessment,
    Subcategory,
    User,
    Visibility,
)
from accounts.taxonomy import sync_assessments, sync_taxonomy
from marketplace.progress import Progress

DEMO_PASSWORD = "demo-pass-2026"
STAFF_EMAIL = "staff@demo.marketplace.local"


def _avatar(initials: str, rng: random.Random) -> SimpleUploadedFile:
    colour = tuple(rng.randint(60, 200) for _ in range(3))
    image = Image.new("RGB", (256, 256), colour)
    draw = ImageDraw.Draw(image)
    draw.ellipse((48, 48, 208, 208), outline=(255, 255, 255), width=8)
    draw.text((104, 112), initials, fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return SimpleUploadedFile("avatar.png", buffer.getvalue(), content_type="image/png")


@functools.cache
def _demo_password_hash() -> str:
    return make_password(DEMO_PASSWORD)


def _ensure_user(email: str, first: str, last: str, role: str, *, staff: bool = False) -> tuple[User, bool]:
    existing = User.objects.filter(email=email).first()
    if existing is not None:
        return existing, False
    user = User.objects.create_user(email=email, password=None, is_staff=staff, is_superuser=staff)
    user.password = _demo_password_hash()  # hashing once saves ~0.25 s per user
    user.save(update_fields=["password"])
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    services.user_complete_signup(user=user, role=role, first_name=first, last_name=last)
    return user, True


class Command(BaseCommand):
    help = "Load demo data (idempotent, deterministic). Prints the demo logins."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--freelancers", type=int, default=30)
        parser.add_argument("--clients", type=int, default=10)
        parser.add_argument("--jobs", type=int, default=200)

    def handle(self, *args, **options):
        from django.conf import settings
        from django.test.utils import override_settings

        if settings.EMAIL_BACKEND.endswith("console.EmailBackend"):
            # the demo's notifications would print hundreds of emails: keep them in memory
            with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
                return self._seed(**options)
        return self._seed(**options)

    def _seed(self, *, seed: int, freelancers: int, clients: int, jobs: int = 200, **options):
        rng = random.Random(seed)
        out = self.stdout
        with transaction.atomic():
            cats, subs, skills = sync_taxonomy(Category, Subcategory, Skill)
            sync_assessments(Skill, SkillAssessment, AssessmentQuestion, AssessmentChoice)
        out.write(
            f"Taxonomy: {cats} categories, {subs} subcategories, {skills} skills; "
            f"{SkillAssessment.objects.count()} skill tests."
        )

        _ensure_user(STAFF_EMAIL, "Sam", "Staff", Role.CLIENT, staff=True)

        subcategories = list(Subcategory.objects.select_related("category").order_by("pk"))
        bar = Progress(freelancers, "Freelancers", stream=out)  # type: ignore[arg-type]
        created_f = 0
        for i in range(freelancers):
            with transaction.atomic():
                created_f += self._freelancer(i, rng, subcategories)
            bar.advance()

        bar = Progress(clients, "Clients", stream=out)  # type: ignore[arg-type]
        created_c = 0
        for i in range(clients):
            with transaction.atomic():
                created_c += self._client(i, rng)
            bar.advance()

        out.write(
            self.style.SUCCESS(
                f"Created {created_f} freelancers and {created_c} clients (existing ones were left as they were)."
            )
        )
        from jobs.seeding import seed_jobs

        demo = "@demo.marketplace.local"
        demo_clients = list(
            User.objects.filter(email__startswith="client", email__endswith=demo).order_by("pk")
        )
        demo_freelancers = list(
            User.objects.filter(email__startswith="freelancer", email__endswith=demo).order_by("pk")
        )
        created_j = seed_jobs(
            rng=random.Random(seed + 1),
            clients=demo_clients,
            freelancers=demo_freelancers,
            count=jobs,
            stream=out,
        )
        out.write(
            self.style.SUCCESS(f"Created {created_j} jobs (clients that already had jobs were skipped).")
        )
        from messaging.seeding import seed_conversations

        created_m = seed_conversations(demo_clients[:5] + demo_freelancers[:5], random.Random(seed + 2), out)  # type: ignore[arg-type]
        out.write(self.style.SUCCESS(f"Created {created_m} demo conversations."))
        from contracts.seeding import seed_hiring

        hired = seed_hiring(
            rng=random.Random(seed + 3),
            clients=demo_clients,
            freelancers=demo_freelancers,
            staff=User.objects.get(email=STAFF_EMAIL),
            stream=out,  # type: ignore[arg-type]
        )
        out.write(
            self.style.SUCCESS(
                f"Created {hired['proposals']} proposals, {hired['offers']} offers and {hired['contracts']} contracts."
            )
        )
        from contracts.seeding import seed_money

        money = seed_money(clients=demo_clients, stream=out)  # type: ignore[arg-type]
        out.write(
            self.style.SUCCESS(
                f"Saved {money['cards']} test cards, funded {money['funded']} milestones, paid {money['released']}."
            )
        )
        from contracts.seeding import seed_dispute, seed_hourly

        hourly = seed_hourly(clients=demo_clients, stream=out)  # type: ignore[arg-type]
        disputes = seed_dispute(clients=demo_clients)
        out.write(
            self.style.SUCCESS(
                f"Logged {hourly['segments']} diary segments, billed {hourly['timesheets']} weeks, "
                f"opened {disputes} dispute."
            )
        )
        from jobs.catalog_seeding import seed_demo_catalog

        services_made = seed_demo_catalog(
            freelancers=demo_freelancers, staff=User.objects.get(email=STAFF_EMAIL)
        )
        out.write(self.style.SUCCESS(f"Published {services_made} catalog services."))
        from reviews.seeding import seed_reviews

        out.write(
            self.style.SUCCESS(f"Left {seed_reviews(clients=demo_clients)} reviews on ended contracts.")
        )
        from community.forum_seeding import seed_demo_forums

        threads_made = seed_demo_forums(
            freelancers=demo_freelancers, clients=demo_clients, staff=User.objects.get(email=STAFF_EMAIL)
        )
        out.write(self.style.SUCCESS(f"Started {threads_made} forum threads."))
        from community.community_seeding import seed_demo_help_events

        out.write(self.style.SUCCESS(f"Help center and events: {seed_demo_help_events()}."))
        from accounts.team_seeding import seed_demo_team

        out.write(self.style.SUCCESS(f"Client team: {seed_demo_team(clients=demo_clients)}."))
        from accounts.agency_seeding import seed_demo_agency

        out.write(self.style.SUCCESS(f"Agency: {seed_demo_agency()}."))
        from reviews.reputation import refresh_all

        out.write(self.style.SUCCESS(f"Reputation figures refreshed: {refresh_all()}."))
        out.write(f"\nDemo logins (password for all: {DEMO_PASSWORD})")
        out.write(f"  staff (admin at /admin/): {STAFF_EMAIL}")
        out.write(
            f"  freelancer:               freelancer1@demo.marketplace.local  (... freelancer{freelancers})"
        )
        out.write(f"  client:                   client1@demo.marketplace.local      (... client{clients})")

    def _freelancer(self, i: int, rng: random.Random, subcategories: list[Subcategory]) -> int:
        # Draw every random value even for existing users, so the sequence stays deterministic.
        first, last = FIRST_NAMES[i % len(FIRST_NAMES)], LAST_NAMES[(i * 7) % len(LAST_NAMES)]
        sub = subcategories[(i * 3 + rng.randrange(len(subcategories))) % len(subcategories)]
        sub_skills = list(sub.skills.order_by("pk"))
        chosen = rng.sample(sub_skills, k=min(len(sub_skills), rng.randint(4, 9)))
        country = COUNTRIES[rng.randrange(len(COUNTRIES))]
        years = rng.randint(2, 15)
        rate = rng.choice([15, 20, 25, 30, 35, 40, 45, 55, 65, 75, 90, 120]) * 100
        level = rng.choice(list(ExperienceLevel.values))
        names = [s.name for s in chosen] + ["clear communication", "quality work"]
        fmt = {
            "sub": sub.name,
            "sub_l": sub.name.lower(),
            "skill": names[0],
            "skill2": names[1],
            "years": years,
            "n": rng.randint(3, 14),
        }
        title = rng.choice(TITLE_TEMPLATES).format(**fmt)[:100]
        overview = rng.choice(OVERVIEW_TEMPLATES).format(**fmt)
        school = SCHOOLS[rng.randrange(len(SCHOOLS))]
        company = COMPANIES[rng.randrange(len(COMPANIES))]
        avatar_colour_seed = rng.random()

        email = f"freelancer{i + 1}@demo.marketplace.local"
        user, created = _ensure_user(email, first, last, Role.FREELANCER)
        if not created:
            return 0
        services.freelancer_profile_update(
            actor=user,
            title=title,
            overview=overview,
            hourly_rate_cents=rate,
            category_id=sub.category_id,
            subcategory_id=sub.pk,
            experience_level=level,
            country=country,
            timezone=TIMEZONES[country],
            availability=rng.choice(
                [Availability.MORE_THAN_30, Availability.LESS_THAN_30, Availability.AS_NEEDED]
            ),
            open_to_contract_to_hire=rng.random() < 0.3,
            visibility=Visibility.PUBLIC,
        )
        services.freelancer_profile_set_skills(actor=user, skill_ids=[s.pk for s in chosen])
        services.language_set(
            actor=user,
            language="en",
            proficiency=rng.choice([Proficiency.FLUENT, Proficiency.NATIVE, Proficiency.CONVERSATIONAL]),
        )
        if rng.random() < 0.6:
            services.language_set(
                actor=user,
                language=rng.choice(["es", "fr", "de", "pt", "pl", "hi", "ar"]),
                proficiency=rng.choice(list(Proficiency.values)),
            )
        end_year = 2024 - years
        services.education_save(
            actor=user,
            school=school[0],
            degree=school[1],
            field_of_study=school[2],
            start_year=end_year - 4,
            end_year=end_year,
        )
        services.employment_save(
            actor=user,
            company=company,
            title=f"{sub.name} lead"[:120],
            start_date=date(end_year + 1, 3, 1),
            end_date=date(2024, 6, 30),
            country=country,
        )
        services.portfolio_item_save(
            actor=user,
            title=f"{sub.name} project for {company}"[:100],
            description=f"Delivered with {names[0]} and {names[1]}.",
            link="https://example.com/case-study",
            skill_ids=[s.pk for s in chosen[:3]],
        )
        services.freelancer_profile_set_photo(
            actor=user, upload=_avatar(first[0] + last[0], random.Random(avatar_colour_seed))
        )
        for step in ("about", "education", "experience", "languages", "rate", "overview"):
            services.freelancer_onboarding_advance(actor=user, completed_step=step)
        services.freelancer_profile_publish(actor=user)
        return 1

    def _client(self, i: int, rng: random.Random) -> int:
        first, last = FIRST_NAMES[(i * 3 + 11) % len(FIRST_NAMES)], LAST_NAMES[(i * 5 + 3) % len(LAST_NAMES)]
        company = CLIENT_COMPANIES[i % len(CLIENT_COMPANIES)] if i < len(CLIENT_COMPANIES) else None
        country = COUNTRIES[rng.randrange(len(COUNTRIES))]
        email = f"client{i + 1}@demo.marketplace.local"
        user, created = _ensure_user(email, first, last, Role.CLIENT)
        if not created:
            return 0
        if company:
            services.client_profile_update(
                actor=user,
                kind="company",
                company_name=company[0],
                industry=company[1],
                company_size=company[2],
                website=f"https://{company[0].lower().replace(' ', '').replace('&', 'and')}.example",
                country=country,
                timezone=TIMEZONES[country],
            )
        else:
            services.client_profile_update(
                actor=user, kind="individual", country=country, timezone=TIMEZONES[country]
            )
        return 1
