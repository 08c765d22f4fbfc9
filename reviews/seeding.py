"""Demo feedback for ``seed_demo``: on the demo's ended contracts both sides leave a review
through ``reviews.services`` (which reveals both and refreshes the reputation figures), and
on one contract only the client has reviewed so far, so the double-blind state shows too.
Idempotent: nothing is added to contracts that already have reviews."""

from __future__ import annotations

import random

from accounts.models import User
from contracts.models import Contract
from marketplace.errors import ApplicationError

from .models import Review
from .services import ReviewInput, review_submit

# by rating, so that what a review says matches its stars
FREELANCER_COMMENTS = {
    5: [
        "Excellent work: clear questions up front, steady updates and a result that needed almost no changes.",
        "Delivered what we agreed, on time, and was easy to work with. Would hire again.",
    ],
    4: ["Good quality and quick replies; one deadline slipped a little but was communicated early."],
    3: ["The result was usable, but it took two extra rounds of changes and updates were sparse."],
}
CLIENT_COMMENTS = {
    5: ["Clear requirements, fast feedback and paid promptly. A pleasure to work with."],
    4: ["Friendly client with a well-defined scope; approvals came quickly."],
    3: ["Paid as agreed, though the scope changed midway and feedback was slow at times."],
}


def _categories(keys: tuple[tuple[str, str], ...], rating: int, rng: random.Random) -> dict[str, int]:
    return {key: max(1, min(5, rating - rng.choice([0, 0, 0, 1]))) for key, _ in keys}


def seed_reviews(*, clients: list[User]) -> int:
    rng = random.Random(11)
    contracts = list(Contract.objects.filter(client__in=clients, status=Contract.Status.ENDED).order_by("pk"))
    made = 0
    for index, contract in enumerate(contracts):
        if Review.objects.filter(contract=contract).exists():
            continue
        rating = rng.choice([5, 5, 4, 5, 3])
        sides = [(contract.client, Review.FREELANCER_CATEGORIES, FREELANCER_COMMENTS)]
        if index % 4 != 3:  # every fourth contract waits for the freelancer's review (still hidden)
            sides.append((contract.freelancer, Review.CLIENT_CATEGORIES, CLIENT_COMMENTS))
        for author, keys, comments in sides:
            try:
                review_submit(
                    actor=author,
                    contract_id=contract.pk,
                    data=ReviewInput(
                        rating=rating,
                        categories=_categories(keys, rating, rng),
                        public_comment=rng.choice(comments[rating]),
                        private_note="",
                        recommend_score=min(10, rating * 2),
                    ),
                )
                made += 1
            except ApplicationError:
                break  # e.g. a window that closed: the demo skips it
    return made
