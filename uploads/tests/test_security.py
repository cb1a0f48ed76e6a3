"""Who may do what, the headers every response carries, and the limits on abuse."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from uploads.models import Image
from uploads.shelf import services
from uploads.tests.factories import distinct_png, upload_file

pytestmark = pytest.mark.django_db


def assert_security_headers(response) -> None:
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp or "default-src 'none'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[-1].split(";")[0]
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


# --- Headers ------------------------------------------------------------------


def test_the_public_page_carries_the_security_headers(client):
    response = client.get("/")

    assert_security_headers(response)
    csp = response["Content-Security-Policy"]
    for directive in ("script-src 'self'", "style-src 'self'", "object-src 'none'",
                      "frame-ancestors 'none'", "base-uri 'none'"):  # fmt: skip
        assert directive in csp


def test_the_one_inline_stylesheet_is_allowed_by_its_hash_and_nothing_else_inline(client):
    import base64
    import hashlib
    import re

    response = client.get("/")

    html, csp = response.content.decode(), response["Content-Security-Policy"]
    (css,) = re.findall(r"<style>(.*?)</style>", html, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in csp
    assert "unsafe-inline" not in csp
    assert " style=" not in html
    assert 'rel="stylesheet"' not in html


def test_the_admin_carries_the_security_headers(admin_client):
    assert_security_headers(admin_client.get("/admin/uploads/image/"))
    assert_security_headers(Client().get("/admin/login/"))


def test_a_media_response_carries_the_security_headers_and_a_sandbox(client):
    image = services.image_ingest(upload_file(distinct_png(1)), user=None)

    response = client.get(image.file.url)

    assert response.status_code == 200
    assert_security_headers(response)
    assert "sandbox" in response["Content-Security-Policy"]


def test_media_from_s3_is_allowed_by_the_policy(settings):
    from uploads.tests.test_production_settings import load_settings

    values = load_settings(
        "config.settings.development",
        AWS_STORAGE_BUCKET_NAME="shelf",
        AWS_S3_ENDPOINT_URL="https://account.r2.cloudflarestorage.com",
    )

    img_src = values["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]["img-src"]
    assert img_src == [
        "'self'",
        "https://account.r2.cloudflarestorage.com",
        "https://*.account.r2.cloudflarestorage.com",
    ]


# --- Who may write ------------------------------------------------------------


def test_delete_all_without_a_csrf_token_is_refused(staff_user):
    services.image_ingest(upload_file(distinct_png(1)), user=None)
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)

    response = client.post("/images/delete-all/", {"confirm": "yes"})

    assert response.status_code == 403
    assert Image.objects.count() == 1


def test_with_public_uploads_visitors_may_upload(client, settings):
    settings.PUBLIC_UPLOADS = "open"

    page = client.get("/").content.decode()
    response = client.post("/images/", {"image": upload_file(distinct_png(1))})

    assert 'action="/images/"' in page
    assert response.status_code == 303
    assert Image.objects.get().uploaded_by is None


def test_with_public_uploads_visitors_still_cannot_delete(client, settings):
    settings.PUBLIC_UPLOADS = "open"
    services.image_ingest(upload_file(distinct_png(1)), user=None)

    response = client.post("/images/delete-all/", {"confirm": "yes"})

    assert "Delete all" not in client.get("/").content.decode()
    assert response.status_code == 403
    assert Image.objects.count() == 1


def test_the_eleventh_anonymous_upload_within_an_hour_gets_429(client, settings, caplog):
    settings.PUBLIC_UPLOADS = "open"
    statuses = [
        client.post("/images/", {"image": upload_file(distinct_png(i))}).status_code
        for i in range(11)
    ]

    assert statuses == [303] * 10 + [429]
    response = client.post("/images/", {"image": upload_file(distinct_png(99))})
    assert response.status_code == 429
    assert "You have added many images in a short time." in response.content.decode()
    assert Image.objects.count() == 10
    assert caplog.text.count("event=upload.refused user=anonymous reason=rate_limited") == 2


def test_the_upload_limit_counts_per_address(settings):
    settings.PUBLIC_UPLOADS = "open"
    settings.PUBLIC_UPLOAD_RATE = "1/h"
    first, second = Client(REMOTE_ADDR="10.0.0.1"), Client(REMOTE_ADDR="10.0.0.2")

    first.post("/images/", {"image": upload_file(distinct_png(1))})
    limited = first.post("/images/", {"image": upload_file(distinct_png(2))})
    other = second.post("/images/", {"image": upload_file(distinct_png(3))})

    assert (limited.status_code, other.status_code) == (429, 303)


def test_a_forged_forwarded_for_header_does_not_escape_the_limit(settings):
    """Behind Heroku's router the right-most X-Forwarded-For entry is the real client."""
    settings.PUBLIC_UPLOADS = "open"
    settings.PUBLIC_UPLOAD_RATE = "1/h"
    settings.TRUSTED_PROXY_COUNT = 1
    client = Client()

    statuses = [
        client.post(
            "/images/",
            {"image": upload_file(distinct_png(i))},
            HTTP_X_FORWARDED_FOR=f"203.0.113.{i}, 198.51.100.7",  # forged, then the router's
        ).status_code
        for i in range(3)
    ]

    assert statuses == [303, 429, 429]


@pytest.mark.parametrize("forwarded", ["not-an-ip", "198.51.100.7:443", ""])
def test_a_forwarded_for_that_is_not_an_address_counts_as_the_sockets(settings, forwarded):
    settings.PUBLIC_UPLOADS = "open"
    settings.PUBLIC_UPLOAD_RATE = "1/h"
    settings.TRUSTED_PROXY_COUNT = 1
    client = Client(REMOTE_ADDR="192.0.2.5")

    statuses = [
        client.post(
            "/images/", {"image": upload_file(distinct_png(i))}, HTTP_X_FORWARDED_FOR=forwarded
        ).status_code
        for i in range(2)
    ]

    assert statuses == [303, 429]


def test_staff_are_not_rate_limited(staff_client, settings):
    settings.PUBLIC_UPLOADS = "open"
    settings.PUBLIC_UPLOAD_RATE = "1/h"

    statuses = [
        staff_client.post("/images/", {"image": upload_file(distinct_png(i))}).status_code
        for i in range(3)
    ]

    assert statuses == [303, 303, 303]


# --- Admin sign-in lockout ----------------------------------------------------


def sign_in(client, password: str, **headers):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": "curator", "password": password},
        **headers,
    )


def test_five_failed_sign_ins_lock_out_even_the_right_password(client, staff_user):
    failures = [sign_in(client, "wrong").status_code for _ in range(5)]

    locked = sign_in(client, "shelf-password-1")

    assert failures == [200] * 4 + [429]
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_lockout_ends_after_the_configured_time(client, staff_user):
    from axes.models import AccessAttempt

    for _ in range(5):
        sign_in(client, "wrong")
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=61))

    response = sign_in(client, "shelf-password-1")

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(staff_user.pk)


def test_a_failed_sign_in_with_a_forwarded_for_that_is_not_an_address_is_counted(
    staff_user, settings
):
    from axes.models import AccessAttempt

    settings.TRUSTED_PROXY_COUNT = 1

    response = sign_in(Client(REMOTE_ADDR="192.0.2.5"), "wrong", HTTP_X_FORWARDED_FOR="not-an-ip")

    assert response.status_code == 200
    assert AccessAttempt.objects.get().ip_address == "192.0.2.5"


def test_the_lockout_follows_the_address_the_router_saw(staff_user, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    attacker = Client()
    for index in range(5):
        sign_in(attacker, "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{index}, 198.51.100.9")

    again = sign_in(attacker, "shelf-password-1", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.9")
    elsewhere = sign_in(Client(), "shelf-password-1", HTTP_X_FORWARDED_FOR="198.51.100.10")

    assert again.status_code == 429
    assert elsewhere.status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/", ""])
def test_a_sign_in_without_a_safe_next_lands_in_the_admin(client, staff_user, next_url):
    response = client.post(
        f"/admin/login/?next={next_url}",
        {"username": "curator", "password": "shelf-password-1", "next": next_url},
    )

    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_a_paused_account_does_not_lock_out_a_colleague_at_the_same_address(
    client, staff_user, django_user_model
):
    django_user_model.objects.create_user("colleague", password="other-password-2", is_staff=True)
    for _ in range(6):
        sign_in(client, "wrong")

    paused = sign_in(client, "shelf-password-1")
    colleague = Client().post(
        "/admin/login/?next=/admin/", {"username": "colleague", "password": "other-password-2"}
    )

    assert paused.status_code == 429
    assert "paused for 60 minutes, counted from the last attempt" in paused.content.decode()
    assert colleague.status_code == 302


def test_one_address_trying_many_user_names_is_slowed_by_the_per_address_limit(
    client, staff_user, settings
):
    settings.SIGN_IN_RATE = "3/10m"
    attempts = [
        client.post("/admin/login/", {"username": f"guess{i}", "password": "x"}).status_code
        for i in range(4)
    ]

    refused = sign_in(client, "shelf-password-1")

    assert attempts == [200, 200, 200, 429]
    assert refused.status_code == 429
    assert "tried to sign in many times" in refused.content.decode()
    assert "Too many sign-ins from this address" in refused.content.decode()
    assert "failed" not in refused.content.decode()  # successful sign-ins count too
    assert "_auth_user_id" not in client.session
