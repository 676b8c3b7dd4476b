from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = "Live rooms"

    def ready(self) -> None:
        from community import memberdata, unread
        from moderation import content

        from . import checks  # noqa: F401  (registers the system checks)
        from .content import MessageActions, erase_messages, export_messages, export_reactions, export_seats
        from .selectors import unread_counts

        content.register("message", MessageActions())
        memberdata.register("messages", export=export_messages, erase=erase_messages)
        memberdata.register("reactions", export=export_reactions)
        memberdata.register("room_places", export=export_seats)
        unread.register(unread_counts)
