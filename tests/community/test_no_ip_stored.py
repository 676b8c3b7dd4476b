"""No client address is kept: sign-up, recovery, log-in and joining through a real Daphne process
leave no trace of the client's IP in the database or in the server's output."""

import http.cookiejar
import re
import urllib.parse
import urllib.request

from django.contrib.sessions.models import Session
from django.db import connection

from community.models import Membership
from tests.conftest import PASSWORD

CLIENT_IP = "127.0.0.1"
NEW = "a new lantern by the door"


class Browser:
    """A cookie-keeping HTTP client that posts forms the way a browser does (CSRF included)."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def cookie(self, name: str) -> str:
        return next(c.value for c in self.jar if c.name == name)

    def get(self, path: str) -> tuple[int, str]:
        with self.opener.open(self.base_url + path, timeout=10) as response:
            return response.status, response.read().decode()

    def post_form(self, path: str, fields: dict[str, str]) -> tuple[int, str, str]:
        """GET the page for its CSRF cookie, then POST; returns (status, final URL path, body)."""
        self.get(path if not path.endswith(("/join/", "/logout/", "/saved/")) else "/")
        data = urllib.parse.urlencode({"csrfmiddlewaretoken": self.cookie("csrftoken"), **fields}).encode()
        with self.opener.open(self.base_url + path, data=data, timeout=10) as response:
            return response.status, urllib.parse.urlparse(response.url).path, response.read().decode()


def walk_through_signup_login_and_join(base_url: str, circle) -> None:
    browser = Browser(base_url)
    status, where, body = browser.post_form(
        "/accounts/signup/", {"handle": "river-walker", "password": PASSWORD, "password_again": PASSWORD}
    )
    assert (status, where) == (200, "/accounts/signup/")  # the recovery codes, shown once
    codes = re.findall(r"<code>([A-Z0-9-]{19})</code>", body)
    assert len(codes) == 8
    status, where, _ = browser.post_form("/accounts/recovery-codes/saved/", {"first_time": "1"})
    assert (status, where) == (200, "/")
    status, where, _ = browser.post_form("/accounts/logout/", {})
    assert (status, where) == (200, "/")
    # A forgotten password: one recovery code sets a new one (throttled like log-in).
    status, where, _ = browser.post_form(
        "/accounts/recover/",
        {"handle": "river-walker", "code": codes[0], "new_password": NEW, "new_password_again": NEW},
    )
    assert (status, where) == (200, "/accounts/")
    status, where, _ = browser.post_form("/accounts/logout/", {})
    status, where, _ = browser.post_form("/accounts/login/", {"username": "river-walker", "password": NEW})
    assert (status, where) == (200, "/")
    status, where, body = browser.post_form(f"/circles/{circle.slug}/join/", {})
    assert (status, where) == (200, f"/circles/{circle.slug}/")
    assert "Here you are" in body


def text_columns_containing(needle: str) -> list[str]:
    """Every table.column of the database whose text form contains ``needle``."""
    hits = []
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            for column in connection.introspection.get_table_description(cursor, table):
                cursor.execute(
                    f"SELECT COUNT(*) FROM {quote(table)} WHERE CAST({quote(column.name)} AS TEXT) LIKE %s",
                    [f"%{needle}%"],
                )
                if cursor.fetchone()[0]:
                    hits.append(f"{table}.{column.name}")
    return hits


def test_no_ip_address_is_stored_in_the_database(daphne_server, make_circle):
    """After sign-up, log-in and join over real HTTP, no column of any table holds the client's address."""
    circle = make_circle(name="Evening Circle", slug="evening")
    walk_through_signup_login_and_join(daphne_server.url, circle)
    assert Membership.objects.filter(user__username="river-walker", circle=circle).exists()
    assert text_columns_containing(CLIENT_IP) == []
    for session in Session.objects.all():  # session data is encoded: look inside it too
        assert CLIENT_IP not in repr(session.get_decoded())


def test_no_ip_address_appears_in_the_server_output(daphne_server, make_circle):
    """After sign-up, log-in and join over real HTTP, Daphne's output never shows the client's address."""
    circle = make_circle(name="Evening Circle", slug="evening")
    walk_through_signup_login_and_join(daphne_server.url, circle)
    output = daphne_server.output()
    assert CLIENT_IP not in output, output
