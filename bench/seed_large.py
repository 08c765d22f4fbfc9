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


# --- the owners' histories: what the list pages and the contract page show ---------------------------

# Rows per owner, large enough that a page doing a query per row would show it in the figures.
HISTORY = {
    "proposals": 500,  # on one job of the bench client
    "contracts": 60,  # of the bench freelancer, one per client
    "milestones": 60,  # of the long contract (client0 and freelancer0)
    "events": 400,  # of the long contract
    "contract_messages": 1000,  # in the long contract's conversation
    "conversations": 200,  # of the bench freelancer, 5 messages each
    "notifications": 2000,  # of the bench freelancer
    "listings": 2000,  # approved services of bench freelancers
    "threads": 2000,  # on one forum board, each with one reply
}
LONG_CONTRACT = "Bench long history contract"
CONTRACT_PREFIX = "Bench contract "
CHAT_PREFIX = "Bench chat "
THREAD_PREFIX = "Bench thread "


def _messages(conversation, senders: list, count: int, now) -> None:
    """``count`` text messages at the end of ``conversation``, alternating senders."""
    from messaging.models import Conversation, Message

    start = conversation.last_message_seq
    Message.objects.bulk_create(
        [
            Message(
                conversation=conversation,
                seq=start + n + 1,
                sender=senders[n % len(senders)],
                body=f"Update number {start + n + 1} on the work, with a question or two.",
                created_at=now - timedelta(minutes=count - n),
            )
            for n in range(count)
        ],
        batch_size=BATCH,
    )
    last = Message.objects.filter(conversation=conversation).order_by("-seq").first()
    Conversation.objects.filter(pk=conversation.pk).update(last_message=last, last_message_seq=last.seq)


def seed_histories(*, seed: int = 7) -> dict:
    """The bench client's (client0) and the bench freelancer's (freelancer0) histories, in
    bulk: a job with many proposals, many contracts, one contract with a long history
    (milestones, events, messages), conversations, notifications; and, for everyone,
    service listings and a busy forum board. Idempotent: each part is added only when its
    rows are missing. Returns the ids the benchmark needs."""
    from community.forum_seeding import ensure_boards
    from community.models import Board, Post, Thread
    from contracts.models import Contract, ContractEvent, Milestone, Offer
    from jobs.models import ServiceListing, ServiceTier
    from messaging import services as messaging_services
    from messaging.models import Message, Notification, Participant
    from proposals.models import Proposal

    rng = random.Random(seed)
    now = timezone.now()
    client0 = User.objects.get(email=f"client0{DOMAIN}")
    freelancer_users = list(
        User.objects.filter(email__startswith="freelancer", email__endswith=DOMAIN).order_by("pk")[
            : max(HISTORY["proposals"] + 1, HISTORY["conversations"] + 1, 600)
        ]
    )
    freelancer0 = freelancer_users[0]
    clients = list(
        User.objects.filter(email__startswith="client", email__endswith=DOMAIN).order_by("pk")[
            : max(HISTORY["contracts"], HISTORY["conversations"] + 1)
        ]
    )

    # a job of client0 with many proposals
    big_job = Job.objects.filter(client=client0, status="open").order_by("pk").first()
    assert big_job is not None, "seed_large() first"
    have = Proposal.objects.filter(job=big_job).count()
    if have < HISTORY["proposals"]:
        print(f"proposals on one job: {HISTORY['proposals'] - have}", flush=True)
        already = set(Proposal.objects.filter(job=big_job).values_list("freelancer_id", flat=True))
        hourly = big_job.budget_type == "hourly"
        rows = []
        for user in freelancer_users[1:]:
            if len(rows) + have >= HISTORY["proposals"]:
                break
            if user.pk in already:
                continue
            rows.append(
                Proposal(
                    job=big_job,
                    freelancer=user,
                    cover_letter="I have done this kind of work many times; here is how I would start. " * 3,
                    duration=rng.choice(["lt1", "1to3", "3to6"]),
                    hourly_rate_cents=rng.choice([2000, 3500, 5000]) if hourly else None,
                    fixed_amount_cents=None if hourly else rng.choice([50_000, 80_000, 120_000]),
                    status=rng.choice(["submitted"] * 8 + ["shortlisted", "declined"]),
                    match_score=rng.randint(10, 95),
                    created_at=now - timedelta(minutes=rng.randint(1, 60 * 24 * 20)),
                )
            )
        Proposal.objects.bulk_create(rows, batch_size=BATCH)
        Job.objects.filter(pk=big_job.pk).update(proposals_count=Proposal.objects.filter(job=big_job).count())

    # contracts of freelancer0, one per client; the first (with client0) has a long history
    have = Contract.objects.filter(freelancer=freelancer0, title__startswith=CONTRACT_PREFIX).count()
    have += Contract.objects.filter(freelancer=freelancer0, title=LONG_CONTRACT).count()
    if have < HISTORY["contracts"]:
        print(f"contracts of the bench freelancer: {HISTORY['contracts'] - have}", flush=True)
        taken = set(Contract.objects.filter(freelancer=freelancer0).values_list("client_id", flat=True))
        first_job = {}
        for client_id, job_id in (
            Job.objects.filter(client__in=clients).order_by("-pk").values_list("client_id", "pk")
        ):
            first_job[client_id] = job_id  # the lowest pk wins
        with transaction.atomic():
            for index, client in enumerate(clients[: HISTORY["contracts"]]):
                if client.pk in taken:
                    continue
                title = LONG_CONTRACT if client.pk == client0.pk else f"{CONTRACT_PREFIX}{index}"
                started = now - timedelta(days=rng.randint(10, 300))
                offer = Offer.objects.create(
                    client=client,
                    freelancer=freelancer0,
                    job_id=first_job.get(client.pk),
                    title=title,
                    contract_type="fixed",
                    fixed_amount_cents=300_000,
                    start_date=started.date(),
                    status="accepted",
                    expires_at=started + timedelta(days=7),
                    responded_at=started,
                )
                contract = Contract.objects.create(
                    offer=offer,
                    client=client,
                    freelancer=freelancer0,
                    job_id=first_job.get(client.pk),
                    title=title,
                    contract_type="fixed",
                    start_date=started.date(),
                    started_at=started,
                )
                Milestone.objects.bulk_create(
                    [
                        Milestone(
                            contract=contract,
                            position=n,
                            description=f"Part {n + 1}",
                            amount_cents=100_000,
                            added_by=client,
                        )
                        for n in range(3)
                    ]
                )
                ContractEvent.objects.create(
                    contract=contract,
                    actor=freelancer0,
                    kind="started",
                    to_status="active",
                    created_at=started,
                )

    # the long contract's history: milestones, events, a conversation with many messages
    long_contract = Contract.objects.get(freelancer=freelancer0, client=client0, title=LONG_CONTRACT)
    have = Milestone.objects.filter(contract=long_contract).count()
    if have < HISTORY["milestones"]:
        print(
            f"milestones, events and messages of the long contract: {HISTORY['milestones'] - have}",
            flush=True,
        )
        statuses = ["released"] * 6 + ["funded", "submitted", "pending"]
        Milestone.objects.bulk_create(
            [
                Milestone(
                    contract=long_contract,
                    position=n,
                    description=f"Iteration {n + 1}: the next set of pages",
                    amount_cents=rng.choice([25_000, 50_000, 100_000]),
                    added_by=client0 if n % 3 else freelancer0,
                    status=status,
                    escrow_cents=100_000 if status in ("funded", "submitted") else 0,
                    funded_cents=100_000 if status != "pending" else 0,
                    funded_at=None
                    if status == "pending"
                    else now - timedelta(days=HISTORY["milestones"] - n),
                    released_at=now - timedelta(days=HISTORY["milestones"] - n)
                    if status == "released"
                    else None,
                )
                for n in range(have, HISTORY["milestones"])
                for status in [statuses[n % len(statuses)]]
            ],
            batch_size=BATCH,
        )
    have = ContractEvent.objects.filter(contract=long_contract).count()
    if have < HISTORY["events"]:
        milestones = list(Milestone.objects.filter(contract=long_contract).order_by("position"))
        kinds = [
            "milestone_added",
            "milestone_funded",
            "milestone_submitted",
            "milestone_released",
            "file_added",
        ]
        rows = []
        for n in range(have, HISTORY["events"]):
            milestone = milestones[n % len(milestones)]
            kind = kinds[n % len(kinds)]
            rows.append(
                ContractEvent(
                    contract=long_contract,
                    actor=client0
                    if kind in ("milestone_added", "milestone_funded", "milestone_released")
                    else freelancer0,
                    kind=kind,
                    milestone=None if kind == "file_added" else milestone,
                    data={"description": milestone.description, "amount_cents": milestone.amount_cents}
                    if kind != "file_added"
                    else {"name": f"draft-{n}.pdf"},
                    created_at=now - timedelta(hours=HISTORY["events"] - n),
                )
            )
        ContractEvent.objects.bulk_create(rows, batch_size=BATCH)
    conversation = messaging_services.conversation_get_or_create_for_subject(
        subject=long_contract, participants=[client0, freelancer0], title=long_contract.title
    )
    if long_contract.conversation_id != conversation.pk:
        Contract.objects.filter(pk=long_contract.pk).update(conversation=conversation)
    if conversation.last_message_seq < HISTORY["contract_messages"]:
        _messages(
            conversation,
            [client0, freelancer0],
            HISTORY["contract_messages"] - conversation.last_message_seq,
            now,
        )

    # conversations of freelancer0 with other clients
    have = Participant.objects.filter(user=freelancer0, conversation__title__startswith=CHAT_PREFIX).count()
    if have < HISTORY["conversations"]:
        print(f"conversations of the bench freelancer: {HISTORY['conversations'] - have}", flush=True)
        for index, client in enumerate(clients[1 : HISTORY["conversations"] + 1]):
            chat = messaging_services.conversation_get_or_create_for_subject(
                participants=[client, freelancer0], title=f"{CHAT_PREFIX}{index}"
            )
            if chat.last_message_seq == 0:
                _messages(chat, [client, freelancer0], 5, now - timedelta(hours=index))

    # notifications of freelancer0
    have = Notification.objects.filter(recipient=freelancer0).count()
    if have < HISTORY["notifications"]:
        kinds = ["message", "proposal", "offer", "contract", "payment", "review", "job"]
        Notification.objects.bulk_create(
            [
                Notification(
                    recipient=freelancer0,
                    kind=kinds[n % len(kinds)],
                    text=f"Something happened on your work (number {n}).",
                    url="/contracts/",
                    read_at=now if n % 3 else None,
                    created_at=now - timedelta(minutes=n * 7),
                )
                for n in range(have, HISTORY["notifications"])
            ],
            batch_size=BATCH,
        )

    # approved service listings with three tiers each
    sellers = freelancer_users[: min(len(freelancer_users), 500)]
    have = ServiceListing.objects.filter(freelancer__email__endswith=DOMAIN).count()
    if have < HISTORY["listings"]:
        print(f"service listings: {HISTORY['listings'] - have}", flush=True)
        subs = list(Subcategory.objects.order_by("pk"))
        for start in range(have, HISTORY["listings"], BATCH):
            stop = min(HISTORY["listings"], start + BATCH)
            listings = []
            for n in range(start, stop):
                sub = subs[n % len(subs)]
                price = rng.choice([50, 100, 250, 500]) * 100
                listings.append(
                    ServiceListing(
                        freelancer=sellers[n % len(sellers)],
                        title=f"I will do {sub.name.lower()} work for you, number {n}"[:120],
                        category_id=sub.category_id,
                        subcategory=sub,
                        description=f"Careful {sub.name.lower()} work, delivered on time. " * 5,
                        status="approved",
                        reviewed_at=now,
                        min_price_cents=price,
                        min_delivery_days=3,
                        orders_count=rng.randint(0, 50),
                        created_at=now - timedelta(hours=n),
                    )
                )
            with transaction.atomic():
                ServiceListing.objects.bulk_create(listings, batch_size=BATCH)
                ServiceTier.objects.bulk_create(
                    [
                        ServiceTier(
                            listing=listing,
                            name=name,
                            price_cents=listing.min_price_cents * factor,
                            delivery_days=3 * factor,
                            included=["The work described", "Source files"],
                        )
                        for listing in listings
                        for name, factor in (("starter", 1), ("standard", 2), ("advanced", 4))
                    ],
                    batch_size=BATCH,
                )

    # a busy forum board: threads with their opening post and one reply
    ensure_boards()
    board = Board.objects.filter(staff_only_threads=False).order_by("position", "pk").first()
    assert board is not None
    have = Thread.objects.filter(board=board, title__startswith=THREAD_PREFIX).count()
    if have < HISTORY["threads"]:
        print(f"forum threads: {HISTORY['threads'] - have}", flush=True)
        for start in range(have, HISTORY["threads"], BATCH):
            stop = min(HISTORY["threads"], start + BATCH)
            threads = [
                Thread(
                    board=board,
                    author=freelancer_users[n % len(freelancer_users)],
                    title=f"{THREAD_PREFIX}{n}: how do you price fixed jobs?",
                    created_at=now - timedelta(hours=n + 1),
                    last_activity_at=now - timedelta(hours=n),
                    reply_count=1,
                )
                for n in range(start, stop)
            ]
            with transaction.atomic():
                Thread.objects.bulk_create(threads, batch_size=BATCH)
                body = "Per milestone, or for the whole job? What has worked for you?"
                Post.objects.bulk_create(
                    [
                        Post(
                            thread=thread,
                            author=author,
                            is_opening=opening,
                            body=body,
                            body_html=f"<p>{body}</p>",
                            created_at=thread.created_at if opening else thread.last_activity_at,
                        )
                        for n, thread in enumerate(threads)
                        for opening, author in (
                            (True, thread.author),
                            (False, freelancer_users[(n + 1) % len(freelancer_users)]),
                        )
                    ],
                    batch_size=BATCH,
                )

    return {
        "client": client0.pk,
        "freelancer": freelancer0.pk,
        "big_job": big_job.public_id,
        "big_job_proposals": Proposal.objects.filter(job=big_job).count(),
        "long_contract": long_contract.pk,
        "long_contract_milestones": Milestone.objects.filter(contract=long_contract).count(),
        "long_contract_events": ContractEvent.objects.filter(contract=long_contract).count(),
        "long_contract_messages": Message.objects.filter(conversation=conversation).count(),
        "board": board.slug,
    }
