"""On PostgreSQL, refuse UPDATE and DELETE of journal entries and postings in the database
itself (the ORM refuses too); a no-op on SQLite. TRUNCATE (test flushes) is not affected."""

from django.db import migrations

from payments.dbops import LEDGER_TRIGGERS_REVERSE_SQL, LEDGER_TRIGGERS_SQL, PostgresOnlyRunSQL


class Migration(migrations.Migration):
    dependencies = [("payments", "0001_initial")]

    operations = [PostgresOnlyRunSQL(sql=LEDGER_TRIGGERS_SQL, reverse_sql=LEDGER_TRIGGERS_REVERSE_SQL)]
