"""Version 3 of the default keyword-rule pack (a passive-wish rule that missed a message
ending in "if I wasn't around"); install or update it, so every deployment that runs
``migrate`` screens with it (docs/moderation.md, "The default rule pack").

The same step as 0004 (``moderation.rulepack.install_in_migration``): the pack
file as it is now, synced with the historical models; a moderator's edit is
never overwritten.
"""

from django.db import migrations

PACK_NAME = "default"
PACK_VERSION = 3


def install_pack(apps, schema_editor):
    from moderation import rulepack

    rulepack.install_in_migration(apps, PACK_NAME)


class Migration(migrations.Migration):

    dependencies = [
        ("moderation", "0009_audit_actions_both"),
    ]

    operations = [
        migrations.RunPython(install_pack, migrations.RunPython.noop),
    ]
