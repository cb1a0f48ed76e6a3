from axes import apps as axes_apps
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UploadsConfig(AppConfig):
    name = "uploads"
    verbose_name = _("Shelf")

    def ready(self) -> None:
        from uploads import checks  # noqa: F401  (checks register themselves)


class AxesConfig(axes_apps.AppConfig):
    """django-axes (INSTALLED_APPS names this class), whose admin section would read "AXES"."""

    default = False  # "uploads" in INSTALLED_APPS still means UploadsConfig
    verbose_name = _("Sign-in pauses")


# django-axes ships no pt-BR: the names its admin section lists, for our catalogue.
AXES_NAMES = [_("access attempts"), _("access failures"), _("access logs")]
