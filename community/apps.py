from django.apps import AppConfig
from django.db.models.signals import post_migrate

MODERATORS_GROUP = "Moderators"
MODERATOR_PERMISSIONS = ("moderate_circles", "manage_rules", "view_audit")
# Admin access for moderators: the rule list and the read-only queue and audit log.
MODERATOR_ADMIN_PERMISSIONS = (
    ("moderation", "view_keywordrule"),
    ("moderation", "add_keywordrule"),
    ("moderation", "change_keywordrule"),
    ("moderation", "view_flag"),
    ("moderation", "view_auditentry"),
)


def ensure_moderators_group(sender, **kwargs):
    """Site-wide moderators are this Django group; its permissions exist only after
    migrate has created them, hence a post_migrate hook rather than a migration."""
    from django.contrib.auth.models import Group, Permission

    group, _ = Group.objects.get_or_create(name=MODERATORS_GROUP)
    perms = Permission.objects.filter(content_type__app_label="community", codename__in=MODERATOR_PERMISSIONS)
    group.permissions.add(*perms)
    for app_label, codename in MODERATOR_ADMIN_PERMISSIONS:
        group.permissions.add(*Permission.objects.filter(content_type__app_label=app_label, codename=codename))


class CommunityConfig(AppConfig):
    name = "community"
    verbose_name = "Circles and members"

    def ready(self):
        from django.contrib.auth.models import User
        from django.contrib.auth.signals import user_logged_in, user_logged_out
        from django.db.models.signals import m2m_changed

        from . import signals

        # Every app: the moderation app's permissions exist only after its own migrate.
        post_migrate.connect(ensure_moderators_group)
        user_logged_in.connect(signals.on_logged_in, dispatch_uid="community-logged-in")
        user_logged_out.connect(signals.on_logged_out, dispatch_uid="community-logged-out")
        m2m_changed.connect(signals.on_groups_changed, sender=User.groups.through, dispatch_uid="community-groups")
