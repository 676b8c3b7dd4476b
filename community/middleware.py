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
