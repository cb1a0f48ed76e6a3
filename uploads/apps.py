from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class UploadsConfig(AppConfig):
    name = "uploads"
    verbose_name = "Shelf"

    def ready(self) -> None:
        from uploads import checks  # noqa: F401  (checks register themselves)
        from uploads.models import Image
        from uploads.shelf import signals

        post_save.connect(
            signals.count_shelf_change, sender=Image, dispatch_uid="uploads.count_shelf_change.save"
        )
        post_delete.connect(
            signals.count_shelf_change,
            sender=Image,
            dispatch_uid="uploads.count_shelf_change.delete",
        )
        post_save.connect(
            signals.enforce_limit_after_upload,
            sender=Image,
            dispatch_uid="uploads.enforce_limit_after_upload",
        )
