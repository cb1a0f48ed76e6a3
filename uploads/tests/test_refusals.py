"""A refused upload says why, once, where the person sees it: the same words in every door."""

from __future__ import annotations

import pytest
from django.test import Client

from uploads.models import Image
from uploads.shelf import services
from uploads.tests.factories import distinct_png, noisy_png, upload_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def too_large(settings) -> bytes:
    """A real PNG of about 1.2 MB, with the limit at 1 MB."""
    settings.MAX_UPLOAD_MB = 1
    return noisy_png(size=(640, 640))


def message_for(data: bytes) -> str:
    return services.too_large_message(len(data))


def test_the_page_shows_the_one_message_for_a_file_too_large(staff_client, too_large, files):
    response = staff_client.post("/images/", {"image": upload_file(too_large, "big.png")})

    html = response.content.decode()
    assert response.status_code == 413
    assert html.count(message_for(too_large)) == 1
    assert "Choose an image to upload." not in html
    assert (Image.objects.count(), files()) == (0, [])


def test_the_admin_add_form_shows_the_one_message_for_a_file_too_large(
    admin_client, too_large, files
):
    response = admin_client.post(
        "/admin/uploads/image/add/", {"title": "", "image": upload_file(too_large, "big.png")}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count(message_for(too_large)) == 1
    assert "This field is required." not in html
    assert (Image.objects.count(), files()) == (0, [])


@pytest.mark.parametrize(
    ("title", "error"),
    [
        ("x" * 201, "Ensure this value has at most 200 characters (it has 201)."),
        ("a\x00b", "Null characters are not allowed."),
    ],
    ids=["too long", "nul"],
)
def test_a_bad_title_is_shown_with_its_reason(staff_client, files, title, error):
    response = staff_client.post(
        "/images/", {"image": upload_file(distinct_png(1)), "title": title}
    )

    assert response.status_code == 400
    assert error in response.content.decode()
    assert (Image.objects.count(), files()) == (0, [])


def test_the_refusal_comes_first_on_the_page_focused_and_announced(staff_client, too_large):
    response = staff_client.post("/images/", {"image": upload_file(too_large, "big.png")})

    html = response.content.decode()
    main = html[html.index('<main id="main">') :]
    summary = main[: main.index("</div>")]
    assert main.index('role="alert"') < main.index('class="hero"')
    assert "autofocus" in summary and 'tabindex="-1"' in summary
    assert message_for(too_large) in summary


def test_reloading_the_address_a_refusal_was_shown_at_leads_back_to_the_shelf(client):
    response = client.get("/images/")

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert 'href="/"' in response.content.decode()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("put", "/"),
        ("delete", "/healthz"),
        ("put", "/language/"),
        ("delete", "/favicon.ico"),
        ("put", "/admin/uploads/image/archive/"),
        ("delete", "/admin/uploads/image/bulk-upload/"),
        ("put", "/admin/uploads/image/delete-all/"),
    ],
)
def test_a_method_an_address_does_not_take_gets_the_405_page(admin_client, method, path):
    response = getattr(admin_client, method)(path, HTTP_ACCEPT_LANGUAGE="pt-br")

    assert response.status_code == 405
    assert "Nada para ver neste endereço" in response.content.decode()
    assert "POST" not in response["Allow"] or path.startswith("/admin/")


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/healthz", "/language/", "/favicon.ico"])
def test_a_put_without_a_csrf_token_where_nothing_is_written_is_a_405_not_a_403(path):
    client = Client(enforce_csrf_checks=True)

    response = client.put(path)

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


def test_more_files_than_a_request_may_carry_get_a_reason(admin_client, settings):
    most = settings.DATA_UPLOAD_MAX_NUMBER_FILES
    files = [upload_file(distinct_png(i), f"{i}.png") for i in range(most + 1)]

    response = admin_client.post("/admin/uploads/image/bulk-upload/", {"images": files})

    assert response.status_code == 400
    assert f"That was more than {most} files at once." in response.content.decode()
    assert Image.objects.count() == 0


def test_a_form_without_its_csrf_token_gets_our_own_page(staff_user):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)

    response = client.post("/images/", {"image": upload_file(distinct_png(1))})

    assert response.status_code == 403
    assert "The form has expired" in response.content.decode()
    assert "<style" not in response.content.decode()  # Django's page, which our CSP blocks
