from django.urls import path

from uploads.media import media_view
from uploads.page import views

app_name = "uploads"

urlpatterns = [
    path("", views.index, name="index"),
    path("images/", views.image_upload, name="upload"),
    path("images/delete-all/", views.images_delete_all, name="delete_all"),
    path("healthz", views.healthz, name="healthz"),
    path("media/<path:name>", media_view.media, name="media"),
    # Browsers ask for /favicon.ico on pages that name no icon (an image opened on its own).
    path("favicon.ico", views.favicon, name="favicon"),
]
