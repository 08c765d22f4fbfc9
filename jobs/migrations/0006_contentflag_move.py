"""Job reports move to the moderation queue: every ``JobFlag`` becomes an
``accounts.ContentFlag`` (the text as it is now kept as the snapshot), then the table goes."""

from django.db import migrations


def copy_flags(apps, schema_editor):
    JobFlag = apps.get_model("jobs", "JobFlag")
    ContentFlag = apps.get_model("accounts", "ContentFlag")
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not JobFlag.objects.exists():
        return
    job_type, _ = ContentType.objects.get_or_create(app_label="jobs", model="job")
    rows = []
    for flag in JobFlag.objects.select_related("job").order_by("pk").iterator():
        job = flag.job
        removed = job.status == "cancelled" and job.close_reason == "removed_by_staff"
        status = "open" if flag.reviewed_at is None else ("actioned" if removed else "dismissed")
        rows.append(
            ContentFlag(
                content_type_id=job_type.pk,
                object_id=job.pk,
                reporter_id=flag.reporter_id,
                content_owner_id=job.client_id,
                reason=flag.reason,
                note=flag.note,
                snapshot=f"{job.title}\n\n{job.description}"[:5000],
                status=status,
                created_at=flag.created_at,
                resolved_at=flag.reviewed_at,
            )
        )
    ContentFlag.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)


def copy_back(apps, schema_editor):
    JobFlag = apps.get_model("jobs", "JobFlag")
    ContentFlag = apps.get_model("accounts", "ContentFlag")
    ContentType = apps.get_model("contenttypes", "ContentType")
    job_type = ContentType.objects.filter(app_label="jobs", model="job").first()
    if job_type is None:
        return
    flags = ContentFlag.objects.filter(content_type_id=job_type.pk)
    JobFlag.objects.bulk_create(
        [
            JobFlag(
                job_id=f.object_id,
                reporter_id=f.reporter_id,
                reason=f.reason if f.reason in {"spam", "scam", "inappropriate", "unpaid_test"} else "other",
                note=f.note,
                created_at=f.created_at,
                reviewed_at=f.resolved_at,
            )
            for f in flags.iterator()
        ],
        ignore_conflicts=True,
    )
    flags.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0005_team_and_hidden"),
        ("accounts", "0005_agencies_teams_trust"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(copy_flags, copy_back),
        migrations.DeleteModel(name="JobFlag"),
    ]
