"""Loading the taxonomy and the skill tests from ``accounts/data/*.json``.

The functions take the model classes as arguments so that the data migration can pass
its historical models and ``seed_demo`` the current ones. Both are idempotent upserts.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.utils.text import slugify

DATA_DIR = Path(__file__).resolve().parent / "data"


def load_json(name: str):
    with open(DATA_DIR / name, encoding="utf-8") as handle:
        return json.load(handle)


def sync_taxonomy(Category, Subcategory, Skill) -> tuple[int, int, int]:
    """Create or update categories, subcategories and skills. Returns the counts."""
    data = load_json("taxonomy.json")
    existing_skills = {s.name.lower(): s for s in Skill.objects.all()}
    used_slugs = {s.slug for s in existing_skills.values()}
    new_skills = []
    sub_count = 0
    for cat_pos, cat in enumerate(data):
        category, _ = Category.objects.update_or_create(
            slug=cat["slug"], defaults={"name": cat["name"], "position": cat_pos}
        )
        for sub_pos, sub in enumerate(cat["subcategories"]):
            subcategory, _ = Subcategory.objects.update_or_create(
                slug=sub["slug"], defaults={"name": sub["name"], "category": category, "position": sub_pos}
            )
            sub_count += 1
            for name in sub["skills"]:
                if name.lower() in existing_skills:
                    continue
                slug = slugify(name)[:60] or "skill"
                base, n = slug, 2
                while slug in used_slugs:
                    slug = f"{base}-{n}"
                    n += 1
                used_slugs.add(slug)
                skill = Skill(name=name, slug=slug, subcategory=subcategory)
                existing_skills[name.lower()] = skill
                new_skills.append(skill)
    Skill.objects.bulk_create(new_skills, batch_size=500)
    return Category.objects.count(), sub_count, Skill.objects.count()


def sync_assessments(Skill, SkillAssessment, AssessmentQuestion, AssessmentChoice) -> int:
    """Create the skill tests that do not exist yet (existing ones are left as staff edited them)."""
    created = 0
    for test in load_json("assessments.json"):
        skill = Skill.objects.filter(name=test["skill"]).first()
        if skill is None or SkillAssessment.objects.filter(skill=skill).exists():
            continue
        assessment = SkillAssessment.objects.create(
            skill=skill,
            title=test["title"],
            time_limit_minutes=test.get("time_limit_minutes", 10),
            pass_percent=test.get("pass_percent", 70),
        )
        for q_pos, question in enumerate(test["questions"]):
            q = AssessmentQuestion.objects.create(
                assessment=assessment, text=question["text"], position=q_pos
            )
            AssessmentChoice.objects.bulk_create(
                AssessmentChoice(question=q, text=text, is_correct=(i == question["answer"]), position=i)
                for i, text in enumerate(question["choices"])
            )
        created += 1
    return created
