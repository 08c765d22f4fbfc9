"""The help center's categories and articles (community/help_content/) exist in every
environment. Later changes to the files are loaded with ``manage.py seed_help_center``."""

from django.db import migrations


def load(apps, schema_editor):
    from community.help_content import sync_help_content

    sync_help_content(apps.get_model("community", "HelpCategory"), apps.get_model("community", "Article"))


class Migration(migrations.Migration):
    dependencies = [("community", "0002_boards")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
