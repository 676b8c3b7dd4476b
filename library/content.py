"""The library's resource posts as moderation sees them (``moderation.content``).

Registered by ``LibraryConfig.ready``: the review queue approves a waiting
suggestion, removes a post, and erases one's text through these hooks, so
moderation never imports the library.
"""

from __future__ import annotations

from moderation import content

from . import resources
from .models import ResourcePost

_STATE = {
    ResourcePost.Status.PUBLISHED: content.PUBLISHED,
    ResourcePost.Status.PENDING: content.HELD,
    ResourcePost.Status.REMOVED: content.REMOVED,
}


class ResourceActions:
    def state(self, item: ResourcePost) -> str:
        return _STATE[ResourcePost.Status(item.status)]

    def is_hidden(self, item: ResourcePost) -> bool:
        return False  # a post is published, waiting or removed: never half-hidden

    def set_hidden(self, item: ResourcePost, *, hidden: bool) -> None:
        return None

    def remove(self, item: ResourcePost, *, reason: str) -> None:
        resources.do_remove(item)

    def publish_held(self, item: ResourcePost) -> None:
        resources.publish_reviewed(item)

    def erase_text(self, item: ResourcePost) -> None:
        resources.erase_text(item)

    def context(self, items: list[ResourcePost], around: int) -> dict[int, tuple[list, list]]:
        return {item.pk: ([], []) for item in items}  # a post stands on its own
