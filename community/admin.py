from django.contrib import admin

from .models import Circle, Membership


@admin.register(Circle)
class CircleAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "access", "capacity", "room_closed")
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ("name", "topic")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """Shows aliases and opaque numbers; the handle is not listed or searchable here."""

    list_display = ("member_number", "alias", "circle", "role", "joined_at", "left_at", "banned")
    list_filter = ("role", "banned", "circle")
    search_fields = ("alias",)
    exclude = ("user",)
    readonly_fields = ("alias", "joined_at", "has_posted")

    def has_add_permission(self, request):
        return False  # memberships come from joining (community.services.join_circle)
