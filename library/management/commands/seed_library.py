from django.core.management.base import BaseCommand

from library.models import Prompt, ResourcePost, Track
from library.starter import install


class Command(BaseCommand):
    help = "Add the starter library's posts that are missing (never changes an existing one)."

    def handle(self, *args, **options) -> None:
        made = install(ResourcePost, Track, Prompt)
        self.stdout.write(f"{made} starter resource(s) added.")
