"""The default rule pack is installed by ``migrate`` and updated without ever
overwriting a moderator's edit (moderation/rulepack.py, the data migrations)."""

import copy
import importlib
import pkgutil

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from moderation import rulepack, services
from moderation.management.commands.load_rule_pack import load_pack
from moderation.models import AuditEntry, KeywordRule

PACK = rulepack.read_pack("default")


def sync(pack):
    return rulepack.sync_pack(KeywordRule, pack, audit_model=AuditEntry)


def small_pack(version=1):
    """A pack of four rules to play updates with."""
    return {
        "name": "default",
        "version": version,
        "rules": [
            {
                "key": "t.one",
                "pattern": "zqone",
                "kind": "word",
                "category": "spam",
                "action": "flag",
                "exempt": [],
                "note": "one",
            },
            {
                "key": "t.two",
                "pattern": "zq two",
                "kind": "phrase",
                "category": "spam",
                "action": "hold",
                "exempt": [],
                "note": "two",
            },
            {
                "key": "t.three",
                "pattern": "zqthree",
                "kind": "word",
                "category": "spam",
                "action": "flag",
                "exempt": [],
                "note": "three",
            },
            {
                "key": "t.four",
                "pattern": "zqfour",
                "kind": "word",
                "category": "spam",
                "action": "flag",
                "exempt": [],
                "note": "four",
            },
        ],
    }


def rule(key):
    return KeywordRule.objects.get(source="default-pack", pack_key=key)


@pytest.mark.django_db(transaction=True)
def test_a_fresh_migrate_installs_the_pack():
    """Migrating through the data migration installs every pack rule, tracked by key,
    version and content hash."""
    executor = MigrationExecutor(connection)
    executor.migrate([("moderation", "0003_rule_pack_tracking")])
    assert not KeywordRule.objects.exists()
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes("moderation"))
    installed = KeywordRule.objects.filter(source="default-pack")
    assert installed.count() == len(PACK["rules"])
    assert {r.pack_key for r in installed} == {entry["key"] for entry in PACK["rules"]}
    assert all(r.pack_version == PACK["version"] and len(r.pack_hash) == 64 for r in installed)
    assert all(r.updated_by_id is None for r in installed)
    assert AuditEntry.objects.filter(actor_role="system", action="rule_change").count() == len(PACK["rules"])


def test_the_latest_pack_version_has_its_migration():
    """Bumping the pack's version needs a migration with that PACK_VERSION, or deployments
    that only run migrate would never get the update."""
    import moderation.migrations as package

    versions = []
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"moderation.migrations.{info.name}")
        if hasattr(module, "PACK_VERSION"):
            versions.append(module.PACK_VERSION)
    assert max(versions) == PACK["version"]


@pytest.mark.django_db
def test_an_update_adds_updates_and_switches_off_but_keeps_moderators_edits(site_moderator):
    """Pack v2 changes every rule; only untouched rules follow it."""
    report = sync(small_pack(1))
    assert sorted(report.created) == ["t.four", "t.one", "t.three", "t.two"]
    # a moderator edits "one" through the rule pages (updated_by set) ...
    services.save_rule(user=site_moderator, rule=rule("t.one"), action="hold")
    # ... and someone changes "three" directly in the database (content differs from what was installed)
    KeywordRule.objects.filter(pk=rule("t.three").pk).update(note="tuned by hand")

    v2 = small_pack(2)
    for entry in v2["rules"]:
        entry["note"] += " (v2)"
    v2["rules"] = [e for e in v2["rules"] if e["key"] not in ("t.three", "t.four")]  # both leave the pack
    v2["rules"].append(
        {
            "key": "t.five",
            "pattern": "zqfive",
            "kind": "word",
            "category": "spam",
            "action": "flag",
            "exempt": [],
            "note": "five",
        }
    )
    report = sync(v2)

    assert report.created == ["t.five"]
    assert report.updated == ["t.two"]
    assert report.kept_local_edit == ["t.one"]
    assert report.disabled == ["t.four"]
    one, two, three, four = (rule(k) for k in ("t.one", "t.two", "t.three", "t.four"))
    assert (one.action, one.note) == ("hold", "one")  # the moderator's version wins
    assert (two.note, two.pack_version) == ("two (v2)", 2)  # untouched: follows the pack
    assert (three.enabled, three.note) == (True, "tuned by hand")  # edited: left on, as edited
    assert four.enabled is False  # untouched and gone from the pack: switched off, not deleted

    assert not sync(v2).changed  # a second run changes nothing


@pytest.mark.django_db
def test_rules_installed_before_tracking_are_adopted():
    """Rows from the old loader (source set, no pack key) are matched by kind and pattern."""
    KeywordRule.objects.create(
        pattern="zqone", kind="word", category="spam", action="flag", source="default-pack", note="old note"
    )
    KeywordRule.objects.create(pattern="zqgone", kind="word", category="spam", action="flag", source="default-pack")
    report = sync(small_pack(1))
    assert "t.one" in report.updated and rule("t.one").note == "one"
    assert KeywordRule.objects.filter(source="default-pack").count() == 5
    assert KeywordRule.objects.get(pattern="zqgone").enabled is False


@pytest.mark.django_db
def test_a_pack_with_an_invalid_pattern_is_refused_whole():
    """Validation runs over the whole pack before anything is written."""
    broken = copy.deepcopy(small_pack(1))
    broken["rules"][1]["pattern"] = r"(a)\1"
    broken["rules"][1]["kind"] = "regex"
    with pytest.raises(ValueError, match="Back-references"):
        sync(broken)
    assert not KeywordRule.objects.exists()


@pytest.mark.django_db
def test_load_rule_pack_command_uses_the_same_sync(capsys):
    """manage.py load_rule_pack installs the pack, and running it again changes nothing."""
    call_command("load_rule_pack")
    assert f"{len(PACK['rules'])} created" in capsys.readouterr().out
    assert KeywordRule.objects.filter(source="default-pack").count() == len(PACK["rules"])
    assert not load_pack().changed
