"""URL configuration: the public page and its endpoints, media, the admin."""

from django.contrib import admin
from django.urls import include, path

from uploads.web.throttling import limit_sign_ins

admin.site.site_header = "ImageShelf administration"
admin.site.site_title = "ImageShelf admin"
admin.site.index_title = "Manage the shelf"
admin.site.login = limit_sign_ins(admin.site.login)

urlpatterns = [
    path("", include("uploads.urls")),
    path("admin/", admin.site.urls),
]

handler400 = "uploads.web.error_views.bad_request"
handler500 = "uploads.web.error_views.server_error"
