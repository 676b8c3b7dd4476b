"""The shipped keyword-rule pack: read it, and bring a database's rules up to it.

One code path for ``manage.py load_rule_pack`` and for the data migrations that
install and update the pack on every ``migrate``.  Migrations call
``sync_pack`` with their *historical* models (``apps.get_model``), so this
module imports no model and no app code that touches the database; it uses only
the model fields that exist on the model it is given (a later migration may add
fields a pack entry carries).  It must stay importable by old migrations: keep
its signature stable.

How a pack update meets local edits
-----------------------------------
Every pack rule has a ``key`` (its identity in the pack).  A row installed from
the pack records that key, the pack version and a hash of the content it was
installed with (``pack_key``, ``pack_version``, ``pack_hash``).  On sync:

* a pack rule with no row yet is created;
* a row nobody edited (``updated_by`` empty AND its content still hashes to
  ``pack_hash``) is brought up to the pack's content;
* a row a moderator edited (``updated_by`` set, or content different from what
  the pack installed) is left exactly as it is -- the moderator's version wins;
* a row whose key left the pack is switched off, if nobody edited it (rules are
  never deleted: their hits and precision stay meaningful).

Rows installed before pack tracking existed (``source`` set, no ``pack_key``)
are adopted by kind and pattern; those no pack rule claims are treated as
removed from the pack.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

PACK_DIR = Path(__file__).resolve().parent / "rulepacks"
CONTENT_FIELDS = ("pattern", "kind", "category", "action", "exempt", "enabled", "shadow", "note")
NOTE_LIMIT = 300


def read_pack(name: str = "default") -> dict:
    """The pack file ``rulepacks/<name>.json`` as a dict with ``name``, ``version``, ``rules``."""
    pack = json.loads((PACK_DIR / f"{name}.json").read_text(encoding="utf-8"))
    if isinstance(pack, list):  # a bare list of rules
        pack = {"name": name, "version": 0, "rules": pack}
    return pack


def entry_content(entry: dict) -> dict:
    """A pack entry as the row fields it installs."""
    return {
        "pattern": entry["pattern"],
        "kind": entry["kind"],
        "category": entry["category"],
        "action": entry["action"],
        "exempt": "\n".join(entry.get("exempt", [])),
        "enabled": bool(entry.get("enabled", True)),
        "shadow": bool(entry.get("shadow", False)),
        "note": entry.get("note", "")[:NOTE_LIMIT],
    }


def row_content(rule) -> dict:
    return {name: getattr(rule, name) for name in CONTENT_FIELDS}


def content_hash(content: dict) -> str:
    canonical = {name: content[name] for name in CONTENT_FIELDS}
    canonical["exempt"] = "\n".join(line.strip() for line in str(canonical["exempt"]).splitlines() if line.strip())
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode("utf-8")).hexdigest()


@dataclass
class SyncReport:
    pack: str
    version: int
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept_local_edit: list[str] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.disabled)

    def summary(self) -> str:
        return (
            f"rule pack '{self.pack}' v{self.version}: {len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged, {len(self.kept_local_edit)} kept as moderators edited them, "
            f"{len(self.disabled)} switched off (left the pack)"
        )


def _edited(rule) -> bool:
    """Did a moderator change this row since the pack installed it?"""
    if rule.updated_by_id is not None:
        return True
    return bool(rule.pack_hash) and content_hash(row_content(rule)) != rule.pack_hash


def _check(pack: dict) -> list[dict]:
    from moderation.matcher import validate  # pure: no Django, no models

    entries = pack["rules"]
    keys = [entry.get("key") for entry in entries]
    if any(not key for key in keys) or len(set(keys)) != len(keys):
        raise ValueError(f"rule pack {pack.get('name')!r}: every rule needs a unique 'key'")
    for entry in entries:
        validate(entry["kind"], entry["pattern"])  # PatternError (a ValueError) names the problem
    return entries


def sync_pack(keyword_rule_model, pack: dict, *, audit_model=None, now=None) -> SyncReport:
    """Bring the pack's rules into the table of ``keyword_rule_model`` (see the module
    docstring).  Call inside a transaction.  ``audit_model``, when given, gets one
    system entry per rule created, updated or switched off."""
    from django.utils import timezone

    now = now or timezone.now()
    name, version = pack.get("name", "default"), int(pack.get("version", 0))
    source = f"{name}-pack"
    entries = _check(pack)
    fields = {f.name for f in keyword_rule_model._meta.get_fields()}
    report = SyncReport(name, version)
    rows = list(keyword_rule_model.objects.filter(source=source, circle__isnull=True))
    by_key = {row.pack_key: row for row in rows if row.pack_key}
    legacy = {(row.kind, row.pattern): row for row in rows if not row.pack_key}

    def audit(rule, what: str, changes: dict) -> None:
        if audit_model is not None:
            audit_model.objects.create(
                actor=None,
                actor_role="system",
                action="rule_change",
                reason=f"rule pack {name} v{version}: {what}",
                extra={"rule": rule.pk, "pack_key": rule.pack_key, "changes": changes},
            )

    for entry in entries:
        key = entry["key"]
        content = {k: v for k, v in entry_content(entry).items() if k in fields}
        new_hash = content_hash(entry_content(entry))
        rule = by_key.get(key) or legacy.pop((entry["kind"], entry["pattern"]), None)
        if rule is None:
            rule = keyword_rule_model(
                source=source,
                pack_key=key,
                pack_version=version,
                pack_hash=new_hash,
                created_at=now,
                updated_at=now,
                **content,
            )
            rule.save()
            report.created.append(key)
            audit(rule, "created", {k: [None, str(v)] for k, v in content.items()})
            continue
        adopting = not rule.pack_key
        if _edited(rule):
            if adopting:  # track it, but leave the moderator's content alone
                rule.pack_key = key
                rule.save(update_fields=["pack_key"])
            report.kept_local_edit.append(key)
            continue
        changes = {k: [str(getattr(rule, k)), str(v)] for k, v in content.items() if getattr(rule, k) != v}
        if not changes and rule.pack_hash == new_hash and not adopting:
            report.unchanged.append(key)
            continue
        for k, v in content.items():
            setattr(rule, k, v)
        rule.pack_key, rule.pack_version, rule.pack_hash = key, version, new_hash
        if changes:
            rule.updated_at = now
        rule.save()
        (report.updated if changes else report.unchanged).append(key)
        if changes:
            audit(rule, "updated", changes)

    pack_keys = {entry["key"] for entry in entries}
    gone = [row for key, row in by_key.items() if key not in pack_keys] + list(legacy.values())
    for rule in gone:
        if rule.enabled and not _edited(rule):
            rule.enabled = False
            rule.updated_at = now
            rule.pack_hash = content_hash(row_content(rule))  # switched off by the pack, not by a moderator
            rule.save(update_fields=["enabled", "updated_at", "pack_hash"])
            report.disabled.append(rule.pack_key or rule.pattern)
            audit(rule, "switched off (no longer in the pack)", {"enabled": ["True", "False"]})
    return report


def install_in_migration(apps, name: str = "default") -> SyncReport:
    """A migration's step: sync pack ``name`` as its file is now, with the
    migration's historical models (0004 and every later pack version's migration)."""
    return sync_pack(
        apps.get_model("moderation", "KeywordRule"),
        read_pack(name),
        audit_model=apps.get_model("moderation", "AuditEntry"),
    )
