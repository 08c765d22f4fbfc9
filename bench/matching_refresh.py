"""Time the nightly full matching refresh on the large data set, from a sample.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/marketplace_large \\
    .venv/bin/python bench/matching_refresh.py [--sample 400] [--shard 1000]

Measures, on the real data (open jobs and eligible freelancers of the database):

- loading the features of every open job and of every eligible freelancer (what each run
  of ``jobs.matching.refresh_all`` and each shard of ``refresh_all_sharded`` reads first);
- scoring: ``rank_all`` over a random sample of ``--sample`` freelancers against all the
  jobs, extrapolated to every freelancer (the scoring is per freelancer, so it scales
  with their number);
- writing: upserting the sample's rows (in a transaction that is rolled back), per row,
  extrapolated to the rows of the whole run;
- one shard of ``--shard`` freelancers as ``jobs.tasks.refresh_matches_shard`` runs it
  (loading + scoring + writing, extrapolated from the sample);
- per freelancer of the sample (``per_freelancer``): the prefilter and the scoring of its
  candidate jobs, p50/p95/p99, next to a floor measured in the same run: the prefilter
  alone, each candidate touched once and not scored (what any scoring of those pairs must
  cost at least); and the writing's rows/s next to PostgreSQL's own floor, a plain INSERT of
  as many rows into a temporary table (``floors``).

Nothing is kept in the database. Prints JSON (also bench/results/matching_refresh.json).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings.production")
os.environ.setdefault("SECRET_KEY", "bench-only-" + "k" * 50)
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.core.cache import cache  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from jobs import matching  # noqa: E402


class _Rollback(Exception):
    pass


def _summary(values_ms: list[float]) -> dict[str, float]:
    ordered = sorted(values_ms) or [0.0]

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 3)

    return {
        "n": len(values_ms),
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "per_s": round(len(values_ms) / max(sum(values_ms) / 1000, 1e-9), 1),
    }


def _per_freelancer_timings(sample, jobs, context) -> tuple[list[float], list[float]]:
    """Milliseconds per freelancer: prefilter + scoring, and the floor (prefilter, each
    candidate touched once). The index is built once, as rank_all builds it."""
    index = matching.CandidateIndex(jobs)
    scoring, floor = [], []
    for freelancer in sample:
        t = time.perf_counter()
        candidates = index.candidates(category_id=freelancer.category_id, skill_ids=freelancer.skill_ids)
        touched = 0
        for job in candidates:
            touched += job.id & 1
        floor.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        candidates = index.candidates(category_id=freelancer.category_id, skill_ids=freelancer.skill_ids)
        matching.score_candidates_for_freelancer(freelancer, candidates, context)
        scoring.append((time.perf_counter() - t) * 1000)
    return scoring, floor


def _insert_floor(count: int) -> float:
    """Rows/s of a plain INSERT of ``count`` rows of the same width into a temporary table
    (PostgreSQL's floor for the writing; rolled back)."""
    from django.db import connection

    count = max(count, 1000)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMPORARY TABLE bench_insert_floor (freelancer_id int, job_id int, score int,"
                " reasons jsonb, computed_at timestamptz, PRIMARY KEY (freelancer_id, job_id))"
            )
            t = time.perf_counter()
            cursor.execute(
                "INSERT INTO bench_insert_floor SELECT n, n, 50, '[]'::jsonb, now()"
                " FROM generate_series(1, %s) AS n",
                [count],
            )
            seconds = time.perf_counter() - t
            raise _Rollback
    except _Rollback:
        pass
    return round(count / max(seconds, 1e-9), 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sample", type=int, default=400)
    parser.add_argument("--shard", type=int, default=matching.SHARD_FREELANCERS)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    now = timezone.now()

    t = time.perf_counter()
    context = matching.build_context()
    context_s = time.perf_counter() - t
    t = time.perf_counter()
    jobs = matching.load_job_features(matching.matchable_jobs(), now=now)
    jobs_s = time.perf_counter() - t
    t = time.perf_counter()
    freelancers = matching.load_freelancer_features(matching.eligible_freelancers(), now=now)
    freelancers_s = time.perf_counter() - t

    sample = random.Random(args.seed).sample(freelancers, min(args.sample, len(freelancers)))
    t = time.perf_counter()
    pairs = list(matching.rank_all(sample, jobs, context))
    scoring_s = time.perf_counter() - t
    rows = {(f.id, j.id): matching._row(f, j, context, now) for f, j in pairs}
    t = time.perf_counter()
    try:
        with transaction.atomic():
            batch = list(rows.values())
            for start in range(0, len(batch), 2000):
                matching._upsert(batch[start : start + 2000])
            raise _Rollback
    except _Rollback:
        pass
    writing_s = time.perf_counter() - t

    per_freelancer, scoring_floor = _per_freelancer_timings(sample, jobs, context)
    insert_floor_rows_per_s = _insert_floor(len(rows))

    # the sharded steps themselves, for a shard of the sample's size (rolled back; the
    # shard's cache entries deleted afterwards)
    plan = matching.refresh_plan(shard_size=len(freelancers), parts=matching.JOB_PARTS)
    ids = sorted(f.id for f in freelancers)
    run = {"run": plan["run"], "started": plan["started"], "parts": plan["parts"]}
    first, last = ids[0], ids[min(len(sample), len(ids)) - 1]  # a contiguous shard of the sample's size
    keys = [matching._run_key(plan["run"], "heaps", 0, p) for p in range(plan["parts"])]
    step: dict[str, float] = {}
    try:
        with transaction.atomic():
            t = time.perf_counter()
            step["shard_rows"] = matching.refresh_freelancer_shard(
                index=0, first_id=first, last_id=last, **run
            )
            step["shard_s"] = round(time.perf_counter() - t, 2)
            step["heaps_cache_bytes"] = sum(len(v) for v in cache.get_many(keys).values())
            t = time.perf_counter()
            step["part_rows"] = matching.refresh_job_part(part=0, shards=1, **run)
            step["part_s"] = round(time.perf_counter() - t, 2)
            raise _Rollback
    except _Rollback:
        pass
    cache.delete_many([matching._run_key(plan["run"], "context"), *keys])

    scale = len(freelancers) / max(len(sample), 1)
    per_row_ms = writing_s / max(len(rows), 1) * 1000
    # the whole run keeps about TOP_PER_FREELANCER rows per freelancer plus TOP_PER_JOB per job
    full_rows = len(freelancers) * matching.TOP_PER_FREELANCER + len(jobs) * matching.TOP_PER_JOB
    full_scoring_s = scoring_s * scale
    full_writing_s = per_row_ms * full_rows / 1000
    shard_factor = args.shard / max(len(sample), 1)
    result = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "open_jobs": len(jobs),
        "eligible_freelancers": len(freelancers),
        "sample_freelancers": len(sample),
        "load_context_s": round(context_s, 2),
        "load_jobs_s": round(jobs_s, 2),
        "load_freelancers_s": round(freelancers_s, 2),
        "sample_scoring_s": round(scoring_s, 2),
        "sample_rows": len(rows),
        "sample_writing_s": round(writing_s, 2),
        "write_ms_per_row": round(per_row_ms, 4),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "extrapolated_one_process_run": {
            "scoring_min": round(full_scoring_s / 60, 1),
            "rows": full_rows,
            "writing_min": round(full_writing_s / 60, 1),
            "total_min": round(
                (context_s + jobs_s + freelancers_s + full_scoring_s + full_writing_s) / 60, 1
            ),
        },
        "per_freelancer": {
            "scoring": _summary(per_freelancer),
            "floor_prefilter_only": _summary(scoring_floor),
        },
        "floors": {
            "write_rows_per_s": round(len(rows) / max(writing_s, 1e-9), 1),
            "insert_floor_rows_per_s": insert_floor_rows_per_s,
        },
        "measured_sharded_steps": {"shard_freelancers": len(sample), "job_parts": plan["parts"], **step},
        "extrapolated_sharded_run": {
            "freelancers_per_shard": args.shard,
            "shards": -(-len(freelancers) // args.shard),
            # a shard: loading the jobs once, then scoring and writing in proportion
            "shard_min": round((jobs_s + (step["shard_s"] - jobs_s) * shard_factor) / 60, 1),
            # a part merges one shard's heaps per shard: its time grows with their number
            "part_s_upper": round(step["part_s"] * -(-len(freelancers) // args.shard), 1),
            "heaps_cache_mb_per_shard_upper": round(
                step["heaps_cache_bytes"] / 2**20 * max(shard_factor, 1), 1
            ),
        },
    }
    out = ROOT / "bench" / "results" / "matching_refresh.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
