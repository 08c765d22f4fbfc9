"""Migration helpers of this app."""

from __future__ import annotations

from typing import Any

from django.db import migrations


class PostgresOnlyRunSQL(migrations.RunSQL):
    """``RunSQL`` that runs on PostgreSQL only (a no-op on SQLite), both ways."""

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


LEDGER_TRIGGERS_SQL = """
CREATE OR REPLACE FUNCTION payments_ledger_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger rows are immutable: % on % refused (post a reversing entry)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER payments_journalentry_immutable BEFORE UPDATE OR DELETE ON payments_journalentry
    FOR EACH ROW EXECUTE FUNCTION payments_ledger_immutable();
CREATE TRIGGER payments_posting_immutable BEFORE UPDATE OR DELETE ON payments_posting
    FOR EACH ROW EXECUTE FUNCTION payments_ledger_immutable();
"""

LEDGER_TRIGGERS_REVERSE_SQL = """
DROP TRIGGER IF EXISTS payments_posting_immutable ON payments_posting;
DROP TRIGGER IF EXISTS payments_journalentry_immutable ON payments_journalentry;
DROP FUNCTION IF EXISTS payments_ledger_immutable();
"""
