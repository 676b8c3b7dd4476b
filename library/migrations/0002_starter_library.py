"""Install the starter library (library/starter.py), so a fresh deployment shows
crisis lines, playlists, a worksheet, prompts and practices at once."""

from django.db import migrations


def forwards(apps, schema_editor):
    from library.starter import install

    install(apps.get_model("library", "ResourcePost"), apps.get_model("library", "Track"), apps.get_model("library", "Prompt"))


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
