import secrets

from django.db import migrations, models

import community.models

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


def fill(apps, schema_editor):
    """Every existing membership gets a random number (replacing M-<pk>, which
    followed the global sequence)."""
    Membership = apps.get_model("community", "Membership")
    taken = set()
    for membership in Membership.objects.all().only("pk"):
        while True:
            chars = "".join(secrets.choice(ALPHABET) for _ in range(8))
            number = f"M-{chars[:4]}-{chars[4:]}"
            if number not in taken:
                break
        taken.add(number)
        Membership.objects.filter(pk=membership.pk).update(number=number)


class Migration(migrations.Migration):
    dependencies = [
        ("community", "0002_ordering_by_column"),
    ]

    operations = [
        migrations.AddField(
            model_name="membership",
            name="number",
            field=models.CharField(max_length=16, null=True, editable=False),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="membership",
            name="number",
            field=models.CharField(
                default=community.models.new_member_number, editable=False, max_length=16, unique=True
            ),
        ),
    ]
