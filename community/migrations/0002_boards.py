"""The eight forum boards exist in every environment (production included)."""

from django.db import migrations

BOARDS = [
    ("getting-started", "Getting started", "New here? Ask anything about how the marketplace works.", False),
    ("finding-work", "Finding work", "Profiles, proposals and Connects: winning your next contract.", False),
    ("hiring-talent", "Hiring talent", "Writing job posts, reviewing proposals and working with freelancers.", False),
    ("payments", "Payments", "Escrow, holds, weekly billing, fees and withdrawals.", False),
    ("design", "Design", "Branding, UI/UX and illustration: craft and client work.", False),
    ("development", "Development", "Web, mobile and data work: tools, estimates and delivery.", False),
    ("writing", "Writing", "Copywriting, editing and translation.", False),
    ("announcements", "Announcements", "News from the marketplace team.", True),
]


def create_boards(apps, schema_editor):
    Board = apps.get_model("community", "Board")
    for position, (slug, name, description, staff_only) in enumerate(BOARDS):
        Board.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "description": description,
                "position": position,
                "staff_only_threads": staff_only,
            },
        )


def remove_boards(apps, schema_editor):
    Board = apps.get_model("community", "Board")
    Board.objects.filter(slug__in=[b[0] for b in BOARDS], thread_count=0).delete()


class Migration(migrations.Migration):
    dependencies = [("community", "0001_initial")]

    operations = [migrations.RunPython(create_boards, remove_boards)]
