"""Data: the categories, subcategories and skills, and the skill tests (editable in admin)."""

from django.db import migrations


def load(apps, schema_editor):
    from accounts.taxonomy import sync_assessments, sync_taxonomy

    sync_taxonomy(apps.get_model("accounts", "Category"), apps.get_model("accounts", "Subcategory"),
                  apps.get_model("accounts", "Skill"))
    sync_assessments(apps.get_model("accounts", "Skill"), apps.get_model("accounts", "SkillAssessment"),
                     apps.get_model("accounts", "AssessmentQuestion"),
                     apps.get_model("accounts", "AssessmentChoice"))


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
