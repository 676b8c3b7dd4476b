from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.shortcuts import render
from django.utils.cache import patch_cache_control

from core.errors import DomainError


class DomainErrorMiddleware:
    """Render an uncaught ``DomainError`` as a calm page with its 4xx status."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DomainError):
            return render(request, "error.html", {"error": exception}, status=exception.http_status)
        return None


class PrivatePagesMiddleware:
    """Pages seen signed in are nobody else's: ``Cache-Control: private, no-store``,
    so neither a shared cache nor the browser's back button keeps them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, private=True, no_store=True)
        return response


class ContentSecurityPolicyMiddleware:
    """A strict Content-Security-Policy on every response (settings
    ``CONTENT_SECURITY_POLICY``): scripts and styles only from this site's own
    files, no inline script or style, nothing framed.  The live room's sockets are
    allowed to this site's own origin only (``ws://`` or, behind TLS, ``wss://``
    plus the host the request came to, which ALLOWED_HOSTS has checked)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.directives = {name: list(values) for name, values in settings.CONTENT_SECURITY_POLICY.items()}

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.policy_for(request)
        return response

    def policy_for(self, request) -> str:
        directives = {name: list(values) for name, values in self.directives.items()}
        try:
            host = request.get_host()
        except DisallowedHost:
            host = ""
        if host and "connect-src" in directives:
            directives["connect-src"].append(f"{'wss' if request.is_secure() else 'ws'}://{host}")
        return "; ".join(" ".join([name, *values]) for name, values in directives.items())
