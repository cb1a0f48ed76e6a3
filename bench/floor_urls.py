"""One view that does nothing: what Django, the middleware and gunicorn cost on their own."""

from django.http import HttpResponse
from django.urls import path


def floor(request):
    return HttpResponse(b"<!doctype html><title>floor</title><p>ok</p>")


urlpatterns = [path("", floor)]
