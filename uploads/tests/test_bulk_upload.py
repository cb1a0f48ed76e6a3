"""Bulk upload: every chosen file listed with its outcome, nothing chosen is an error, links
only to images still on the shelf, and one file's result as JSON for the page's script."""

from __future__ import annotations

import json
import re

import pytest

from uploads.models import Image
from uploads.shelf import services
from uploads.tests.factories import distinct_png, upload_file

pytestmark = pytest.mark.django_db(transaction=True)

BULK = "/admin/uploads/image/bulk-upload/"


def rows(html: str) -> list[tuple[str, str]]:
    """(file, result) of each line of the results table, tags stripped from the result."""
    cells = re.findall(r"<tr>\s*<td>(.*?)</td>\s*<td>(.*?)</td>\s*</tr>", html, re.DOTALL)
    return [(name, re.sub(r"<[^>]+>", "", result)) for name, result in cells]


def test_submitting_nothing_is_a_form_error_not_a_success(admin_client):
    response = admin_client.post(BULK, {})

    html = response.content.decode()
    assert response.status_code == 200
    assert "Choose at least one image to upload." in html
    assert "Stored 0 of 0" not in html


def test_an_oversized_file_is_listed_with_its_refusal(admin_client, settings):
    settings.MAX_UPLOAD_MB = 1
    big = upload_file(b"\xff" * (1536 * 1024), "huge.jpg")

    response = admin_client.post(BULK, {"images": [upload_file(distinct_png(1), "a.png"), big]})

    html = response.content.decode()
    assert rows(html) == [
        ("a.png", f"Stored as {Image.objects.get().title}"),
        ("huge.jpg", f"Refused: {services.too_large_message(1536 * 1024)}"),
    ]
    assert "Stored 1 of 2 files." in html


def test_an_oversized_file_alone_is_a_refusal_not_a_green_success(admin_client, settings):
    settings.MAX_UPLOAD_MB = 1

    response = admin_client.post(BULK, {"images": [upload_file(b"\xff" * (2 * 1024 * 1024))]})

    html = response.content.decode()
    assert rows(html) == [("photo.png", f"Refused: {services.too_large_message(2 * 1024 * 1024)}")]
    assert 'class="warning">Stored 0 of 1 files.' in html


def test_images_replaced_within_the_batch_are_not_linked(admin_client, settings):
    settings.IMAGE_LIMIT = 3
    files = [upload_file(distinct_png(i), f"{i}.png") for i in range(5)]

    response = admin_client.post(BULK, {"images": files})

    html = response.content.decode()
    links = re.findall(r'href="(/admin/uploads/image/\d+/change/)"', html)
    assert [result for _, result in rows(html)][:2] == [
        "Stored as “0”, then replaced by a newer image: the shelf keeps the newest 3.",
        "Stored as “1”, then replaced by a newer image: the shelf keeps the newest 3.",
    ]
    assert len(links) == 3
    assert [admin_client.get(link).status_code for link in links] == [200, 200, 200]


def test_the_script_gets_one_files_result_as_json(admin_client):
    response = admin_client.post(
        BULK, {"images": [upload_file(distinct_png(1), "a.png")]}, HTTP_ACCEPT="application/json"
    )

    answer = json.loads(response.content)
    image = Image.objects.get()
    assert answer == {
        "results": [
            {
                "filename": "a.png",
                "image": image.pk,
                "title": "a",
                "url": f"/admin/uploads/image/{image.pk}/change/",
                "message": "",
                "replaced": "Stored as “a”, then replaced by a newer image: "
                "the shelf keeps the newest 3.",
                "note": "",
            }
        ],
        "on_shelf": [image.pk],
    }


def test_the_script_is_a_static_file_as_the_content_security_policy_wants(admin_client):
    html = admin_client.get(BULK).content.decode()

    scripts = re.findall(r"<script\b[^>]*>", html)
    assert '<script src="/static/admin-site/bulk-upload.js" defer>' in scripts
    assert all("src=" in script for script in scripts)  # no inline script


@pytest.mark.django_db
def test_bulk_upload_refuses_a_description_over_500_characters(admin_client):
    """As every other door does (the field's max_length): on Postgres a longer one would
    not fit its column. The refusal says why, and nothing is stored."""
    data = {"images": [upload_file(distinct_png(1))], "description": ["d" * 501]}

    response = admin_client.post(BULK, data, HTTP_ACCEPT="application/json")

    assert response.status_code == 400
    assert "at most 500 characters" in response.json()["error"]
    assert Image.objects.count() == 0
