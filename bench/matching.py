"""Quality and speed of the matching, on a synthetic population with a hidden ground truth.

Run: ``python bench/matching.py`` (standalone: imports Django for ``jobs.matching`` but
touches no database). Deterministic for BENCH_SEED (default 7).

Population (BENCH_MATCH_FREELANCERS=5,000, BENCH_MATCH_JOBS=20,000) over the real taxonomy
(accounts/data/taxonomy.json). Every freelancer and job has a latent *true niche*: a
subcategory, a subset of its skills and a rate level (0..3). What the score sees is
observed through noise, as on a real marketplace: skills forgotten or padded with
unrelated ones, the specialty left out or wrong, a rate drawn around the level, text made of
the niche's words drowned in filler. A pair is a **good fit** when the niches agree: the
same true subcategory, at least half the job's true skills and at least two (or all the
job's if it needs one) among the freelancer's, and the job's budget level at or one above
the freelancer's rate level.

Measured with the production code (``jobs.matching.score_pair`` behind the same
category-or-shared-skill prefilter, ``CandidateIndex`` standing in for the SQL):

- precision@10 and recall@50 of each freelancer's top 50 against the ground truth, next to
  the floors of random rankings (over all jobs, and over the prefiltered candidates) and
  the ceiling of a perfect ranking (some freelancers have fewer than 10 good fits);
- wall time of the full refresh (every freelancer's top 50, explained), and of the
  incremental refresh when one job is published (score it against all freelancers).

To stay within about a minute on 2 cores, quality and the full refresh are measured on a
random sample of BENCH_MATCH_SAMPLE (2,000) freelancers and the full-refresh time is
extrapolated to all of them (said so in the output); BENCH_MATCH_SAMPLE=0 runs them all.

Writes bench/results/matching.json and prints a Markdown table.
"""

from __future__ import annotations

import json
import os
import platform
import random
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings.test")

import django  # noqa: E402

django.setup()

from jobs.matching import (  # noqa: E402
    TOP_PER_JOB,
    CandidateIndex,
    FreelancerFeatures,
    JobFeatures,
    MatchContext,
    rank_freelancers_for_job,
    rank_jobs_for_freelancer,
    score_pair,
    text_tokens,
)
from marketplace.progress import Progress  # noqa: E402

SEED = int(os.environ.get("BENCH_SEED", "7"))
N_FREELANCERS = int(os.environ.get("BENCH_MATCH_FREELANCERS", "5000"))
N_JOBS = int(os.environ.get("BENCH_MATCH_JOBS", "20000"))
# Freelancers whose top 50 is computed (quality and full-refresh time); the full-refresh
# figure is extrapolated to all of them when this is smaller. 0 = all.
SAMPLE = int(os.environ.get("BENCH_MATCH_SAMPLE", "2000"))
NEW_JOBS = int(os.environ.get("BENCH_MATCH_NEW_JOBS", "200"))  # published one by one
TOP = 50
RESULTS = ROOT / "bench" / "results"

RATE_BASE_CENTS = (1500, 3000, 6000, 12000)  # typical hourly rate of each level
LEVEL_EXPERIENCE = (
    ("entry", "entry", "intermediate"),
    ("entry", "intermediate", "intermediate"),
    ("intermediate", "expert", "expert"),
    ("expert", "expert", "intermediate"),
)
SIZE_HOURS = {"small": 10, "medium": 40, "large": 160}
FILLER_TEXT = (
    "quality deadline communication team remote client result process support detail "
    "responsive reliable deliver long term collaboration solution goal business growth "
    "professional friendly schedule budget update report feedback revision fast timely"
)
FILLER = FILLER_TEXT.split()


class Ticker:
    """Advance a progress bar every ``step`` items (redrawing on each would cost more than the work)."""

    def __init__(self, total: int, label: str, steps: int = 50):
        self.bar = Progress(total, label)
        self.step = max(1, total // steps)
        self.pending = 0

    def tick(self) -> None:
        self.pending += 1
        if self.pending >= self.step:
            self.bar.advance(self.pending)
            self.pending = 0

    def finish(self) -> None:
        self.bar.advance(self.pending)
        self.bar.finish()


@dataclass
class Niche:
    subcategory: int
    skills: frozenset[int]
    level: int


def load_taxonomy() -> tuple[dict[int, int], dict[int, list[int]], dict[int, list[str]], list[int]]:
    """(subcategory -> category, subcategory -> skill ids, subcategory -> words, subcategories)."""
    data = json.loads((ROOT / "accounts" / "data" / "taxonomy.json").read_text(encoding="utf-8"))
    sub_category: dict[int, int] = {}
    sub_skills: dict[int, list[int]] = {}
    sub_words: dict[int, list[str]] = {}
    skill_id = 0
    sub_id = 0
    for cat_id, category in enumerate(data, start=1):
        for sub in category["subcategories"]:
            sub_id += 1
            sub_category[sub_id] = cat_id
            ids = []
            words = sub["name"].lower().replace("&", " ").split()
            for name in sub["skills"]:
                skill_id += 1
                ids.append(skill_id)
                words += name.lower().split()
            sub_skills[sub_id] = ids
            sub_words[sub_id] = words
    return sub_category, sub_skills, sub_words, list(sub_category)


def popularity(rng: random.Random, subs: list[int]) -> list[float]:
    """Zipf-like demand: a few specialties are crowded, most are niche."""
    order = subs[:]
    rng.shuffle(order)
    rank = {sub: i + 1 for i, sub in enumerate(order)}
    return [1 / rank[sub] ** 0.8 for sub in subs]


def words_for(rng: random.Random, niche_words: list[str], n_niche: int, n_filler: int) -> str:
    return " ".join(rng.choices(niche_words, k=n_niche) + rng.choices(FILLER, k=n_filler))


def generate(rng: random.Random):
    sub_category, sub_skills, sub_words, subs = load_taxonomy()
    weights = popularity(rng, subs)
    all_skills = [s for ids in sub_skills.values() for s in ids]
    by_category: dict[int, list[int]] = {}
    for sub, cat in sub_category.items():
        by_category.setdefault(cat, []).extend(sub_skills[sub])

    def noisy_skills(true: frozenset[int], sub: int, drop: float, extra: int) -> frozenset[int]:
        kept = {s for s in true if rng.random() > drop} or {rng.choice(sorted(true))}
        for _ in range(rng.randint(0, extra)):
            pool = by_category[sub_category[sub]] if rng.random() < 0.5 else all_skills
            kept.add(rng.choice(pool))
        return frozenset(kept)

    freelancers: list[FreelancerFeatures] = []
    f_niche: dict[int, Niche] = {}
    bar = Ticker(N_FREELANCERS + N_JOBS, "synthetic population")
    for i in range(1, N_FREELANCERS + 1):
        sub = rng.choices(subs, weights)[0]
        pool = sub_skills[sub]
        true = frozenset(rng.sample(pool, min(len(pool), rng.randint(3, 6))))
        level = rng.choices(range(4), (2, 4, 3, 1))[0]
        roll = rng.random()
        declared_sub = sub if roll < 0.8 else (None if roll < 0.9 else rng.choice(subs))
        declared_cat = sub_category[declared_sub] if declared_sub else sub_category[sub]
        new = rng.random() < 0.3
        jss = None if new else rng.randint(70, 100)
        freelancers.append(
            FreelancerFeatures(
                id=i,
                user_id=i,
                category_id=declared_cat,
                subcategory_id=declared_sub,
                skill_ids=noisy_skills(true, sub, drop=0.15, extra=3),
                tokens=text_tokens(
                    words_for(rng, sub_words[sub], 3, 1),
                    words_for(rng, sub_words[sub], 12, 30),
                ),
                hourly_rate_cents=max(300, int(RATE_BASE_CENTS[level] * rng.lognormvariate(0, 0.25))),
                experience_level=rng.choice(LEVEL_EXPERIENCE[level]),
                job_success_score=jss,
                rating_avg=None if new else round(rng.uniform(3.8, 5.0), 2),
                badges=("Top Rated",) if jss and jss >= 95 and rng.random() < 0.5 else (),
                availability=rng.choice(["more_than_30", "less_than_30", "as_needed", "not_available"]),
                days_since_active=rng.uniform(0, 120),
            )
        )
        f_niche[i] = Niche(sub, true, level)
        bar.tick()

    def make_job(job_id: int) -> tuple[JobFeatures, Niche]:
        sub = rng.choices(subs, weights)[0]
        pool = sub_skills[sub]
        true = frozenset(rng.sample(pool, min(len(pool), rng.randint(2, 5))))
        level = rng.choices(range(4), (2, 4, 3, 1))[0]
        pay = RATE_BASE_CENTS[level] * rng.lognormvariate(0, 0.2)
        size = rng.choice(list(SIZE_HOURS))
        hourly = rng.random() < 0.5
        job = JobFeatures(
            id=job_id,
            client_id=N_FREELANCERS + job_id,
            category_id=sub_category[sub],
            subcategory_id=sub if rng.random() < 0.85 else None,
            skill_ids=noisy_skills(true, sub, drop=0.1, extra=2),
            tokens=text_tokens(words_for(rng, sub_words[sub], 4, 2), words_for(rng, sub_words[sub], 15, 40)),
            budget_type="hourly" if hourly else "fixed",
            hourly_min_cents=int(pay * 0.7) if hourly else None,
            hourly_max_cents=int(pay * 1.3) if hourly else None,
            fixed_budget_cents=None if hourly else int(pay * SIZE_HOURS[size] * rng.uniform(0.8, 1.2)),
            size=size,
            experience_level=rng.choice(LEVEL_EXPERIENCE[level]),
            days_since_posted=rng.uniform(0, 30),
            client_hires=rng.choice([0, 0, 1, 3]),
            client_payment_verified=rng.random() < 0.7,
        )
        return job, Niche(sub, true, level)

    jobs: list[JobFeatures] = []
    j_niche: dict[int, Niche] = {}
    for j in range(1, N_JOBS + 1):
        job, niche = make_job(j)
        jobs.append(job)
        j_niche[j] = niche
        bar.tick()
    bar.finish()
    return freelancers, f_niche, jobs, j_niche, make_job


def good_fit(f: Niche, j: Niche) -> bool:
    """The hidden truth: same specialty, enough true skills in common, compatible pay level."""
    need = max(min(2, len(j.skills)), (len(j.skills) + 1) // 2)
    return f.subcategory == j.subcategory and len(f.skills & j.skills) >= need and 0 <= j.level - f.level <= 1


def main() -> None:
    rng = random.Random(SEED)
    started = time.monotonic()
    freelancers, f_niche, jobs, j_niche, make_job = generate(rng)

    counts: dict[int, int] = {}
    for job in jobs:
        for skill in job.skill_ids:
            counts[skill] = counts.get(skill, 0) + 1
    context = MatchContext.from_counts(counts, documents=len(jobs))

    # ground truth, through a niche index (a full 5,000 x 20,000 scan would be slow in Python)
    jobs_by_sub: dict[int, list[int]] = {}
    for job_id, niche in j_niche.items():
        jobs_by_sub.setdefault(niche.subcategory, []).append(job_id)
    relevant = {
        f.id: {
            j for j in jobs_by_sub.get(f_niche[f.id].subcategory, []) if good_fit(f_niche[f.id], j_niche[j])
        }
        for f in freelancers
    }

    sample = freelancers if not SAMPLE or len(freelancers) <= SAMPLE else rng.sample(freelancers, SAMPLE)
    t0 = time.perf_counter()
    index = CandidateIndex(jobs)
    index_seconds = time.perf_counter() - t0

    precisions, recalls, random_all, random_prefiltered, ideal, ideal_recall = [], [], [], [], [], []
    candidate_counts = []
    bar = Ticker(len(sample), "full refresh (top 50)")
    t0 = time.perf_counter()
    scoring_seconds = 0.0
    cpu0 = time.process_time()
    for freelancer in sample:
        s0 = time.perf_counter()
        top = rank_jobs_for_freelancer(freelancer, index, context, k=TOP)
        for _, job in top:  # production stores the reasons of what it keeps
            score_pair(freelancer, job, context)
        scoring_seconds += time.perf_counter() - s0
        truth = relevant[freelancer.id]
        bar.tick()
        if not truth:
            continue
        ranked = [job.id for _, job in top]
        precisions.append(len(truth.intersection(ranked[:10])) / 10)
        recalls.append(len(truth.intersection(ranked[:TOP])) / len(truth))
        ideal.append(min(len(truth), 10) / 10)
        ideal_recall.append(min(len(truth), TOP) / len(truth))
        random_all.append(len(truth.intersection(rng.sample(range(1, len(jobs) + 1), 10))) / 10)
        candidates = index.candidates(category_id=freelancer.category_id, skill_ids=freelancer.skill_ids)
        candidate_counts.append(len(candidates))
        picked = rng.sample(candidates, min(10, len(candidates)))
        random_prefiltered.append(len(truth.intersection(j.id for j in picked)) / 10)
    full_wall = time.perf_counter() - t0
    full_cpu = time.process_time() - cpu0  # includes the metrics, a few percent
    scale = len(freelancers) / len(sample) if sample else 0.0
    full_extrapolated = (scoring_seconds + index_seconds) * scale

    # incremental: one job published -> score it against every freelancer (top TOP_PER_JOB)
    t0 = time.perf_counter()
    freelancer_index = CandidateIndex(freelancers)
    freelancer_index_seconds = time.perf_counter() - t0
    timings: list[float] = []
    job_precisions: list[float] = []
    job_ideal: list[float] = []
    freelancers_by_sub: dict[int, list[FreelancerFeatures]] = {}
    for f in freelancers:
        freelancers_by_sub.setdefault(f_niche[f.id].subcategory, []).append(f)
    bar = Ticker(NEW_JOBS, "incremental (1 new job)")
    for n in range(NEW_JOBS):
        job, niche = make_job(N_JOBS + 1 + n)
        s0 = time.perf_counter()
        top_f = rank_freelancers_for_job(job, freelancer_index, context, k=TOP_PER_JOB)
        for _, freelancer in top_f:
            score_pair(freelancer, job, context)
        timings.append(time.perf_counter() - s0)
        truth_f = {
            f.id for f in freelancers_by_sub.get(niche.subcategory, []) if good_fit(f_niche[f.id], niche)
        }
        if truth_f:
            job_precisions.append(len(truth_f.intersection(f.id for _, f in top_f[:10])) / 10)
            job_ideal.append(min(len(truth_f), 10) / 10)
        bar.tick()
    bar.finish()
    timings.sort()

    def mean(values: list[float]) -> float:
        return round(statistics.fmean(values), 4) if values else 0.0

    result = {
        "when": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "seed": SEED,
        "population": {
            "freelancers": len(freelancers),
            "jobs": len(jobs),
            "freelancers_evaluated": len(sample),
            "freelancers_with_good_fits": len(precisions),
            "good_fits_per_freelancer_mean": mean([float(len(relevant[f.id])) for f in sample]),
            "prefiltered_candidates_per_freelancer_mean": mean([float(c) for c in candidate_counts]),
        },
        "quality": {
            "precision_at_10": mean(precisions),
            "recall_at_50": mean(recalls),
            "recall_at_50_perfect_ranking": mean(ideal_recall),
            "precision_at_10_random_all_jobs": mean(random_all),
            "precision_at_10_random_prefiltered": mean(random_prefiltered),
            "precision_at_10_perfect_ranking": mean(ideal),
            "suggested_talent_precision_at_10": mean(job_precisions),
            "suggested_talent_precision_at_10_perfect_ranking": mean(job_ideal),
        },
        "speed": {
            "full_refresh_seconds": round(full_wall + index_seconds, 2),
            "full_refresh_cpu_seconds_all_freelancers": round((full_cpu + index_seconds) * scale, 2),
            "load_average_1min_at_end": round(os.getloadavg()[0], 2),
            "full_refresh_seconds_all_freelancers": round(full_extrapolated, 2),
            "full_refresh_extrapolated": len(sample) < len(freelancers),
            "full_refresh_ms_per_freelancer": round(scoring_seconds / max(len(sample), 1) * 1000, 3),
            "job_index_build_seconds": round(index_seconds, 3),
            "incremental_new_job_ms_mean": round(statistics.fmean(timings) * 1000, 2),
            "incremental_new_job_ms_p95": round(timings[int(len(timings) * 0.95) - 1] * 1000, 2),
            "freelancer_index_build_seconds": round(freelancer_index_seconds, 3),
        },
        "notes": [
            "Pure Python scoring, one process; the database reads and writes of production are not included.",
            "Wall times suffer from other load on the machine (see load_average_1min_at_end); CPU time less so.",
            "Random floors: 10 jobs drawn from all jobs, and from the freelancer's prefiltered candidates.",
            "Perfect ranking: the ceiling of precision@10 (some freelancers have fewer than 10 good fits)"
            " and of recall@50 (some have more than 50).",
        ],
        "total_seconds": round(time.monotonic() - started, 1),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "matching.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")

    q, s, p = result["quality"], result["speed"], result["population"]
    sampled = (
        f" (timed on {p['freelancers_evaluated']:,}, extrapolated to {p['freelancers']:,})"
        if s["full_refresh_extrapolated"]
        else ""
    )
    print()
    print(
        f"Matching benchmark {result['when']} ({result['machine']}; seed {SEED}; "
        f"{p['freelancers']:,} freelancers x {p['jobs']:,} jobs, "
        f"{p['good_fits_per_freelancer_mean']:.0f} good fits and "
        f"{p['prefiltered_candidates_per_freelancer_mean']:.0f} prefiltered candidates per freelancer)"
    )
    print()
    print("| measure | value | floor (random) | ceiling |")
    print("| --- | ---: | ---: | ---: |")
    print(
        f"| precision@10 | {q['precision_at_10']:.3f} | {q['precision_at_10_random_all_jobs']:.3f} all jobs, "
        f"{q['precision_at_10_random_prefiltered']:.3f} prefiltered | {q['precision_at_10_perfect_ranking']:.3f} |"
    )
    print(f"| recall@50 | {q['recall_at_50']:.3f} | | {q['recall_at_50_perfect_ranking']:.3f} |")
    print(
        f"| suggested talent precision@10 (new jobs) | {q['suggested_talent_precision_at_10']:.3f} | | "
        f"{q['suggested_talent_precision_at_10_perfect_ranking']:.3f} |"
    )
    print(
        f"| full refresh, every freelancer's top 50{sampled} | {s['full_refresh_seconds_all_freelancers']} s wall, "
        f"{s['full_refresh_cpu_seconds_all_freelancers']} s CPU | | |"
    )
    print(f"| full refresh per freelancer | {s['full_refresh_ms_per_freelancer']} ms | | |")
    print(
        f"| incremental: 1 new job vs {p['freelancers']:,} freelancers | "
        f"{s['incremental_new_job_ms_mean']} ms mean, {s['incremental_new_job_ms_p95']} ms p95 | | |"
    )
    print()
    print(f"Written to {RESULTS / 'matching.json'} in {result['total_seconds']} s.")


if __name__ == "__main__":
    main()
