"""How to make rendering thread-safe at the least cost (issue 8).

Sends of different circles render in parallel worker threads; bleach's Cleaner
may not be shared between threads.  Three ways, measured side by side in one run
on the same bodies, with 1 and 8 threads:

* ``local``: a Markdown parser and a cleaner per thread (what chat.text does);
* ``lock``: one shared renderer behind a lock;
* ``new``: a new renderer for every render;
* ``bleach-linkify``: the renderer before: links found by bleach's LinkifyFilter
  (it turned typed entities back into live ones) rather than by markdown-it.

    .venv/bin/python bench/render_bench.py [--renders 8000]
"""

import argparse
import os
import sys
import threading
import time
from functools import partial

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django

django.setup()

import bleach  # noqa: E402
from bleach.linkifier import LinkifyFilter  # noqa: E402
from markdown_it import MarkdownIt  # noqa: E402

from core import markup as text  # noqa: E402  (the renderer chat.text uses)
from tests.chat.test_render_threads import _bodies  # noqa: E402


def _bleach_linkify_cleaner() -> bleach.Cleaner:
    def set_rel(attrs, new=False):
        href = attrs.get((None, "href"), "")
        if not href.startswith(("http://", "https://")):
            return None
        attrs[(None, "rel")] = "nofollow noopener"
        return attrs

    return bleach.Cleaner(
        tags=text.ALLOWED_TAGS,
        attributes=text.ALLOWED_ATTRIBUTES,
        protocols=text.ALLOWED_PROTOCOLS,
        strip=True,
        filters=[partial(LinkifyFilter, callbacks=[set_rel], parse_email=False)],
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--renders", type=int, default=8000)
    args = parser.parse_args()
    bodies = _bodies(1, args.renders)

    def local_render(body: str) -> str:  # exactly chat.text.render
        return text.render(body)

    lock = threading.Lock()
    shared = text._Renderer()

    def locked_render(body: str) -> str:
        with lock:
            return shared.render(body)

    def new_render(body: str) -> str:
        return text._Renderer().render(body)

    before_local = threading.local()
    plain_md = MarkdownIt("zero", {"breaks": True, "html": False}).enable(
        ["emphasis", "list", "link", "newline", "escape", "paragraph"]
    )

    def bleach_linkify_render(body: str) -> str:
        cleaner = getattr(before_local, "cleaner", None)
        if cleaner is None:
            cleaner = before_local.cleaner = _bleach_linkify_cleaner()
        return cleaner.clean(plain_md.render(body)).strip()

    print(f"{'way':14} {'threads':>7} {'renders/s':>10} {'µs/render':>10}")
    ways = (
        ("local", local_render),
        ("lock", locked_render),
        ("new", new_render),
        ("bleach-linkify", bleach_linkify_render),
    )
    for name, fn in ways:
        for nthreads in (1, 8):
            share = args.renders // nthreads

            def work(fn=fn, share=share) -> None:
                for body in bodies[:share]:
                    fn(body)

            threads = [threading.Thread(target=work) for _ in range(nthreads)]
            start = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.perf_counter() - start
            total = share * nthreads
            print(f"{name:14} {nthreads:7} {total / elapsed:10.0f} {elapsed / total * 1e6:10.1f}")


if __name__ == "__main__":
    main()
