"""The admin: the image list, actions, bulk upload, moderation, import/export."""

from uploads.admin.image_admin import ImageAdmin  # noqa: F401  (registers it)
