"""project.toml, as Heroku's Fir generation (Cloud Native Buildpacks) reads it: checked
offline, from the committed HEAD as `git push` sends it (commit first)."""

from __future__ import annotations

import subprocess
import tomllib

import pytest

from tests.processes import ROOT

pytestmark = pytest.mark.heroku

BUILDPACKS = {"heroku/python", "heroku/procfile"}


def committed_project_toml() -> dict:
    shown = subprocess.run(
        ["git", "show", "HEAD:project.toml"], cwd=ROOT, capture_output=True, text=True
    )
    assert shown.returncode == 0, "project.toml is not committed: " + shown.stderr
    return tomllib.loads(shown.stdout)


def test_project_toml_declares_the_project_descriptor_schema_0_2():
    project = committed_project_toml()

    assert project["_"]["schema-version"] == "0.2"


def test_project_toml_declares_herokus_python_and_procfile_buildpacks_or_none():
    groups = committed_project_toml().get("io", {}).get("buildpacks", {}).get("group", [])

    declared = {group.get("id") for group in groups}

    assert declared >= BUILDPACKS or not groups, declared


def test_the_procfile_the_procfile_buildpack_reads_names_a_web_process():
    procfile = (ROOT / "Procfile").read_text()

    assert any(line.startswith("web:") for line in procfile.splitlines())
