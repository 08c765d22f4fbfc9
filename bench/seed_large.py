"""Seed the large benchmark data set with bulk inserts (deterministic, with progress bars).

100,000 jobs, 20,000 freelancers and 5,000 clients by default (BENCH_JOBS, BENCH_FREELANCERS,
BENCH_CLIENTS). Idempotent: rows tagged with the bench e-mail domain are counted and only
the missing ones are added. Runs inside Django (called by bench/run.py).
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import ClientProfile, FreelancerProfile, Skill, Subcategory, User, Visibility
from jobs.models import Job
from jobs.seeding import DESCRIPTION_PARTS, PROJECTS, TITLE_PATTERNS
from jobs.services import refresh_search_vector
from marketplace.progress import Progress

DOMAIN = "@bench.marketplace.local"
BATCH = 2000


def _skills_by_subcategory() -> dict[int, list[Skill]]:
    out: dict[int, list[Skill]] = {}
    for skill in Skill.objects.order_by("pk"):
        out.setdefault(skill.subcategory_id, []).append(skill)
    return out


def _users(prefix: str, count: int, password: str) -> list[User]:
    existing = User.objects.filter(email__startswith=prefix, email__endswith=DOMAIN).count()
    bar = Progress(max(count - existing, 1), f"{prefix} users")
    for start in range(existing, count, BATCH):
        stop = min(count, start + BATCH)
        User.objects.bulk_create(
            [
                User(
                    email=f"{prefix}{i}{DOMAIN}",
                    first_name=prefix.capitalize(),
                    last_name=f"No{i}",
                    password=password,
                    active_role="client" if prefix == "client" else "freelancer",
                )
                for i in range(start, stop)
            ],
            batch_size=BATCH,
        )
        bar.advance(stop - start)
    bar.finish()
    return list(User.objects.filter(email__startswith=prefix, email__endswith=DOMAIN).order_by("pk"))


def seed_large(
    *, jobs: int = 100_000, freelancers: int = 20_000, clients: int = 5_000, seed: int = 7
) -> dict:
    rng = random.Random(seed)
    password = make_password("bench-pass-2026")
    subs = list(Subcategory.objects.order_by("pk"))
    skills_by_sub = _skills_by_subcategory()
    now = timezone.now()

    client_users = _users("client", clients, password)
    have = set(ClientProfile.objects.filter(user__in=client_users).values_list("user_id", flat=True))
    missing = client_users
    ClientProfile.objects.bulk_create(
        [
            ClientProfile(
                user=u,
                country=rng.choice(["US", "GB", "DE", "CA", "AU", "FR", "NL"]),
                payment_method_verified=rng.random() < 0.7,
                hires_count=rng.randint(0, 20),
                jobs_posted_count=rng.randint(1, 40),
            )
            for u in missing
            if u.pk not in have
        ],
        batch_size=BATCH,
    )

    freelancer_users = _users("freelancer", freelancers, password)
    have = set(FreelancerProfile.objects.filter(user__in=freelancer_users).values_list("user_id", flat=True))
    todo = [u for u in freelancer_users if u.pk not in have]
    bar = Progress(max(len(todo), 1), "freelancer profiles")
    through = FreelancerProfile.skills.through
    for start in range(0, len(todo), BATCH):
        chunk = todo[start : start + BATCH]
        profiles, picks = [], []
        for user in chunk:
            sub = subs[rng.randrange(len(subs))]
            pool = skills_by_sub.get(sub.pk, [])
            chosen = rng.sample(pool, k=min(len(pool), rng.randint(3, 8)))
            names = ", ".join(s.name for s in chosen)
            profiles.append(
                FreelancerProfile(
                    user=user,
                    title=f"{sub.name} specialist"[:100],
                    category_id=sub.category_id,
                    subcategory=sub,
                    overview=f"I work on {sub.name.lower()} projects with {names}. " * 3,
                    hourly_rate_cents=rng.choice([15, 20, 25, 30, 40, 50, 65, 80, 100]) * 100,
                    experience_level=rng.choice(["entry", "intermediate", "expert"]),
                    visibility=Visibility.PUBLIC,
                    country=rng.choice(["IN", "PK", "UA", "PL", "BR", "NG", "PH", "US", "GB"]),
                    published_at=now - timedelta(days=rng.randint(1, 900)),
                    onboarding_step="review",
                    job_success_score=rng.choice([None, None, 82, 90, 95, 100]),
                )
            )
            picks.append(chosen)
        FreelancerProfile.objects.bulk_create(profiles, batch_size=BATCH)
        through.objects.bulk_create(
            [
                through(freelancerprofile_id=p.pk, skill_id=s.pk)
                for p, chosen in zip(profiles, picks, strict=True)
                for s in chosen
            ],
            batch_size=5000,
            ignore_conflicts=True,
        )
        bar.advance(len(chunk))
    bar.finish()

    client_country = dict(
        ClientProfile.objects.filter(user__in=client_users).values_list("user_id", "country")
    )
    existing_jobs = Job.objects.filter(client__email__endswith=DOMAIN).count()
    bar = Progress(max(jobs - existing_jobs, 1), "jobs")
    job_skills = Job.skills.through
    for start in range(existing_jobs, jobs, BATCH):
        stop = min(jobs, start + BATCH)
        rows, picks = [], []
        for i in range(start, stop):
            sub = subs[rng.randrange(len(subs))]
            pool = skills_by_sub.get(sub.pk, [])
            chosen = rng.sample(pool, k=min(len(pool), rng.randint(2, 6)))
            names = [s.name for s in chosen] + ["clean code", "clear communication"]
            fmt = {
                "skill": names[0],
                "skill2": names[1],
                "sub": sub.name,
                "sub_l": sub.name.lower(),
                "project": rng.choice(PROJECTS),
                "size_word": rng.choice(["small", "growing", "remote"]),
            }
            hourly = rng.random() < 0.45
            low = rng.choice([10, 15, 20, 30, 40, 60]) * 100
            published = now - timedelta(minutes=rng.randint(1, 60 * 24 * 90))
            client = client_users[i % len(client_users)]
            rows.append(
                Job(
                    client=client,
                    title=rng.choice(TITLE_PATTERNS).format(**fmt)[:120],
                    description=" ".join(p.format(**fmt) for p in rng.sample(DESCRIPTION_PARTS, k=4)),
                    category_id=sub.category_id,
                    subcategory=sub,
                    skills_text=" ".join(s.name for s in chosen),
                    size=rng.choice(["small", "medium", "large"]),
                    duration=rng.choice(["lt1", "1to3", "3to6", "gt6"]),
                    experience_level=rng.choice(["entry", "intermediate", "expert"]),
                    budget_type="hourly" if hourly else "fixed",
                    hourly_min_cents=low if hourly else None,
                    hourly_max_cents=low + 2000 if hourly else None,
                    fixed_budget_cents=None if hourly else rng.choice([100, 500, 1000, 3000, 8000]) * 100,
                    status="open",
                    published_at=published,
                    created_at=published,
                    proposals_count=rng.randint(0, 60),
                    client_country=client_country.get(client.pk) or "US",
                )
            )
            picks.append(chosen)
        with transaction.atomic():
            Job.objects.bulk_create(rows, batch_size=BATCH)
            job_skills.objects.bulk_create(
                [
                    job_skills(job_id=j.pk, skill_id=s.pk)
                    for j, chosen in zip(rows, picks, strict=True)
                    for s in chosen
                ],
                batch_size=5000,
                ignore_conflicts=True,
            )
        bar.advance(stop - start)
    bar.finish()

    # Only after a load: rewriting 100,000 vectors on every run bloats the table and its
    # indexes (a VACUUM later recovers the space, but each run would pay a minute for it).
    stale = Job.objects.filter(client__email__endswith=DOMAIN, search_vector__isnull=True).exists()
    if jobs > existing_jobs or stale:
        print("computing search vectors (one UPDATE) ...", flush=True)
        refresh_search_vector(job_ids=None)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return {
        "jobs": Job.objects.filter(client__email__endswith=DOMAIN).count(),
        "freelancers": FreelancerProfile.objects.filter(user__email__endswith=DOMAIN).count(),
        "clients": ClientProfile.objects.filter(user__email__endswith=DOMAIN).count(),
    }
