"""Production (Heroku): DEBUG off, WhiteNoise, HTTPS only, Postgres from DATABASE_URL."""

from .base import *  # noqa: F403
from .base import MIDDLEWARE, STORAGES, database_config, env

# No default: a missing key stops startup with "Set the SECRET_KEY environment variable".
SECRET_KEY = env("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[".herokuapp.com"])
# Heroku's router appends the client's address to X-Forwarded-For.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1)

# --- Database ---------------------------------------------------------------

# Required: Heroku Postgres sets it; a missing one names itself at startup.
DATABASES = {
    "default": database_config(
        env("DATABASE_URL"),
        conn_max_age=env.int("CONN_MAX_AGE", default=600),
        conn_health_checks=True,
        ssl_require=env.bool("DATABASE_SSL_REQUIRE", default=True),
    )
}

# --- Static files: WhiteNoise, in production only ---------------------------

MIDDLEWARE = MIDDLEWARE.copy()  # base's own list stays as it is
_after_security = MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1
MIDDLEWARE.insert(_after_security, "whitenoise.middleware.WhiteNoiseMiddleware")
STORAGES["staticfiles"] = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}

# --- HTTPS and security -----------------------------------------------------

# Heroku's router terminates TLS and says so in X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
