"""What staff read on the admin's pages: help texts, messages, previews, the import page and
the limits the upload forms state."""

from __future__ import annotations

import os
import re

import pytest
from django.core.files.storage import default_storage

from uploads.models import Image
from uploads.page.forms import ACCEPT
from uploads.shelf import services
from uploads.tests.factories import distinct_png, upload_file

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/uploads/image/"


def ingest(index: int, title: str = "") -> Image:
    return services.image_ingest(upload_file(distinct_png(index)), user=None, title=title)


def test_the_change_page_shows_the_stored_names_pattern_literally(admin_client):
    image = ingest(1)

    html = admin_client.get(f"{CHANGELIST}{image.pk}/change/").content.decode()

    assert "stored as images/&lt;uuid4&gt;.&lt;ext&gt;." in html
    assert "{&quot;webp-480&quot;: &quot;thumbs/&lt;uuid4&gt;.webp&quot;}." in html
    assert "<uuid4>" not in html


def test_adding_an_image_without_a_title_names_the_title_it_was_given(admin_client):
    response = admin_client.post(
        f"{CHANGELIST}add/", {"title": "", "image": upload_file(distinct_png(1), "garden.png")}
    )

    image = Image.objects.get()
    messages = [str(message) for message in admin_client.get(CHANGELIST).context["messages"]]
    assert response.status_code == 302
    assert image.title == "garden"
    assert messages == [
        f'The image “<a href="{CHANGELIST}{image.pk}/change/">garden</a>” was added successfully.'
    ]


def test_a_missing_thumbnail_falls_back_to_the_full_image_in_the_list(admin_client, media_root):
    image = ingest(1, "no thumbnail")
    os.remove(media_root / image.preview_name)

    html = admin_client.get(CHANGELIST).content.decode()

    assert f'src="{default_storage.url(image.preview_name)}"' not in html
    assert f'src="{image.file.url}" width="64" height="48" alt="Not yet described"' in html


def test_a_missing_thumbnail_falls_back_to_the_full_image_on_the_change_page(
    admin_client, media_root
):
    image = ingest(1, "no thumbnail")
    os.remove(media_root / image.preview_name)

    html = admin_client.get(f"{CHANGELIST}{image.pk}/change/").content.decode()

    assert f'src="{default_storage.url(image.preview_name)}"' not in html
    assert f'src="{image.file.url}" width="320"' in html


def preview(client, text: str):
    return client.post(
        f"{CHANGELIST}import/",
        {"resource": 0, "format": 0, "import_file": upload_file(text.encode(), "titles.csv")},
    )


def test_the_import_preview_shows_only_id_and_title(admin_client):
    image = ingest(1, "before")

    response = preview(admin_client, f"id,title,file,sha256\n{image.pk},after,x.jpg,{'f' * 64}\n")

    assert response.context["result"].diff_headers == ["id", "title"]


def test_the_import_preview_diff_carries_no_inline_style(admin_client):
    image = ingest(1, "old title")

    response = preview(admin_client, f"id,title\n{image.pk},new title\n")

    html = response.content.decode()
    table = html[html.index('<table class="import-preview">') :]
    assert "<del>old</del>" in table and "<ins>new</ins>" in table
    assert "style=" not in table[: table.index("</table>")]


def test_the_import_page_says_only_titles_change(admin_client):
    html = admin_client.get(f"{CHANGELIST}import/").content.decode()

    assert re.search(r"will import the following fields:\s*<code>id, title</code>", html)
    assert "Imports change titles only" in html


def test_the_add_form_filters_files_and_states_the_size_limit(admin_client, settings):
    settings.MAX_UPLOAD_MB = 7

    html = admin_client.get(f"{CHANGELIST}add/").content.decode()

    assert f'accept="{ACCEPT}"' in html
    assert "JPEG, PNG, WebP, GIF, HEIC or AVIF, up to 7 MB." in html


def test_the_bulk_upload_form_states_the_size_limit(admin_client, settings):
    settings.MAX_UPLOAD_MB = 7

    html = admin_client.get(f"{CHANGELIST}bulk-upload/").content.decode()

    assert "JPEG, PNG, WebP, GIF, HEIC or AVIF, up to 7 MB each." in html
