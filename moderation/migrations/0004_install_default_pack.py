"""Install or update the default keyword-rule pack, so every deployment that runs
``migrate`` screens with it (docs/moderation.md, "The default rule pack").

It reads the pack file as it is now (``moderation/rulepacks/default.json``) and
calls ``moderation.rulepack.install_in_migration`` (``sync_pack`` with the historical models): rules are
created, updated where nobody edited them, and switched off when they left the
pack; a moderator's edit is never overwritten.  When the pack's ``version``
changes, add a migration like this one with the new ``PACK_VERSION`` (a test
checks there is one), so deployments get the update on their next ``migrate``.
"""

from django.db import migrations

PACK_NAME = "default"
PACK_VERSION = 2


def install_pack(apps, schema_editor):
    from moderation import rulepack

    rulepack.install_in_migration(apps, PACK_NAME)


class Migration(migrations.Migration):

    dependencies = [
        ("moderation", "0003_rule_pack_tracking"),
    ]

    operations = [
        migrations.RunPython(install_pack, migrations.RunPython.noop),
    ]
