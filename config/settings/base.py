"""Settings shared by every environment; values come from the environment (django-environ)."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    # Real environment variables win over the file (django-environ never overwrites).
    env.read_env(BASE_DIR / ".env")

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
    "axes",
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
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Needs the user and the messages; refuses bodies before the CSRF check reads them.
    "uploads.web.upload_gate.UploadGateMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "uploads.web.middleware.DatabaseUnavailableMiddleware",
    # Last, as django-axes asks: it turns lockouts into a friendly 429 page.
    "axes.middleware.AxesMiddleware",
]

# Messages travel in a cookie: read from the session, showing one would write the session
# row, and a GET never writes.
MESSAGE_STORAGE = "django.contrib.messages.storage.cookie.CookieStorage"

ROOT_URLCONF = "config.urls"
CSRF_FAILURE_VIEW = "uploads.web.error_views.csrf_failure"
WSGI_APPLICATION = "config.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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
        # writers queue instead of failing with "database is locked" mid-way.
        config.setdefault("OPTIONS", {}).update(transaction_mode="IMMEDIATE", timeout=20)
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
LOGIN_URL = "admin:login"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses logins while a client is locked out
    "django.contrib.auth.backends.ModelBackend",
]

# --- Abuse limits -----------------------------------------------------------

# Proxies in front of the app that append the client's address to X-Forwarded-For:
# Heroku's router is one. The address is read that many entries from the right, so a
# client cannot choose its own by sending the header (see uploads/throttling.py).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=60))
AXES_LOCKOUT_PARAMETERS = ["ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "uploads.web.throttling.client_ip"
AXES_LOCKOUT_TEMPLATE = "lockout.html"
AXES_VERBOSE = False
RATELIMIT_IP_META_KEY = "uploads.web.throttling.client_ip"
# Anonymous uploads per address (PUBLIC_UPLOADS), counted in a table every worker and dyno
# shares (see the Cache section).
PUBLIC_UPLOAD_RATE = env("PUBLIC_UPLOAD_RATE", default="10/h")

# --- Internationalisation ---------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files and media -------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]

MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")


def s3_media_storage(env: environ.Env) -> dict:
    """STORAGES["default"] for media in an S3 or S3-compatible bucket, from the AWS_* variables."""
    from boto3.s3.transfer import TransferConfig
    from botocore.config import Config

    # A config var left empty (as the Deploy button may leave it) counts as unset.
    names = "S3_ENDPOINT_URL S3_REGION_NAME ACCESS_KEY_ID SECRET_ACCESS_KEY S3_CUSTOM_DOMAIN"
    names += " S3_ADDRESSING_STYLE REQUEST_CHECKSUM_CALCULATION RESPONSE_CHECKSUM_VALIDATION"
    s3 = {f"AWS_{name}": env(f"AWS_{name}", default="") or None for name in names.split()}
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("AWS_STORAGE_BUCKET_NAME"),
            # Every key under this prefix: deployments that share a bucket each keep their own.
            "location": env("AWS_LOCATION", default="").strip("/"),
            "endpoint_url": s3["AWS_S3_ENDPOINT_URL"],
            "region_name": s3["AWS_S3_REGION_NAME"],
            "access_key": s3["AWS_ACCESS_KEY_ID"],
            "secret_key": s3["AWS_SECRET_ACCESS_KEY"],
            "custom_domain": s3["AWS_S3_CUSTOM_DOMAIN"],
            "url_protocol": env("AWS_S3_URL_PROTOCOL", default="https:"),
            "client_config": Config(
                s3={"addressing_style": s3["AWS_S3_ADDRESSING_STYLE"]},
                # SigV4 for signed links too: in the older AWS regions (us-east-1, eu-west-1…)
                # botocore signs them with SigV2, which buckets created since 2020 refuse.
                signature_version="s3v4",
                # Short timeouts: a store that accepts connections but never answers must not
                # hold a page or an upload for minutes (botocore waits 60 s, three times).
                connect_timeout=3,
                read_timeout=10,
                retries={"mode": "standard", "max_attempts": 3},
                # Checksum headers only where an operation requires one: Backblaze B2, older
                # MinIO and Ceph refuse the CRC headers botocore sends by default. Read here,
                # since a value given to Config wins over botocore's own reading of them.
                request_checksum_calculation=(
                    s3["AWS_REQUEST_CHECKSUM_CALCULATION"] or "when_required"
                ),
                response_checksum_validation=(
                    s3["AWS_RESPONSE_CHECKSUM_VALIDATION"] or "when_required"
                ),
            ),
            # A custom domain serves public objects; otherwise links are signed.
            "querystring_auth": env.bool(
                "AWS_QUERYSTRING_AUTH", default=not s3["AWS_S3_CUSTOM_DOMAIN"]
            ),
            # How long a signed link lasts (SigV4: at most 7 days). Pages are rendered with
            # fresh links, and their ETag changes with them.
            "querystring_expire": env.int("AWS_QUERYSTRING_EXPIRE", default=3600),
            # Names are fresh UUIDs, so a write goes straight to PUT: no HEAD first to look
            # for a free name. Never set ACLs (buckets own them).
            "file_overwrite": True,
            "default_acl": None,
            # One PUT per file: multipart only from 1 GiB, far above anything we store (an
            # image of IMAGE_MAX_EDGE² pixels is 64 MB as raw RGBA, at the default) and under
            # every store's 5 GB single-PUT limit. boto3's default, 8 MB, would send a large
            # image in four requests.
            "transfer_config": TransferConfig(multipart_threshold=1024**3),
            "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
        },
    }


AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    MEDIA_STORAGE = s3_media_storage(env)
    # Where media links point, exactly as django-storages builds them, for the
    # Content-Security-Policy's img-src: the custom domain, or the endpoint (its scheme,
    # host and port) and, unless links are path-style, its bucket subdomains.
    _options = MEDIA_STORAGE["OPTIONS"]
    if _options["custom_domain"]:
        MEDIA_ORIGINS = [f"{_options['url_protocol']}//{_options['custom_domain']}"]
    else:
        _endpoint = urlsplit(_options["endpoint_url"] or "https://amazonaws.com")
        MEDIA_ORIGINS = [f"{_endpoint.scheme}://{_endpoint.netloc}"]
        if env("AWS_S3_ADDRESSING_STYLE", default="") != "path":
            MEDIA_ORIGINS.append(f"{_endpoint.scheme}://*.{_endpoint.netloc}")
else:
    MEDIA_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    MEDIA_ORIGINS = []

STORAGES = {
    "default": MEDIA_STORAGE,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Security headers -------------------------------------------------------

# The site's stylesheet is inlined into every page (templates/base.html), so rendering waits
# for no request; the policy allows exactly that text, by its hash.
SITE_CSS = BASE_DIR / "static" / "css" / "site.css"
_SITE_CSS_HASH = base64.b64encode(hashlib.sha256(SITE_CSS.read_bytes()).digest()).decode()

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
PERMISSIONS_POLICY = {
    feature: [] for feature in f"{_UNUSED_FEATURES} microphone payment usb".split()
}
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

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

# --- The shelf --------------------------------------------------------------


def at_least_one(name: str, default: int) -> int:
    """A count or size from the environment that must be positive: another value stops
    startup with its name, rather than a page failing later."""
    value = env.int(name, default=default)
    if value < 1:
        raise ImproperlyConfigured(f"{name}={value} must be 1 or more.")
    return value


IMAGE_LIMIT = at_least_one("IMAGE_LIMIT", 3)
MAX_UPLOAD_MB = at_least_one("MAX_UPLOAD_MB", 10)
MAX_IMAGE_PIXELS = at_least_one("MAX_IMAGE_PIXELS", 50_000_000)
# The memory one upload may need at its peak (uploads/ingest/memory_budget.py, from the
# header, before any pixel is decoded): its decode (pixels x bytes per pixel of the mode it
# decodes to x the copies its decoder holds), or its conversion (the decoded image and the
# stored one), whichever is larger. MAX_IMAGE_PIXELS caps the pixel count of any image;
# this caps what it costs; a JPEG that needs more is decoded at 1/2 to 1/8 scale. A dyno
# runs one ingest at a time: bench/memory.py measures the dyno's peak (docs/benchmarks.md).
MAX_DECODE_MB = at_least_one("MAX_DECODE_MB", 224)
IMAGE_MAX_EDGE = at_least_one("IMAGE_MAX_EDGE", 4096)


def public_uploads_mode(value: str) -> str:
    """PUBLIC_UPLOADS as one of "off", "moderated", "open"; true and false still mean open
    and off."""
    mode = value.strip().lower()
    mode = {"true": "open", "1": "open", "false": "off", "0": "off", "": "off"}.get(mode, mode)
    if mode in ("off", "moderated", "open"):
        return mode
    raise ImproperlyConfigured(
        f"PUBLIC_UPLOADS={value!r} is not a value it takes: use off (staff only), moderated "
        "(visitors' uploads wait for staff approval) or open (they go straight on the shelf)."
    )


# Who may upload besides staff with the add permission: nobody ("off"), visitors whose
# images wait for approval ("moderated"), or visitors straight onto the shelf ("open").
PUBLIC_UPLOADS = public_uploads_mode(env("PUBLIC_UPLOADS", default="off"))
# How many visitors' uploads may wait for approval; beyond it they are refused (429).
PENDING_LIMIT = env.int("PENDING_LIMIT", default=20)
# reconcile_media spares unreferenced files younger than this: uploads in flight.
ORPHAN_GRACE_MINUTES = env.int("ORPHAN_GRACE_MINUTES", default=15)

# A bulk upload without JavaScript is one request: this many ingests (each well under a
# second) stay far inside the router's 30 s. With JavaScript each file is a request.
BULK_UPLOAD_MAX_FILES = 10
# No form takes more files than that; Django refuses a request with more (400).
DATA_UPLOAD_MAX_NUMBER_FILES = BULK_UPLOAD_MAX_FILES
# Requests bigger than this reach the upload handlers on disk, not in memory: unnamed files
# that cannot outlive their process (uploads/upload_handlers.py).
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_HANDLERS = [
    "uploads.web.upload_handlers.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "uploads.web.upload_handlers.UnnamedTemporaryFileUploadHandler",
]
# Seconds a request's body may take to arrive at most (uploads/web/read_deadline.py), for
# the largest upload; smaller bodies get less, in proportion, plus REQUEST_BODY_IDLE, which
# is also the longest a body may send nothing.
REQUEST_BODY_DEADLINE = env.int("REQUEST_BODY_DEADLINE", default=60)
REQUEST_BODY_IDLE = env.int("REQUEST_BODY_IDLE", default=10)

# --- Admin import/export ----------------------------------------------------

# On: the admin's export formats (uploads/resources.py) then make every cell a spreadsheet
# could run as a formula inert (CSV, XLSX), and leave JSON as it is.
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True
# Staff need the model's own "import_image" / "export_image" permissions.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "import"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "export"
# Import previews live in the media storage, which every dyno shares when S3 is set.
IMPORT_EXPORT_TMP_STORAGE_CLASS = "import_export.tmp_storages.MediaStorage"

# --- Logging ----------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # The request id on every line (uploads/request_id.py): one filter, on the one handler.
    "filters": {"request_id": {"()": "uploads.web.middleware.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(levelname)s %(name)s request_id=%(request_id)s %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            # stderr: a command's stdout is its output (reconcile_media --json).
            "stream": "ext://sys.stderr",
            "filters": ["request_id"],
            "formatter": "plain",
        }
    },
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        "django": {
            "handlers": ["console"],
            "level": env("DJANGO_LOG_LEVEL", default="INFO"),
            "propagate": False,
        },
        # A request for a host not in ALLOWED_HOSTS is answered 400 and needs no more: its
        # traceback would print whatever host a client cares to send, at any length.
        "django.security.DisallowedHost": {"handlers": [], "propagate": False},
    },
}
