"""Message reports move to the moderation queue: every ``MessageReport`` becomes an
``accounts.ContentFlag`` (the message text as the snapshot), then the table goes."""

from django.db import migrations


def copy_reports(apps, schema_editor):
    MessageReport = apps.get_model("messaging", "MessageReport")
    ContentFlag = apps.get_model("accounts", "ContentFlag")
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not MessageReport.objects.exists():
        return
    message_type, _ = ContentType.objects.get_or_create(app_label="messaging", model="message")
    rows = []
    for report in MessageReport.objects.select_related("message").order_by("pk").iterator():
        message = report.message
        rows.append(
            ContentFlag(
                content_type_id=message_type.pk,
                object_id=message.pk,
                reporter_id=report.reporter_id,
                content_owner_id=message.sender_id,
                reason=report.reason,
                note=report.note,
                snapshot=message.body[:5000],
                status="open" if report.resolved_at is None else "dismissed",
                created_at=report.created_at,
                resolved_at=report.resolved_at,
                resolved_by_id=report.resolved_by_id,
            )
        )
    ContentFlag.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)


def copy_back(apps, schema_editor):
    MessageReport = apps.get_model("messaging", "MessageReport")
    ContentFlag = apps.get_model("accounts", "ContentFlag")
    ContentType = apps.get_model("contenttypes", "ContentType")
    message_type = ContentType.objects.filter(app_label="messaging", model="message").first()
    if message_type is None:
        return
    flags = ContentFlag.objects.filter(content_type_id=message_type.pk)
    known = {"spam", "scam", "off_platform", "harassment"}
    MessageReport.objects.bulk_create(
        [
            MessageReport(
                message_id=f.object_id,
                reporter_id=f.reporter_id,
                reason=f.reason if f.reason in known else "other",
                note=f.note,
                created_at=f.created_at,
                resolved_at=f.resolved_at,
                resolved_by_id=f.resolved_by_id,
            )
            for f in flags.iterator()
        ],
        ignore_conflicts=True,
    )
    flags.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0002_moderation"),
        ("accounts", "0005_agencies_teams_trust"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(copy_reports, copy_back),
        migrations.DeleteModel(name="MessageReport"),
    ]
