"""Resource posts in the admin, read-only (changes go through the library's
pages and services, screened and audited).  The private tools are not
registered here at all: no staff listing ever shows them."""

from django.contrib import admin

from .models import ResourcePost


@admin.register(ResourcePost)
class ResourcePostAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "phase", "circle", "status", "author_label", "verified_at")
    list_filter = ("status", "kind", "phase")
    search_fields = ("title",)
    exclude = ("author",)  # staff see the alias or role label, never the account behind it
    readonly_fields = [f.name for f in ResourcePost._meta.fields if f.name != "author"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
