from django.contrib import admin

from . import services
from .models import AuditEntry, Flag, KeywordRule


@admin.register(KeywordRule)
class KeywordRuleAdmin(admin.ModelAdmin):
    list_display = ("pattern", "kind", "category", "action", "circle", "enabled", "shadow", "updated_at")
    list_filter = ("category", "action", "kind", "enabled", "shadow")
    search_fields = ("pattern", "note")
    # Who changed a rule is in the audit log, by alias or role; no handle here.
    exclude = ("updated_by",)
    readonly_fields = ("created_at", "updated_at", "source", "pack_key", "pack_version", "pack_hash")

    def save_model(self, request, obj, form, change):
        # The service writes the audit entry and bumps the rule-set version.
        fields = {name: form.cleaned_data[name] for name in services.RULE_FIELDS if name in form.cleaned_data}
        saved = services.save_rule(user=request.user, rule=obj, **fields)
        obj.pk = saved.pk

    def has_delete_permission(self, request, obj=None):
        return False  # switch a rule off instead: its hits and precision stay meaningful


@admin.register(Flag)
class FlagAdmin(admin.ModelAdmin):
    list_display = ("id", "circle", "category", "urgent", "status", "report_count", "created_at", "resolution")
    list_filter = ("status", "urgent", "category")
    # Who handled or acknowledged an item is in the audit log, by alias or role.
    exclude = ("handled_by", "acknowledged_by")
    readonly_fields = [f.name for f in Flag._meta.fields if f.name not in ("handled_by", "acknowledged_by")]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the audit log is append-only."""

    list_display = ("created_at", "action", "actor_label", "actor_role", "circle", "reason")
    list_filter = ("action", "actor_role")
    # The actor's account is never shown: staff see the label (alias and number,
    # or role); the handle only through the audited identity reveal.
    exclude = ("actor",)
    readonly_fields = [f.name for f in AuditEntry._meta.fields if f.name != "actor"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
