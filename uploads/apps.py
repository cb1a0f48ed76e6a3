from django.apps import AppConfig


class UploadsConfig(AppConfig):
    name = "uploads"
    verbose_name = "Shelf"

    def ready(self) -> None:
        from uploads import checks  # noqa: F401  (checks register themselves)
