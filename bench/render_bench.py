"""How to make rendering thread-safe at the least cost (issue 8).

Sends of different circles render in parallel worker threads; bleach's Cleaner
may not be shared between threads.  Three ways, measured side by side in one run
on the same bodies, with 1 and 8 threads:

* ``local``: a Markdown parser and a cleaner per thread (what chat.text does);
* ``lock``: one shared cleaner behind a lock;
* ``new``: a new cleaner for every render.

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

from chat import text  # noqa: E402
from tests.chat.test_render_threads import _bodies  # noqa: E402


def _cleaner() -> bleach.Cleaner:
    return bleach.Cleaner(
        tags=text.ALLOWED_TAGS,
        attributes=text.ALLOWED_ATTRIBUTES,
        protocols=text.ALLOWED_PROTOCOLS,
        strip=True,
        filters=[partial(LinkifyFilter, callbacks=[text._set_rel], parse_email=False)],
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--renders", type=int, default=8000)
    args = parser.parse_args()
    bodies = _bodies(1, args.renders)
    md = text._Renderer().md  # markdown-it is warmed up; its render is read-only after that

    def local_render(body: str) -> str:  # exactly chat.text.render
        return text.render(body)

    lock = threading.Lock()
    shared = _cleaner()

    def locked_render(body: str) -> str:
        html = md.render(body)
        with lock:
            return shared.clean(html).strip()

    def new_render(body: str) -> str:
        return _cleaner().clean(md.render(body)).strip()

    print(f"{'way':6} {'threads':>7} {'renders/s':>10} {'µs/render':>10}")
    for name, fn in (("local", local_render), ("lock", locked_render), ("new", new_render)):
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
            print(f"{name:6} {nthreads:7} {total / elapsed:10.0f} {elapsed / total * 1e6:10.1f}")


if __name__ == "__main__":
    main()
