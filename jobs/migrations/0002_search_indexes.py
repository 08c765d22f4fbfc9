"""PostgreSQL-only search support: pg_trgm, the GIN index on the search vector and a
trigram index on titles. SQLite (the zero-set-up default) skips this migration's SQL."""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS job_search_vector_gin ON jobs_job USING gin (search_vector)",
    "CREATE INDEX IF NOT EXISTS job_title_trgm ON jobs_job USING gin (title gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS skill_name_trgm ON accounts_skill USING gin (name gin_trgm_ops)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS skill_name_trgm",
    "DROP INDEX IF EXISTS job_title_trgm",
    "DROP INDEX IF EXISTS job_search_vector_gin",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("jobs", "0001_initial")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
