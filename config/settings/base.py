"""Settings shared by every environment; values come from the environment (django-environ).
The shelf's own settings are in shelf.py, media in an S3 bucket in s3.py."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta

import dj_database_url

from .environment import BASE_DIR, env
from .s3 import media_origins, s3_media_storage
from .shelf import *  # noqa: F403  (the shelf's own settings: limits, uploads, bodies)

# --- Core -------------------------------------------------------------------

DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "uploads.apps.AxesConfig",  # django-axes, with a section name our catalogue translates
    "import_export",
    "uploads",
]

MIDDLEWARE = [
    # First: every response carries the request id, and every log line of the request.
    "uploads.web.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Compresses what every later middleware has written (HTML only; see its module).
    "uploads.web.middleware.HtmlGZipMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language from the language page's cookie or Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Needs the user and the messages; refuses bodies before the CSRF check reads them.
    "uploads.web.upload_gate.UploadGateMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns lockouts into a friendly 429 page.
    "axes.middleware.AxesMiddleware",
]

# Messages travel in a cookie: read from the session, showing one would write the session
# row, and a GET never writes.
MESSAGE_STORAGE = "django.contrib.messages.storage.cookie.CookieStorage"

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# A failed CSRF check is answered by Django's own view with templates/403_csrf.html, the
# template name it looks for first (its built-in page has inline styles our CSP blocks).
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "uploads.page.context_processors.shelf",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------


def database_config(url: str, **options) -> dict:
    """Turn a DATABASE_URL into Django settings with dj-database-url."""
    config = dj_database_url.parse(url, **options)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # IMMEDIATE takes the write lock when a transaction starts, so concurrent
        # writers queue instead of failing with "database is locked" mid-way. SQLite takes
        # no sslmode (DATABASE_SSL_REQUIRE is Postgres's).
        options = config.setdefault("OPTIONS", {})
        options.pop("sslmode", None)
        options.update(transaction_mode="IMMEDIATE", timeout=20)
    return config


DATABASES = {
    "default": database_config(env("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"))
}

# --- Authentication ---------------------------------------------------------

_VALIDATORS = "UserAttributeSimilarity MinimumLength CommonPassword NumericPassword"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}Validator"}
    for name in _VALIDATORS.split()
]
LOGIN_REDIRECT_URL = "admin:index"  # a sign-in without a usable `next` lands in the admin
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses logins while a client is locked out
    "django.contrib.auth.backends.ModelBackend",
]

# --- Abuse limits -----------------------------------------------------------

# Proxies in front of the app that append the client's address to X-Forwarded-For:
# Heroku's router is one. The address is read that many entries from the right, so a
# client cannot choose its own by sending the header (see uploads/web/throttling.py).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=60))
# A user name and an address together (a nested list: a flat one locks on either), so a
# guessed password pauses that account from that address, never a whole office; beside it,
# a looser per-address limit on every sign-in attempt (SIGN_IN_RATE, django-ratelimit)
# stops one address from trying many user names.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
SIGN_IN_RATE = "30/10m"
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "uploads.web.throttling.client_ip"
AXES_LOCKOUT_TEMPLATE = "lockout.html"
AXES_VERBOSE = False
RATELIMIT_IP_META_KEY = "uploads.web.throttling.client_ip"
# Anonymous uploads per address (PUBLIC_UPLOADS), counted in a table every worker and dyno
# shares (see the Cache section).
PUBLIC_UPLOAD_RATE = env("PUBLIC_UPLOAD_RATE", default="10/h")

# --- Internationalisation ---------------------------------------------------

# English and Brazilian Portuguese, chosen per request (uploads' language page, else
# Accept-Language; never a URL prefix). LANGUAGE_CODE is the fallback, and the language of
# management commands. Dates and numbers follow the active language's formats.
LANGUAGE_CODE = env("LANGUAGE_CODE", default="en")
LANGUAGES = [("en", "English"), ("pt-br", "Brazilian Portuguese")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"

# --- Static files and media -------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]

MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ORIGINS = []  # for the CSP's img-src: media links point elsewhere only with S3
AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    STORAGES["default"] = s3_media_storage(env)
    MEDIA_ORIGINS = media_origins(STORAGES["default"]["OPTIONS"])

# --- Security headers -------------------------------------------------------

# The site's stylesheet is inlined into every page (templates/base.html, as this text), so
# rendering waits for no request; the policy allows exactly that text, by its hash.
SITE_CSS = (BASE_DIR / "static" / "css" / "site.css").read_text(encoding="utf-8")
_SITE_CSS_HASH = base64.b64encode(hashlib.sha256(SITE_CSS.encode()).digest()).decode()

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", *MEDIA_ORIGINS],
        "script-src": ["'self'"],
        "style-src": ["'self'", f"'sha256-{_SITE_CSS_HASH}'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
_UNUSED_FEATURES = "accelerometer camera display-capture geolocation gyroscope magnetometer"
PERMISSIONS_POLICY = {name: [] for name in f"{_UNUSED_FEATURES} microphone payment usb".split()}
# Django's defaults already send Referrer-Policy and Cross-Origin-Opener-Policy
# "same-origin", X-Frame-Options "DENY" and X-Content-Type-Options "nosniff".

# --- Cache ------------------------------------------------------------------

CACHES = {
    # Nothing shared lives here: the visitors' page is kept per process (uploads/page/shared.py).
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # Rate-limit counts (django-ratelimit) must be shared by every worker and dyno and
    # incremented atomically: a table of ours (uploads/web/rate_counts.py).
    "rate_counts": {"BACKEND": "uploads.web.rate_counts.DatabaseCounts"},
}
RATELIMIT_USE_CACHE = "rate_counts"
# How long a process reuses the public page it rendered for visitors (0: never). Staff,
# and anyone shown a form or a message, always get a page of their own.
PAGE_CACHE_SECONDS = env.int("PAGE_CACHE_SECONDS", default=2)

# --- Admin import/export ----------------------------------------------------

# Exports make every cell a spreadsheet could run as a formula inert in CSV and XLSX, and
# leave JSON as it is: the admin's own formats (uploads/admin/resources.py) do it.
# Staff need the model's own "import_image" / "export_image" permissions.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "import"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "export"
# Import previews live in the media storage, which every dyno shares when S3 is set.
IMPORT_EXPORT_TMP_STORAGE_CLASS = "import_export.tmp_storages.MediaStorage"

# --- Logging ----------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # The request id on every line (uploads/web/middleware.py): one filter, on the one handler.
    "filters": {"request_id": {"()": "uploads.web.middleware.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(levelname)s %(name)s request_id=%(request_id)s %(message)s"}
    },
    "handlers": {
        "console": {
            # On stderr, StreamHandler's default: a command's stdout is its output
            # (reconcile_media --json).
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "plain",
        },
        "nowhere": {"class": "logging.NullHandler"},
    },
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        # Its lines reach the root's one handler, as every other logger's do.
        "django": {"level": env("DJANGO_LOG_LEVEL", default="INFO"), "propagate": True},
        # A request for a host not in ALLOWED_HOSTS is answered 400 and needs no more: its
        # traceback would print whatever host a client cares to send, at any length. (With
        # no handler at all, Python's last-resort handler would print it.)
        "django.security.DisallowedHost": {"handlers": ["nowhere"], "propagate": False},
    },
}
