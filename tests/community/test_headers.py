"""Security headers (issue 11.14): a strict Content-Security-Policy on every page,
templates with no inline script or style, private pages not cached, and a clean
``manage.py check --deploy`` behind HTTPS."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from tests.community.test_settings import READ_BY_SETTINGS

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "object-src": "'none'",
}


def policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] for part in header.split("; ")}


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/accounts/signup/", "/accounts/recover/", "/nowhere/"])
def test_every_public_page_has_the_strict_policy(client, db, path):
    got = policy(client.get(path))
    for name, value in EXPECTED.items():
        assert got[name] == value, name
    assert got["connect-src"] == "'self' ws://testserver"
    assert "unsafe-inline" not in str(got) and "unsafe-eval" not in str(got)


@pytest.mark.parametrize("path", ["/", "/accounts/", "/accounts/notifications/", "/moderation/", "/moderation/rules/"])
def test_signed_in_pages_have_the_policy_and_are_not_cached(client_for, site_moderator, path):
    response = client_for(site_moderator).get(path)
    assert response.status_code == 200
    assert policy(response)["script-src"] == "'self'"
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_behind_tls_sockets_are_allowed_only_to_wss_on_this_host(db):
    response = Client().get("/", secure=True)
    assert policy(response)["connect-src"] == "'self' wss://testserver"


def test_the_admin_has_the_policy_too(client, db):
    assert policy(client.get("/admin/login/"))["script-src"] == "'self'"


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "an inline <script>"),
    (re.compile(r"<style\b", re.I), "a <style> element"),
    (re.compile(r"\sstyle\s*=", re.I), "a style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "an inline event handler"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
]


@pytest.mark.parametrize(
    "template", sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "templates").rglob("*.html"))
)
def test_no_template_has_inline_script_or_style(template):
    """The policy allows no inline script or style, so no template may hold one."""
    text = (ROOT / template).read_text()
    for pattern, what in INLINE:
        assert not pattern.search(text), f"{template} has {what}: {pattern.search(text).group(0)!r}"


def test_check_deploy_is_clean_behind_https(tmp_path):
    """With HTTPS=true, a real secret and a host, `manage.py check --deploy` warns of nothing."""
    env = {k: v for k, v in os.environ.items() if k not in READ_BY_SETTINGS}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.base",
        HTTPS="true",
        SECRET_KEY="".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789!@%^&*(-_=+)") for _ in range(50)),
        ALLOWED_HOSTS="example.org",
        DATA_DIR=str(tmp_path),
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr
