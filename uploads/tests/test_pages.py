"""The public page and its endpoints: who may do what, and what each answer looks like."""

from __future__ import annotations

import re

import pytest
from django.core.files.storage import default_storage
from django.db import DatabaseError
from django.test import RequestFactory
from django.views.defaults import page_not_found, server_error

from uploads.models import Image
from uploads.shelf import services
from uploads.tests.factories import distinct_png, upload_file

pytestmark = pytest.mark.django_db
HERO = "Three framed pictures standing on a wooden shelf under a warm evening sky"


def add_image(index: int = 0, **kwargs) -> Image:
    return services.image_ingest(upload_file(distinct_png(index)), **kwargs)


def test_visitor_sees_the_hero_and_the_empty_state(client):
    response = client.get("/")

    html = response.content.decode()
    assert response.status_code == 200
    assert 'src="/static/img/hero.svg" width="1200" height="400"' in html
    assert 'alt="Three framed pictures' in html
    assert "The shelf is empty." in html


def test_visitor_gets_no_upload_form_and_no_delete_button(client):
    add_image()

    html = client.get("/").content.decode()

    assert 'action="/images/"' not in html
    assert "Delete all" not in html
    assert 'href="/admin/login/?next=/"' in html


def test_staff_see_the_upload_form_and_delete_all(staff_client):
    add_image()

    html = staff_client.get("/").content.decode()

    assert 'action="/images/"' in html
    assert 'enctype="multipart/form-data"' in html
    assert 'action="/images/delete-all/"' in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_page_lists_the_newest_images_first(client):
    for index in range(3):
        add_image(index, title=f"picture {index}")

    html = client.get("/").content.decode()

    assert html.index("picture 2") < html.index("picture 1") < html.index("picture 0")


def image_tags(html: str) -> dict[str, str]:
    """Each <img> on the page, by its alt text."""
    tags = re.findall(r"<img [^>]*>", html)
    return {re.search(r'alt="([^"]*)"', tag).group(1): tag for tag in tags}


def test_the_hero_and_the_first_three_images_are_asked_for_first(client, settings):
    settings.IMAGE_LIMIT = 4
    for index in range(4):
        add_image(index, description=f"picture {index}")

    tags = image_tags(client.get("/").content.decode())

    first = {alt for alt, tag in tags.items() if 'fetchpriority="high"' in tag}
    assert sorted(tags) == sorted([HERO, "picture 3", "picture 2", "picture 1", "picture 0"])
    assert first == {HERO, "picture 3", "picture 2", "picture 1"}


def test_no_image_on_the_page_is_loaded_lazily(client, settings):
    settings.IMAGE_LIMIT = 6
    for index in range(6):
        add_image(index)

    html = client.get("/").content.decode()

    assert html.count("<img ") == 7
    assert "loading=" not in html


@pytest.mark.parametrize(
    ("size", "share"), [((960, 720), "1.000"), ((960, 640), "1.000"), ((600, 900), "0.500")]
)
def test_each_image_says_how_much_of_its_card_it_fills(client, size, share):
    services.image_ingest(upload_file(distinct_png(1, size=size)), user=None)

    html = client.get("/").content.decode()

    assert f'sizes="(min-width: 1132px) calc(352px * {share}),' in html


def test_staff_upload_of_a_png_redirects_and_shows_on_the_page(staff_client, files):
    response = staff_client.post(
        "/images/", {"image": upload_file(distinct_png(1), "garden.png"), "title": ""}
    )

    assert response.status_code == 303
    assert response["Location"] == "/"
    image = Image.objects.get()
    assert image.title == "garden"
    page = staff_client.get("/").content.decode()
    assert default_storage.url(image.preview_name) in page
    assert image.file.url in page
    assert files() == sorted(image.stored_names())


def test_anonymous_upload_is_forbidden_and_stores_nothing(client, files):
    response = client.post("/images/", {"image": upload_file(distinct_png(1))})

    assert response.status_code == 403
    assert Image.objects.count() == 0
    assert files() == []


def test_anonymous_delete_all_is_forbidden_and_deletes_nothing(client, files):
    image = add_image()

    response = client.post("/images/delete-all/", {"confirm": "yes"})

    assert response.status_code == 403
    assert list(Image.objects.all()) == [image]
    assert files() == sorted(image.stored_names())


@pytest.mark.parametrize("path", ["/images/", "/images/delete-all/"])
def test_get_on_a_write_endpoint_is_not_allowed(staff_client, path):
    response = staff_client.get(path)

    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_delete_all_without_confirmation_asks_first(staff_client):
    add_image()

    response = staff_client.post("/images/delete-all/")

    assert response.status_code == 200
    assert "Delete all images?" in response.content.decode()
    assert Image.objects.count() == 1


def test_staff_delete_all_empties_the_shelf_and_its_files(
    staff_client, files, django_capture_on_commit_callbacks
):
    add_image(1)
    add_image(2)

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post("/images/delete-all/", {"confirm": "yes"})

    assert response.status_code == 303
    assert response["Location"] == "/"
    assert Image.objects.count() == 0
    assert files() == []
    assert "The shelf is empty." in staff_client.get("/").content.decode()


def test_upload_without_a_csrf_token_is_refused(staff_user, files):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)

    response = client.post("/images/", {"image": upload_file(distinct_png(1))})

    assert response.status_code == 403
    assert Image.objects.count() == 0
    assert files() == []


def test_healthz_reports_database_and_storage(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"database": "ok", "storage": "ok"}


def test_healthz_answers_503_when_the_database_fails(client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise DatabaseError("connection refused")

    monkeypatch.setattr("uploads.page.views.connection.cursor", broken_cursor)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"database": "unavailable", "storage": "ok"}


def test_404_page_renders_without_debug(client):
    response = client.get("/no/such/page/")

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_error_templates_render_without_a_request_context():
    request = RequestFactory().get("/")

    not_found = page_not_found(request, Exception("missing"))
    failure = server_error(request)

    assert not_found.status_code == 404
    assert failure.status_code == 500
    assert "Something went wrong" in failure.content.decode()


def test_favicon_ico_points_at_the_static_icon(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 301
    assert response["Location"] == "/static/favicon.ico"
