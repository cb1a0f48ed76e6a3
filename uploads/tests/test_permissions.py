"""One rule for every write: each door lets in exactly those whose permission it needs.

Six roles against every write path, on the public page and in the admin. The staff roles
other than "view" may also view the image list, since the admin's actions start from it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from uploads.admin.resources import ImageResource
from uploads.models import Image
from uploads.shelf import services
from uploads.tests.factories import distinct_png, upload_file

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/uploads/image/"
ROLES = ["anonymous", "signed-in", "view", "add", "delete", "superuser"]
PERMISSIONS = {
    "view": ["view_image"],
    "add": ["view_image", "add_image"],
    "delete": ["view_image", "delete_image"],
}
REDIRECT, FORBIDDEN, LIST_SHOWN = 302, 403, 200


@pytest.fixture
def as_role(django_user_model):
    def as_role(role: str) -> Client:
        client = Client()
        if role == "anonymous":
            return client
        user = django_user_model.objects.create_user(
            username=role,
            password="shelf-password-1",
            is_staff=role not in ("signed-in",),
            is_superuser=role == "superuser",
        )
        user.user_permissions.set(Permission.objects.filter(codename__in=PERMISSIONS.get(role, [])))
        client.force_login(user)
        return client

    return as_role


def ingest(index: int, title: str = "") -> Image:
    return services.image_ingest(upload_file(distinct_png(index)), user=None, title=title)


def action(name: str, **extra) -> Callable[[Client, list[Image]], object]:
    def post(client: Client, images: list[Image]):
        data = {"action": name, "_selected_action": [image.pk for image in images], **extra}
        return client.post(CHANGELIST, data)

    return post


@dataclass(frozen=True)
class Door:
    """One write path: what it needs, how to knock, and how to tell that it opened."""

    allowed: frozenset[str]
    knock: Callable[[Client, list[Image]], object]
    opened: Callable[[list[Image]], bool]
    refusal: str = "admin"  # how it says no: "page", "admin" or "action"

    def refusals_for(self, role: str) -> set[tuple[int, str]]:
        """The answers (status, where it redirects) to someone it does not let in."""
        if self.refusal == "page":
            return {(FORBIDDEN, "")}
        if role in ("anonymous", "signed-in"):
            return {(REDIRECT, "/admin/login/")}
        if self.refusal == "action":
            # An action staff may not use is not offered: the list is shown again, or they
            # are sent back to it ("No action selected.") when they have other actions.
            return {(LIST_SHOWN, ""), (REDIRECT, CHANGELIST)}
        return {(FORBIDDEN, "")}


def titles() -> list[str]:
    return sorted(Image.objects.values_list("title", flat=True))


def gone(images: list[Image]) -> bool:
    return not Image.objects.filter(pk=images[0].pk).exists()


def thumbnail_changed(images: list[Image]) -> bool:
    kept = images[1]
    return Image.objects.get(pk=kept.pk).thumbnails != kept.thumbnails


def import_titles(client: Client, images: list[Image]):
    csv = f"id,title\n{images[0].pk},imported\n".encode()
    preview = client.post(
        f"{CHANGELIST}import/",
        {"resource": 0, "format": 0, "import_file": upload_file(csv, "titles.csv")},
    )
    if preview.status_code != 200:
        return preview
    return client.post(f"{CHANGELIST}process_import/", preview.context["confirm_form"].initial)


EXPORTS: list = []  # the exports made in this test, as (status, body)


def export(client: Client, images: list[Image]):
    fields = {f"imageresource_{name}": "on" for name in ImageResource().get_export_order()}
    response = client.post(f"{CHANGELIST}export/", {"format": 0, "resource": 0, **fields})
    body = b"".join(response.streaming_content) if response.streaming else response.content
    EXPORTS.append((response.status_code, body))
    return response


MAY_ADD = frozenset({"add", "superuser"})
MAY_DELETE = frozenset({"delete", "superuser"})
SUPERUSER = frozenset({"superuser"})

DOORS = {
    "page upload": Door(
        MAY_ADD,
        lambda client, images: client.post("/images/", {"image": upload_file(distinct_png(9))}),
        lambda images: Image.objects.count() == len(images) + 1,
        refusal="page",
    ),
    "page delete-all": Door(
        MAY_DELETE,
        lambda client, images: client.post("/images/delete-all/", {"confirm": "yes"}),
        lambda images: Image.objects.count() == 0,
        refusal="page",
    ),
    "admin add": Door(
        MAY_ADD,
        lambda client, images: client.post(
            f"{CHANGELIST}add/", {"title": "added", "image": upload_file(distinct_png(9))}
        ),
        lambda images: "added" in titles(),
    ),
    "bulk upload": Door(
        MAY_ADD,
        lambda client, images: client.post(
            f"{CHANGELIST}bulk-upload/", {"images": [upload_file(distinct_png(9), "bulk.png")]}
        ),
        lambda images: "bulk" in titles(),
    ),
    "delete selected": Door(
        MAY_DELETE, action("delete_selected", post="yes"), gone, refusal="action"
    ),
    "verify files": Door(MAY_DELETE, action("verify_files"), gone, refusal="action"),
    "approve selected": Door(
        MAY_ADD,
        action("approve_selected"),
        lambda images: not Image.objects.get(pk=images[2].pk).pending,
        refusal="action",
    ),
    "reject selected": Door(
        MAY_DELETE,
        action("reject_selected"),
        lambda images: not Image.objects.filter(pk=images[2].pk).exists(),
        refusal="action",
    ),
    "regenerate thumbnails": Door(
        SUPERUSER, action("regenerate_thumbnails"), thumbnail_changed, refusal="action"
    ),
    "delete-all button": Door(
        MAY_DELETE,
        lambda client, images: client.post(f"{CHANGELIST}delete-all/"),
        lambda images: Image.objects.count() == 0,
    ),
    "import": Door(SUPERUSER, import_titles, lambda images: "imported" in titles()),
    "export": Door(
        SUPERUSER,
        export,
        lambda images: EXPORTS[-1][0] == 200 and images[0].sha256.encode() in EXPORTS[-1][1],
    ),
}


@pytest.fixture
def shelf(media_root) -> list[Image]:
    """Two images on the shelf, the older without its file (so that "verify files" has
    work), and a visitor's upload waiting for approval."""
    lost, kept = ingest(1, "lost"), ingest(2, "kept")
    os.remove(media_root / lost.file.name)
    waiting = services.image_ingest(
        upload_file(distinct_png(3)), user=None, title="waiting", pending=True
    )
    return [lost, kept, waiting]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("door", list(DOORS))
def test_each_write_path_opens_exactly_to_those_with_its_permission(
    as_role, shelf, files, django_capture_on_commit_callbacks, door, role
):
    client, spec = as_role(role), DOORS[door]
    rows_before, files_before = titles(), files()

    with django_capture_on_commit_callbacks(execute=True):
        response = spec.knock(client, shelf)

    if role in spec.allowed:
        assert spec.opened(shelf), f"{door} stayed shut for {role} ({response.status_code})"
    else:
        assert not spec.opened(shelf), f"{door} opened for {role}"
        assert (titles(), files()) == (rows_before, files_before)
        location = response.get("Location", "").split("?")[0]
        assert (response.status_code, location) in spec.refusals_for(role)


@pytest.mark.parametrize("role", ROLES)
def test_the_page_shows_each_control_only_to_those_who_may_use_it(as_role, role):
    ingest(1)

    html = as_role(role).get("/").content.decode()

    assert ('action="/images/"' in html) == (role in MAY_ADD)
    assert ('action="/images/delete-all/"' in html) == (role in MAY_DELETE)


def test_with_public_uploads_staff_who_may_not_add_are_rate_limited_like_visitors(
    as_role, settings
):
    settings.PUBLIC_UPLOADS = "open"
    settings.PUBLIC_UPLOAD_RATE = "1/h"
    viewer, adder = as_role("view"), as_role("add")

    statuses = [
        client.post("/images/", {"image": upload_file(distinct_png(index))}).status_code
        for index, client in enumerate([viewer, viewer, adder, adder])
    ]

    assert statuses == [303, 429, 303, 303]
