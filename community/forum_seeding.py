"""Demo forums for ``seed_demo``: the eight boards (also created in production by the
migration ``0002_boards``) and a few realistic threads with replies, likes, follows and an
accepted answer, written through ``community.forums`` as members would. Idempotent: a
thread whose title exists is not written again."""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from marketplace.errors import ApplicationError

from . import forums
from .models import Board, Thread

BOARDS = [
    ("getting-started", "Getting started", "New here? Ask anything about how the marketplace works.", False),
    ("finding-work", "Finding work", "Profiles, proposals and Connects: winning your next contract.", False),
    (
        "hiring-talent",
        "Hiring talent",
        "Writing job posts, reviewing proposals and working with freelancers.",
        False,
    ),
    ("payments", "Payments", "Escrow, holds, weekly billing, fees and withdrawals.", False),
    ("design", "Design", "Branding, UI/UX and illustration: craft and client work.", False),
    ("development", "Development", "Web, mobile and data work: tools, estimates and delivery.", False),
    ("writing", "Writing", "Copywriting, editing and translation.", False),
    ("announcements", "Announcements", "News from the marketplace team.", True),
]

# (board, title, question, [replies], index of the accepted reply or None); "F" replies are
# written by freelancers, "C" by clients, in turn.
THREADS: list[tuple[str, str, str, list[tuple[str, str]], int | None]] = [
    (
        "announcements",
        "Welcome to the community forums",
        "This is the place to learn from each other: ask questions, share what worked for you, and "
        "help newcomers find their feet.\n\n"
        "A few ground rules:\n\n"
        "- Be kind and specific.\n"
        "- Keep contact details and payments **on the platform**.\n"
        "- Mark the reply that solved your question as the *accepted answer*, so others find it.",
        [],
        None,
    ),
    (
        "getting-started",
        "How many Connects should I spend on my first proposals?",
        "I just finished my profile and have 10 Connects. Jobs cost 2 to 6 Connects. Is it better to send "
        "many cheap proposals or a few for larger jobs?",
        [
            (
                "F",
                "When I started I sent proposals only to jobs posted in the last day with fewer than 10 "
                "proposals. A short, specific first line about *their* problem mattered more than the job size.",
            ),
            (
                "F",
                "Agree. Also check the client's history: a verified payment method and past hires mean your "
                "Connects are better spent.",
            ),
            (
                "C",
                "As a client I read the first two lines only. Show you read the post, then link one relevant sample.",
            ),
        ],
        1,
    ),
    (
        "payments",
        "When does money from a released milestone become available?",
        "My client approved a milestone yesterday but my balance shows it as *pending*. Did something go wrong?",
        [
            (
                "F",
                "Nothing is wrong: released payments sit in a short security hold before they are available "
                "to withdraw. The money timeline on the contract shows the date it clears.",
            ),
            ("F", "Same here, it cleared after the hold without me doing anything."),
        ],
        0,
    ),
    (
        "hiring-talent",
        "Fixed price or hourly for a small website redesign?",
        "I need a five-page site redesigned. I have a rough scope but expect changes. Which contract type "
        "works better?",
        [
            (
                "F",
                "If the scope will move, hourly with a weekly limit keeps both sides honest. If you can fix "
                "the scope, split it into milestones: design, build, launch.",
            ),
            (
                "C",
                "We use milestones and fund only the next one. It keeps the escrow small and the feedback quick.",
            ),
        ],
        None,
    ),
    (
        "development",
        "How do you estimate a Django project for a client?",
        "Clients ask for a fixed quote before I have seen their code. How do you estimate without "
        "underselling yourself?\n\n```\nestimate = known_work * 1.5 + unknowns\n```\nIs that too naive?",
        [
            (
                "F",
                "I sell a paid discovery milestone first (a few hours to read the code and write a plan). "
                "The real estimate comes after, and clients appreciate it.",
            ),
        ],
        None,
    ),
    (
        "writing",
        "Portfolio samples when all my work is under NDA",
        "Most of my copywriting is ghostwritten. What can I put in my portfolio?",
        [],
        None,
    ),
]


def ensure_boards() -> int:
    made = 0
    for position, (slug, name, description, staff_only) in enumerate(BOARDS):
        _, created = Board.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "description": description,
                "position": position,
                "staff_only_threads": staff_only,
            },
        )
        made += int(created)
    return made


def seed_demo_forums(*, freelancers: list[User], clients: list[User], staff: User) -> int:
    """Write the demo threads; returns how many were created. Authors take turns, so
    nobody reaches the posting rate limit, and the demo posts carry no links (new demo
    accounts' posts with links would wait for review)."""
    ensure_boards()
    if len(freelancers) < 4 or not clients:
        return 0
    boards = {board.slug: board for board in Board.objects.all()}
    made = 0
    turn = 0
    for index, (slug, title, question, replies, accepted) in enumerate(THREADS):
        if Thread.objects.filter(title=title).exists():
            continue
        asker = (
            staff
            if boards[slug].staff_only_threads
            else (clients[0] if slug == "hiring-talent" else freelancers[index % len(freelancers)])
        )
        try:
            with transaction.atomic():  # a thread is seeded whole or not at all
                thread = forums.thread_create(
                    actor=asker, board_id=boards[slug].pk, title=title, body=question
                )
                posts = []
                for kind, body in replies:
                    turn += 1
                    pool = freelancers if kind == "F" else clients
                    author = pool[(index * 3 + turn) % len(pool)]
                    if author.pk == asker.pk:
                        author = pool[(index * 3 + turn + 1) % len(pool)]
                    posts.append(forums.reply_create(actor=author, thread_id=thread.pk, body=body))
                for post in posts[:2]:
                    if post.author_id != asker.pk:
                        forums.post_like(actor=asker, post_id=post.pk)
                if accepted is not None and accepted < len(posts):
                    forums.thread_accept_answer(actor=asker, thread_id=thread.pk, post_id=posts[accepted].pk)
        except ApplicationError:
            continue
        made += 1
    return made
