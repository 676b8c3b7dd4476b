from django.apps import AppConfig


class LibraryConfig(AppConfig):
    name = "library"
    verbose_name = "Library and private tools"

    def ready(self) -> None:
        from community import memberdata
        from moderation import content

        from . import memberdata as library_data
        from .content import ResourceActions
        from .private import voice

        content.register("resource", ResourceActions())
        memberdata.register("library_posts", export=library_data.export_posts, erase=library_data.erase_posts)
        memberdata.register("private_tools", export=library_data.export_private, erase=library_data.erase_private)
        voice.connect_signals()
