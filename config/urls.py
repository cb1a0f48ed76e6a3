"""URL configuration: the public page and its endpoints, media, the admin."""

from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from uploads.web.error_views import allow_only
from uploads.web.throttling import limit_sign_ins

admin.site.site_header = _("ImageShelf administration")
admin.site.site_title = _("ImageShelf admin")
admin.site.index_title = _("Manage the shelf")
admin.site.login = limit_sign_ins(admin.site.login)

urlpatterns = [
    path("", include("uploads.urls")),
    path("admin/", admin.site.urls),
    # A page of its own for Django's set_language form (a POST with a CSRF token), so the
    # page every visitor shares carries none.
    path(
        "language/",
        allow_only("GET", "HEAD")(TemplateView.as_view(template_name="language.html")),
        name="language",
    ),
    path("i18n/", include("django.conf.urls.i18n")),
]

handler400 = "uploads.web.error_views.bad_request"
handler403 = "uploads.web.error_views.permission_denied"
handler404 = "uploads.web.error_views.page_not_found"
handler500 = "uploads.web.error_views.server_error"
