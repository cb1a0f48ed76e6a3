"""Bodies refused before anything reads them, and spooled uploads that leave nothing behind."""

from __future__ import annotations

import json
import os

import pytest
from django.test import Client

from uploads.models import Image
from uploads.shelf import services
from uploads.tests.factories import distinct_png, noisy_png, upload_file
from uploads.web import upload_gate
from uploads.web.upload_handlers import UnnamedTemporaryUploadedFile

pytestmark = pytest.mark.django_db

MB = 1024 * 1024
BULK = "/admin/uploads/image/bulk-upload/"


class Unread:
    """A request body that fails the test if anything reads it."""

    def read(self, *args):
        raise AssertionError("the request body was read")

    readline = read


def post_unread(client, path: str, size: int, **headers):
    """A multipart POST that declares `size` bytes of body and never gives one."""
    return client.generic(
        "POST",
        path,
        CONTENT_LENGTH=str(size),
        CONTENT_TYPE="multipart/form-data; boundary=shelf",
        **{"wsgi.input": Unread()},
        **headers,
    )


def test_an_upload_from_someone_who_may_not_upload_is_refused_unread(client):
    response = post_unread(client, "/images/", 50 * MB)

    assert response.status_code == 403
    assert Image.objects.count() == 0


@pytest.mark.parametrize(("path", "status"), [("/images/", 403), ("/no-such-page/", 404)])
def test_the_403_and_404_pages_never_read_the_body_even_with_a_csrf_cookie(path, status):
    """Django's own would run the CSRF check, which reads the body to find its token."""
    client = Client(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = token = "A" * 32

    response = post_unread(client, path, 100, HTTP_X_CSRFTOKEN=token)

    assert response.status_code == status


def test_a_body_larger_than_the_page_form_can_need_is_refused_unread_with_the_page(
    client, settings
):
    settings.PUBLIC_UPLOADS = "open"

    response = post_unread(client, "/images/", 50 * MB)

    html = response.content.decode()
    summary = html[html.index('role="alert"') : html.index("</div>", html.index('role="alert"'))]
    assert response.status_code == 413
    assert services.too_large_message(50 * MB) in summary  # first on the page, focused
    assert "autofocus" in summary
    assert html.count(services.too_large_message(50 * MB)) == 1
    assert 'action="/images/"' in html  # the page, with its form, to try again


def test_a_body_larger_than_the_add_form_can_need_is_refused_unread_with_the_form(
    admin_client,
):
    response = post_unread(admin_client, "/admin/uploads/image/add/", 26 * MB)

    html = response.content.decode()
    assert response.status_code == 413
    assert services.too_large_message(26 * MB) in html
    assert 'name="image"' in html


def test_a_body_larger_than_a_bulk_upload_can_need_is_refused_unread_with_the_form(
    admin_client, settings
):
    size = settings.BULK_UPLOAD_MAX_FILES * 10 * MB + settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1

    response = post_unread(admin_client, BULK, size)

    html = response.content.decode()
    assert response.status_code == 413
    assert f"These files are {size / MB:.1f} MB together; a bulk upload takes at most " in html
    assert 'name="images"' in html


def test_the_bulk_script_gets_the_refusal_as_json(admin_client):
    response = post_unread(admin_client, BULK, 200 * MB, HTTP_ACCEPT="application/json")

    assert response.status_code == 413
    assert json.loads(response.content) == {"error": services.too_large_message(200 * MB)}


def test_a_large_body_where_no_form_takes_files_is_refused_unread(admin_client):
    response = post_unread(admin_client, "/images/delete-all/", 5 * MB)

    assert response.status_code == 413
    assert "This request is too large for this address." in response.content.decode()


def test_a_body_within_the_limit_still_reaches_the_view(staff_client):
    response = staff_client.post("/images/", {"image": upload_file(distinct_png(1))})

    assert response.status_code == 303
    assert Image.objects.count() == 1


def test_more_files_than_any_form_takes_are_refused(admin_client, settings):
    files = [
        upload_file(distinct_png(i), f"{i}.png") for i in range(settings.BULK_UPLOAD_MAX_FILES + 1)
    ]

    response = admin_client.post(BULK, {"images": files})

    assert response.status_code == 400
    assert Image.objects.count() == 0


def test_a_spooled_upload_has_no_name_in_the_temporary_directory(settings, tmp_path):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "spool")
    (tmp_path / "spool").mkdir()
    spooled = UnnamedTemporaryUploadedFile("photo.png", "image/png", 0, None)

    spooled.write(b"x" * MB)

    assert os.listdir(tmp_path / "spool") == []  # nothing to sweep, even after a SIGKILL
    spooled.close()


def test_a_large_upload_is_spooled_and_closed_when_its_request_ends(
    staff_client, settings, monkeypatch
):
    seen = []
    ingest = services.image_ingest
    monkeypatch.setattr(
        services, "image_ingest", lambda file, **kw: seen.append(file) or ingest(file, **kw)
    )
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024  # so this image is spooled to disk

    response = staff_client.post("/images/", {"image": upload_file(noisy_png())})

    assert response.status_code == 303
    [spooled] = seen
    assert isinstance(spooled, UnnamedTemporaryUploadedFile)
    assert spooled.closed


# --- Bodies of clients not signed in: a bounded number of threads read them -------------

SIGN_IN = "/admin/login/"


@pytest.fixture
def anonymous_readers_busy():
    """Every anonymous reader of this process taken, as slow bodies in other threads take
    them."""
    held = 0
    while upload_gate.ANONYMOUS_READERS.acquire(blocking=False):
        held += 1
    yield
    for _ in range(held):
        upload_gate.ANONYMOUS_READERS.release()


def test_an_anonymous_body_while_every_anonymous_reader_is_busy_gets_503_unread(
    client, anonymous_readers_busy
):
    response = post_unread(client, SIGN_IN, 100)

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "busy" in response.content.decode()


def test_a_session_cookie_the_database_does_not_know_is_not_signed_in(
    client, anonymous_readers_busy
):
    client.cookies["sessionid"] = "a-forged-session-key-of-the-right-length-32"

    response = post_unread(client, SIGN_IN, 100)

    assert response.status_code == 503


def test_a_signed_in_body_is_read_while_every_anonymous_reader_is_busy(
    staff_client, anonymous_readers_busy
):
    response = staff_client.post("/images/", {"image": upload_file(distinct_png(1))})

    assert response.status_code == 303
    assert Image.objects.count() == 1


@pytest.mark.parametrize(
    ("csrf_checked", "path", "status"),
    [
        pytest.param(False, "/", 405, id="read-then-answered"),  # the page takes no POST
        # No token, where a POST is taken: never read.
        pytest.param(True, "/images/delete-all/", 403, id="refused-by-the-csrf-check"),
    ],
)
def test_anonymous_readers_are_free_again_after_each_request(csrf_checked, path, status):
    client = Client(enforce_csrf_checks=csrf_checked)

    answers = [client.post(path, {"comment": "hello"}).status_code for _ in range(10)]

    assert answers == [status] * 10  # never 503: no reader is kept


def free_readers() -> int:
    """How many of this process's anonymous readers are free now."""
    taken = [upload_gate.ANONYMOUS_READERS.acquire(blocking=False) for _ in range(2)]
    for _ in filter(None, taken):
        upload_gate.ANONYMOUS_READERS.release()
    return sum(taken)


def test_an_anonymous_upload_keeps_its_reader_until_it_is_answered(client, settings, monkeypatch):
    """Its wait for the decode turn and its writes to storage hold the thread as its body
    did: a crowd of visitors' uploads must not take the threads pages and /healthz need."""
    settings.PUBLIC_UPLOADS = "open"
    free_during_ingest = []

    def ingest(*args, **kwargs):
        free_during_ingest.append(free_readers())
        raise services.UploadRejected("Refused for the test.", code="kind")

    monkeypatch.setattr(services, "image_ingest", ingest)

    response = client.post("/images/", {"image": upload_file(distinct_png(1))})

    assert response.status_code == 400
    assert free_during_ingest == [1]  # the other one is this upload's
    assert free_readers() == 2  # given back with the answer


def test_a_sign_in_frees_its_reader_once_its_body_is_read(client, monkeypatch):
    """Checking a password takes a while: staff signing in at once are not refused for it."""
    from django.contrib.auth.forms import AuthenticationForm

    free_while_checked = []
    clean = AuthenticationForm.clean

    def checked(form):
        free_while_checked.append(free_readers())
        return clean(form)

    monkeypatch.setattr(AuthenticationForm, "clean", checked)

    client.post("/admin/login/", {"username": "someone", "password": "wrong"})

    assert free_while_checked == [2]
