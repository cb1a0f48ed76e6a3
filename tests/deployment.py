"""One deployment of ImageShelf, driven step by step from a test: its own database and
whatever media storage its environment names (`python tests/deployment.py STEP ...`, one
JSON line on stdout). Tests run several against one storage to check that none deletes
another's files (uploads/shelf/ownership.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class Deployment:
    """A deployment as the test sees it: an environment and the steps it can run."""

    def __init__(self, directory: Path, **variables: str) -> None:
        from tests.processes import HOST_ONLY

        directory.mkdir(parents=True, exist_ok=True)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(HOST_ONLY)}
        self.env.update(
            DJANGO_SETTINGS_MODULE="config.settings.development",
            DATABASE_URL=f"sqlite:///{directory / 'db.sqlite3'}",
            DEBUG="False",
            **variables,
        )
        self.database = directory / "db.sqlite3"

    def run(self, *step: str) -> dict:
        result = subprocess.run(
            [sys.executable, __file__, *step],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(step)} failed:\n{result.stderr}")
        return json.loads(result.stdout.strip().splitlines()[-1])


def _step(name: str, *args: str) -> dict:
    from django.core.management import call_command
    from django.test import Client

    from uploads.media.storage import NotOurStorage
    from uploads.models import Image
    from uploads.shelf import deletion, services
    from uploads.tests.factories import distinct_png, upload_file

    staff, _ = _user()
    if name == "migrate":
        call_command("migrate", verbosity=0)
        return {}
    if name == "upload":  # upload COUNT images, the first made from SEED
        count, seed = int(args[0]), int(args[1])
        try:
            for index in range(seed, seed + count):
                services.image_ingest(upload_file(distinct_png(index)), user=staff)
        except NotOurStorage as refusal:
            return {"refused": str(refusal)}
        return {"stored": count}
    if name == "admin-delete-oldest":  # "Delete selected" in the admin, for the oldest image
        client = Client()
        client.force_login(staff)
        oldest = Image.objects.order_by("uploaded_at").first()
        response = client.post(
            "/admin/uploads/image/",
            {"action": "delete_selected", "_selected_action": [oldest.pk], "post": "yes"},
        )
        return {"status": response.status_code, "body": response.content.decode()[:2000]}
    if name == "limit":  # the limit, trimming to COUNT
        try:
            return {"deleted": len(deletion.images_enforce_limit(limit=int(args[0])))}
        except NotOurStorage as refusal:
            return {"refused": str(refusal)}
    if name in ("reconcile_media", "media_owner"):  # a CommandError: its exit status
        call_command(name, *args, stdout=sys.stderr)
        return {"status": 0}
    if name == "state":
        rows = Image.objects.values_list("file", "thumbnails")
        return {"files": sorted(n for file, thumbs in rows for n in [file, *thumbs.values()])}
    raise SystemExit(f"unknown step {name}")


def _user():
    from django.contrib.auth import get_user_model
    from django.db.utils import OperationalError

    try:
        return get_user_model().objects.get_or_create(
            username="staff", defaults={"is_staff": True, "is_superuser": True}
        )
    except OperationalError:  # not migrated yet
        return None, False


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client's host, as in a test
    from django.core.management.base import CommandError

    try:
        print(json.dumps(_step(*sys.argv[1:])))
    except CommandError as error:
        print(json.dumps({"status": error.returncode, "error": str(error)}))
