"""Descriptions written by a person: asked for at every door, the page's alt text (never the
file name or title when there is none), "needs a description" in the admin, the title
offered in one click, and success messages that say what the stored image lost."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from uploads.models import Image
from uploads.shelf import services
from uploads.tests import factories as f
from uploads.tests.factories import upload_file

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/uploads/image/"
NAME = "IMG_0412.png"  # the file's name, which becomes the default title "IMG 0412"
TEXT = "A red door in a white wall, half open"
NEUTRAL = "Photo 1 of 1, not yet described"
INVISIBLE = "\u200b\u2060 \u00ad"  # zero-width space, word joiner, a space, a soft hyphen
# Printable to Unicode, yet they draw nothing: Hangul fillers, a blank Braille pattern, a
# grapheme joiner and a variation selector (marks with nothing to mark).
BLANKS = ["\u3164", "\u115f\u1160", "\uffa0", "\u2800", "\u034f", "\ufe0f", "\u17b4"]


def page_alts() -> list[str]:
    """The alt text of each image on the shelf, as a visitor's page gives it."""
    html = Client().get("/").content.decode()
    shelf = html[html.index('<ol class="shelf">') :]
    return re.findall(r'<img [^>]*alt="([^"]*)"', shelf)


def upload() -> object:
    return upload_file(f.distinct_png(1), NAME)


def admin_add(admin_client, settings, description: str) -> None:
    data = {"title": "", "description": description, "image": upload()}
    admin_client.post(f"{CHANGELIST}add/", data)


def admin_change(admin_client, settings, description: str) -> None:
    image = services.image_ingest(upload(), user=None)
    data = {"title": image.title, "description": description}
    admin_client.post(f"{CHANGELIST}{image.pk}/change/", data)


def bulk_upload(admin_client, settings, description: str) -> None:
    data = {"images": [upload()], "description": [description]}
    admin_client.post(f"{CHANGELIST}bulk-upload/", data)


def page_form(admin_client, settings, description: str) -> None:
    settings.PUBLIC_UPLOADS = "open"  # a visitor's upload, straight onto the shelf
    Client().post("/images/", {"title": "", "description": description, "image": upload()})


def moderation(admin_client, settings, description: str) -> None:
    settings.PUBLIC_UPLOADS = "moderated"
    Client().post("/images/", {"title": "", "description": description, "image": upload()})
    waiting = Image.objects.get(pending=True)
    shown = admin_client.get(f"{CHANGELIST}{waiting.pk}/change/").context["adminform"].form
    assert shown["description"].value() == description  # seen (and editable) before approving
    data = {"action": "approve_selected", "_selected_action": [waiting.pk]}
    admin_client.post(CHANGELIST, data)


DOORS = [admin_add, admin_change, bulk_upload, page_form, moderation]


@pytest.mark.parametrize("door", DOORS, ids=lambda door: door.__name__)
def test_a_description_given_at_each_door_is_the_pages_alt_text(admin_client, settings, door):
    door(admin_client, settings, TEXT)

    assert Image.objects.get().description == TEXT
    assert page_alts() == [TEXT]


@pytest.mark.parametrize("door", DOORS, ids=lambda door: door.__name__)
def test_without_a_description_the_image_is_stored_listed_as_needing_one_and_never_named(
    admin_client, settings, door
):
    door(admin_client, settings, "")

    image = Image.objects.get()
    listed = admin_client.get(CHANGELIST, {"described": "no"}).context["cl"].result_list
    alts = page_alts()
    assert image.description == "" and image.title == "IMG 0412"
    assert list(listed) == [image]
    assert alts == [NEUTRAL]
    assert not any(name in alts[0] for name in ("IMG", NAME, image.title))


@pytest.mark.parametrize("door", [admin_add, bulk_upload, page_form], ids=lambda d: d.__name__)
def test_a_description_with_nothing_visible_is_refused_and_nothing_is_stored(
    admin_client, settings, door
):
    door(admin_client, settings, INVISIBLE)

    assert not Image.objects.exists()


def test_a_description_with_nothing_visible_is_refused_on_the_change_page(admin_client, settings):
    admin_change(admin_client, settings, INVISIBLE)

    assert Image.objects.get().description == ""


@pytest.mark.parametrize("blank", BLANKS)
def test_characters_that_draw_nothing_are_no_description(settings, blank):
    settings.PUBLIC_UPLOADS = "open"

    Client().post("/images/", {"description": blank + " ", "image": upload()})

    assert not Image.objects.exists()


def test_a_mark_on_a_letter_is_a_description(settings):
    settings.PUBLIC_UPLOADS = "open"

    Client().post("/images/", {"description": "e\u0301", "image": upload()})

    assert Image.objects.get().description == "e\u0301"


def test_a_description_too_long_is_refused_once(settings):
    settings.PUBLIC_UPLOADS = "open"

    response = Client().post("/images/", {"description": "d" * 501, "image": upload()})

    assert response.content.decode().count("at most 500 characters") == 1


def test_the_page_says_why_a_description_with_nothing_visible_is_refused(settings):
    settings.PUBLIC_UPLOADS = "open"

    response = Client().post("/images/", {"description": INVISIBLE, "image": upload()})

    assert "This description has no visible characters." in response.content.decode()


def test_the_needs_a_description_filter_leaves_out_described_images(admin_client):
    services.image_ingest(upload_file(f.distinct_png(1)), description=TEXT)
    bare = services.image_ingest(upload_file(f.distinct_png(2)))

    response = admin_client.get(CHANGELIST, {"described": "no"})

    assert list(response.context["cl"].result_list) == [bare]
    assert "Needs a description" in response.content.decode()


def test_the_neutral_alt_counts_the_images_on_the_shelf():
    described = services.image_ingest(upload_file(f.distinct_png(1)), description=TEXT)
    for index in (2, 3):
        services.image_ingest(upload_file(f.distinct_png(index)), title=f"scan_{index}")

    alts = page_alts()

    assert alts == ["Photo 1 of 3, not yet described", "Photo 2 of 3, not yet described", TEXT]
    assert described.alt_text == TEXT


# --- The title as a suggestion ------------------------------------------------------------


def use_titles(client, images: list[Image]):
    data = {"action": "describe_with_title", "_selected_action": [image.pk for image in images]}
    return client.post(CHANGELIST, data, follow=True)


def test_staff_accept_the_titles_as_descriptions_in_one_click(admin_client):
    bare = services.image_ingest(upload_file(f.distinct_png(1)), title="Harbour at dawn")
    described = services.image_ingest(
        upload_file(f.distinct_png(2)), title="scan 2", description=TEXT
    )

    response = use_titles(admin_client, [bare, described])

    messages = [str(message) for message in response.context["messages"]]
    assert Image.objects.get(pk=bare.pk).description == "Harbour at dawn"
    assert Image.objects.get(pk=described.pk).description == TEXT  # left as it was
    assert messages == ["Described 1 image(s) with their titles."]


def test_a_title_that_shows_nothing_is_not_used_as_a_description(admin_client):
    blank = services.image_ingest(upload_file(f.distinct_png(1)), title="\u3164\u200b")

    response = use_titles(admin_client, [blank])

    assert Image.objects.get(pk=blank.pk).description == ""
    assert [str(m) for m in response.context["messages"]] == [
        "Described 0 image(s) with their titles."
    ]


def test_the_titles_are_not_used_without_the_change_permission(client, staff_user):
    staff_user.user_permissions.remove(Permission.objects.get(codename="change_image"))
    client.force_login(staff_user)
    bare = services.image_ingest(upload_file(f.distinct_png(1)), title="Harbour at dawn")

    offered = client.get(CHANGELIST).context["action_form"].fields["action"].choices
    use_titles(client, [bare])

    assert "describe_with_title" not in [name for name, _ in offered]
    assert Image.objects.get(pk=bare.pk).description == ""


# --- What the stored image lost --------------------------------------------------------

LOST = {
    "animated GIF": (f.animated_gif, "blink.gif", "only the first frame of the animation was kept"),
    "16-bit PNG": (f.png_16bit, "deep.png", "16 bits per channel became 8"),
}


@pytest.mark.parametrize(("make", "name", "lost"), LOST.values(), ids=LOST.keys())
def test_the_page_says_what_the_stored_image_lost(admin_client, make, name, lost):
    response = admin_client.post("/images/", {"image": upload_file(make(), name)}, follow=True)

    messages = [str(message) for message in response.context["messages"]]
    assert messages == [f"Added “{name.split('.')[0]}” to the shelf. Stored with changes: {lost}."]


@pytest.mark.parametrize(("make", "name", "lost"), LOST.values(), ids=LOST.keys())
def test_the_admin_add_form_says_what_the_stored_image_lost(admin_client, make, name, lost):
    data = {"title": "", "description": "", "image": upload_file(make(), name)}

    response = admin_client.post(f"{CHANGELIST}add/", data, follow=True)

    message = str(list(response.context["messages"])[0])
    assert message.endswith(f"was added successfully. Stored with changes: {lost}.")


@pytest.mark.parametrize(("make", "name", "lost"), LOST.values(), ids=LOST.keys())
def test_bulk_upload_says_what_each_stored_image_lost(admin_client, make, name, lost):
    data = {"images": [upload_file(make(), name), upload_file(f.distinct_png(1))]}

    response = admin_client.post(f"{CHANGELIST}bulk-upload/", data, HTTP_ACCEPT="application/json")

    notes = [result["note"] for result in response.json()["results"]]
    assert notes == [f"Stored with changes: {lost}.", ""]


def test_a_scaled_down_image_says_its_stored_size(settings):
    settings.IMAGE_MAX_EDGE = 32

    image = services.image_ingest(upload_file(f.distinct_png(1, size=(64, 48))))

    assert image.changes_note == "Stored with changes: it was scaled down to 32 × 24 pixels."
