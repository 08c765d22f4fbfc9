"""``manage.py ledger_audit``: check the ledger's invariants; exit 1 on any finding."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from payments.audit import run_checks


class Command(BaseCommand):
    help = (
        "Check that every journal entry sums to zero, cached balances equal their postings, "
        "no escrow/pending/available balance is negative, and the checks other apps registered."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-progress", action="store_true", help="Do not draw the progress bar.")

    def handle(self, *args, **options):
        stream = None if options["no_progress"] else self.stderr._out
        findings = run_checks(stream=stream)
        if not findings:
            self.stdout.write(self.style.SUCCESS("Ledger audit: no findings."))
            return
        for finding in findings:
            self.stdout.write(f"[{finding.check}] {finding.message}")
        raise CommandError(f"Ledger audit: {len(findings)} finding(s).")
