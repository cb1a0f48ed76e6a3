"""gunicorn on a Heroku web dyno (the Procfile's `web:` line loads this file).

Values follow Heroku's own Python template (heroku/python-getting-started) and the
platform facts in the README's Heroku section. `GUNICORN_CMD_ARGS` overrides any of them
(`heroku config:set GUNICORN_CMD_ARGS="--threads 2"`); `gunicorn --print-config` shows
the result.
"""

import gc
import os

# Heroku routes to $PORT only; "::" takes IPv6 and, through the same socket, IPv4.
bind = [f"[::]:{os.environ.get('PORT', '8000')}"]

# The dyno's size decides how many processes fit; Heroku sets WEB_CONCURRENCY to match.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))

# Threads serve other requests while one waits on the database, storage or a slow client.
worker_class = "gthread"

# Per worker. Each thread keeps its own database connection (CONN_MAX_AGE): a dyno holds
# up to workers x threads of them (8 with the defaults), which the Postgres plan must allow
# for every dyno, plus the release phase, Scheduler and `heroku run` (README). Bodies from
# clients not signed in take at most 2 of them (uploads/web/upload_gate.py).
threads = 4

# Workers are forked from a master that has loaded the app: shared pages, faster boots.
# Safe because importing the app opens no database connection and starts no
# thread (tests/test_gunicorn_config.py checks it); each worker connects on first use.
preload_app = True

# With gthread this is the worker's heartbeat, not a request limit: a worker whose main
# loop is stuck this long is replaced, well before the router's 30 s (H12).
timeout = 20

# A stopping worker finishes its requests within this, inside the 30 s between the
# dyno's SIGTERM and its SIGKILL.
graceful_timeout = 20

# Longer than Router 2.0 keeps an idle connection (90 s), so the router, never gunicorn,
# closes it: otherwise a request sent as gunicorn closes would fail.
keepalive = 95

# Each worker listens on its own socket and the kernel spreads connections evenly.
reuse_port = True

# Only Heroku's router can reach a dyno, so its X-Forwarded-Proto is believed (the
# client's address is judged by the app: uploads/web/throttling.client_ip).
forwarded_allow_ips = "*"

# Nothing on a dyno uses gunicornc, and servers side by side on one machine (tests,
# benchmarks) would otherwise fight over the one per-user socket path.
control_socket_disable = True

# The access log on stdout, in Heroku's logfmt. request_id is the response's X-Request-ID:
# the router's id, or the one the app made when there was none (uploads/web/middleware.py).
accesslog = "-"
access_log_format = (
    'gunicorn method=%(m)s path="%(U)s" status=%(s)s bytes=%(B)s duration=%(M)sms '
    'request_id=%({x-request-id}o)s fwd="%({x-forwarded-for}i)s" user_agent="%(a)s"'
)


def when_ready(server):
    # The app the master loaded is shared with every worker until a page of it is written,
    # and the garbage collector writes to every object it tracks: kept out of its sight,
    # what the master loaded stays shared.
    gc.freeze()
