"""English and Brazilian Portuguese: the language from Accept-Language (or the language
page's cookie), the shared page kept per language, and a complete, compiled catalogue."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.formats import date_format

from uploads.page import shared
from uploads.shelf import services
from uploads.tests.commands import reconcile
from uploads.tests.factories import distinct_png, upload_file

pytestmark = pytest.mark.django_db(transaction=True)
PT = {"HTTP_ACCEPT_LANGUAGE": "pt-BR,pt;q=0.9,en;q=0.5"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}
CATALOGUE = Path(settings.BASE_DIR) / "locale" / "pt_BR" / "LC_MESSAGES"


@pytest.fixture
def reuse(settings, monkeypatch):
    """Visitors' pages reused, as in production; this process has kept none yet."""
    settings.PAGE_CACHE_SECONDS = 60
    monkeypatch.setattr(shared, "_kept", {})


@pytest.fixture
def msgfmt() -> str:
    found = shutil.which("msgfmt")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("msgfmt is missing: apt-get install -y gettext")
        pytest.skip("msgfmt is not installed (apt-get install -y gettext)")
    return found


def test_a_portuguese_visitor_gets_portuguese_and_the_next_english_one_english(client, reuse):
    services.image_ingest(upload_file(distinct_png(1)), title="Ipê")

    portuguese = client.get("/", **PT)
    english = client.get("/", **EN)

    assert '<html lang="pt-br">' in portuguese.content.decode()
    assert "Na prateleira" in portuguese.content.decode()
    assert '<html lang="en">' in english.content.decode()
    assert "On the shelf" in english.content.decode()
    assert "Na prateleira" not in english.content.decode()
    assert portuguese["ETag"] != english["ETag"]
    for response in (portuguese, english):
        assert "Accept-Language" in response["Vary"]
        assert "Cookie" in response["Vary"]


def test_each_language_is_reused_and_revalidated_with_its_own_etag(client, reuse):
    first = client.get("/", **PT)

    again = client.get("/", HTTP_IF_NONE_MATCH=first["ETag"], **PT)
    english = client.get("/", HTTP_IF_NONE_MATCH=first["ETag"], **EN)

    assert again.status_code == 304
    assert english.status_code == 200


def test_a_visitor_without_accept_language_gets_language_code(client, reuse):
    response = client.get("/")

    assert '<html lang="en">' in response.content.decode()


def test_the_page_shows_the_upload_time_in_the_admins_format(client, staff_client):
    image = services.image_ingest(upload_file(distinct_png(1)), title="Ipê")
    with translation.override("pt-br"):
        shown = date_format(image.uploaded_at, "DATETIME_FORMAT")

    page = client.get("/", **PT).content.decode()
    listing = staff_client.get("/admin/uploads/image/", **PT).content.decode()

    assert shown in page
    assert shown in listing
    assert " de " in shown  # "7 de dezembro de 2026 às 08:00": the locale's own format


def test_the_admin_image_list_is_portuguese(staff_client):
    services.image_ingest(upload_file(distinct_png(1)), title="Ipê")

    html = staff_client.get("/admin/uploads/image/", **PT).content.decode()

    assert '<html lang="pt-br"' in html
    for text in ["Envio em lote", "Prévia", "Dimensões", "Tamanho", "situação do arquivo"]:
        assert text in html
    assert "Gerar as miniaturas novamente" in html  # an action
    assert re.search(r"\d,\d MB", html)  # the size in MB, with the Brazilian decimal comma


def test_the_admin_names_the_shelf_in_portuguese_and_links_the_language_page(staff_client):
    html = staff_client.get("/admin/", **PT).content.decode()

    assert "Prateleira" in html
    assert 'href="/language/?next=/admin/"' in html  # in the user links
    assert "Idioma" in html


def test_axes_section_has_a_translated_name(admin_client):
    html = admin_client.get("/admin/", **PT).content.decode()

    assert "Pausas de acesso" in html
    assert "Tentativas de acesso" in html
    assert "AXES" not in html and "Axes" not in html


def test_the_bulk_upload_page_and_its_script_strings_are_portuguese(staff_client):
    html = staff_client.get("/admin/uploads/image/bulk-upload/", **PT).content.decode()

    assert "<h1>Envio em lote</h1>" in html
    assert 'data-not-sent="Não enviado: o servidor não respondeu.' in html
    assert 'data-summary="%(stored)s de %(total)s arquivos guardados."' in html
    assert 'data-upload-of="Envio de %(name)s"' in html


def test_an_upload_refusal_is_portuguese(staff_client):
    response = staff_client.post("/images/", {"image": upload_file(b"not an image")}, **PT)

    assert response.status_code == 400
    assert "A imagem não foi adicionada" in response.content.decode()
    assert (
        "Este arquivo não é uma imagem que aceitamos (JPEG, PNG, WebP, GIF, HEIC ou AVIF)."
        in response.content.decode()
    )


def test_a_size_refusal_uses_the_brazilian_decimal_comma(settings):
    with translation.override("pt-br"):
        message = services.too_large_message(26 * services.MB + services.MB // 2)

    assert message == "Este arquivo tem 26,5 MB; o limite é 10 MB."


def test_the_404_page_is_portuguese(client):
    response = client.get("/no-such-page/", **PT)

    assert response.status_code == 404
    assert '<html lang="pt-br">' in response.content.decode()
    assert "Página não encontrada" in response.content.decode()


def test_the_lockout_page_is_portuguese(client, staff_user):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": "curator", "password": "wrong"}, **PT)

    locked = client.post("/admin/login/", {"username": "curator", "password": "wrong"}, **PT)

    assert locked.status_code == 429
    assert "Muitas tentativas de entrada sem sucesso" in locked.content.decode()
    assert "a entrada como “curator” a partir deste endereço está pausada por 60 minutos" in (
        locked.content.decode()
    )


def test_the_language_page_switches_the_language_with_set_language(client, reuse):
    page = client.get("/language/?next=/")

    switched = client.post("/i18n/setlang/", {"language": "pt-br", "next": "/"})
    after = client.get("/", **EN)  # the choice outweighs the browser's

    assert page.status_code == 200
    assert 'action="/i18n/setlang/"' in page.content.decode()
    assert "csrfmiddlewaretoken" in page.content.decode()
    assert (switched.status_code, switched["Location"]) == (302, "/")
    assert '<html lang="pt-br">' in after.content.decode()


def test_the_shared_page_links_the_language_page_and_carries_no_token(client, reuse):
    html = client.get("/", **EN).content.decode()

    assert 'href="/language/?next=/"' in html
    assert "csrfmiddlewaretoken" not in html


def test_reconcile_media_speaks_language_code(settings, own_storage, capsys):
    settings.LANGUAGE_CODE = "pt-br"

    status, out, _ = reconcile(capsys=capsys)
    _, as_json, _ = reconcile("--json", capsys=capsys)

    assert status == 0
    assert "Nada a reparar: registros e arquivos estão de acordo." in out
    assert '"dry_run": false' in as_json  # its keys stay English


def test_reconcile_media_speaks_english_by_default(own_storage, capsys):
    status, out, _ = reconcile(capsys=capsys)

    assert "Nothing to repair: rows and files agree." in out


def test_the_catalogue_is_complete(msgfmt):
    result = subprocess.run(
        [msgfmt, "--check", "--statistics", "-o", os.devnull, CATALOGUE / "django.po"],
        capture_output=True,
        text=True,
        check=True,
    )

    # msgfmt names untranslated and fuzzy entries only when there are some.
    assert re.fullmatch(r"\d+ translated messages\.\n", result.stderr)


def test_the_committed_mo_is_the_po_compiled(msgfmt, tmp_path):
    compiled = tmp_path / "django.mo"

    subprocess.run([msgfmt, "-o", compiled, CATALOGUE / "django.po"], check=True)

    assert compiled.read_bytes() == (CATALOGUE / "django.mo").read_bytes()


def test_a_request_refused_before_the_app_answers_in_its_own_language(client, settings):
    """A host refused by the HTTPS redirect, the first thing a request meets in production,
    is told so in the language it asked for, not in the one its thread served last."""
    settings.SECURE_SSL_REDIRECT = True
    client.get("/healthz", secure=True, **PT)  # this thread last spoke Portuguese

    english = client.get("/", HTTP_HOST="elsewhere.example", **EN)
    portuguese = client.get("/", HTTP_HOST="elsewhere.example", **PT)

    assert english.status_code == portuguese.status_code == 400
    assert '<html lang="en">' in english.content.decode()
    assert "Bad request" in english.content.decode()
    assert '<html lang="pt-br">' in portuguese.content.decode()


def test_the_admin_forms_description_label_and_help_are_portuguese(admin_client):
    """The description's label and help on the add and change forms, from the model field."""
    image = services.image_ingest(upload_file(distinct_png(1)))

    for url in ("/admin/uploads/image/add/", f"/admin/uploads/image/{image.pk}/change/"):
        html = admin_client.get(url, **PT).content.decode()
        label = re.search(r'<label[^>]*for="id_description"[^>]*>([^<]*)</label>', html)
        assert label and "Description" not in label.group(1), url
        assert "What the image shows, for people who cannot see it" not in html, url
