from django.shortcuts import render

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
