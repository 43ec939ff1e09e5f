"""Shared debconf templates: merged into a package, complete translations, po2debconf output."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from openstack_pkg_tools.build.templates import MergeRequest, languages, merge, merged_templates, render
from openstack_pkg_tools.cli import main
from openstack_pkg_tools.questions import TABLE, Family

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "openstack_pkg_tools" / "templates" / "po"
LANGUAGES = ["de", "es", "fr", "it", "ja", "pt_BR"]

OWN = """\
Template: glance-common/own-question
Type: boolean
Default: true
_Description: A question of the package itself?
 Kept by the merge.
"""
OWN_DE = """\
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"

msgid "A question of the package itself?"
msgstr "Eine eigene Frage des Pakets?"

msgid "Kept by the merge."
msgstr "Bleibt beim Zusammenführen erhalten."

msgid "Set up a database for this package?"
msgstr "Eigene Übersetzung des Pakets"
"""


def _sh(*argv: str, cwd: Path | None = None) -> str:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=True).stdout


@pytest.fixture
def debian(tmp_path: Path) -> Path:
    folder = tmp_path / "debian"
    (folder / "po").mkdir(parents=True)
    (folder / "control").write_text("Source: glance\n\nPackage: glance-common\n")
    (folder / "glance-common.templates").write_text(OWN)
    (folder / "po" / "de.po").write_text(OWN_DE)
    return folder


def test_every_question_of_the_table_has_a_template() -> None:
    names = {
        line.split(": ", 1)[1]
        for line in "\n".join(render("p", list(Family))).splitlines()
        if line.startswith("Template: ")
    }
    assert names == {question.full_name("p") for question in TABLE}


def test_shipped_languages() -> None:
    assert languages() == LANGUAGES


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_are_complete(language: str, tmp_path: Path) -> None:
    statistics = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(PO / f"{language}.po")],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    assert "untranslated" not in statistics and "fuzzy" not in statistics
    # Every string of the templates as they are now has a translation.
    subprocess.run(["msgcmp", str(PO / f"{language}.po"), str(PO / "templates.pot")], check=True)


def test_the_shipped_pot_matches_the_templates(debian: Path) -> None:
    (debian / "glance-common.templates").unlink()
    merge(MergeRequest(str(debian), "glance-common", "glance", tuple(Family)))
    # Same strings both ways: nothing missing from, nothing stale in, templates.pot.
    fresh = debian / "po" / "templates.pot"
    subprocess.run(["msgcmp", "--use-untranslated", str(fresh), str(PO / "templates.pot")], check=True)
    subprocess.run(["msgcmp", "--use-untranslated", str(PO / "templates.pot"), str(fresh)], check=True)


def test_merge_keeps_the_package_own_templates_and_translations(debian: Path) -> None:
    main(["merge-templates", "glance-common", "glance", "db", "ksat", "--debian-dir", str(debian)])
    templates = (debian / "glance-common.templates").read_text()
    assert templates.startswith(OWN)
    assert "Template: glance/configure_db\n" in templates
    assert "Template: glance/ksat-service-username\nType: string\nDefault: glance\n" in templates
    assert "rabbit" not in templates
    assert (
        debian / "po" / "POTFILES.in"
    ).read_text() == "[type: gettext/rfc822deb] glance-common.templates\n"
    localized = _sh("po2debconf", "glance-common.templates", cwd=debian)
    assert "Description-de.UTF-8: Eine eigene Frage des Pakets?\n" in localized
    # The package's own translation of a shared string wins over ours.
    assert "Description-de.UTF-8: Eigene Übersetzung des Pakets\n" in localized
    for language in LANGUAGES:
        assert f"Description-{language}.UTF-8: " in localized
    assert "Beschreibung" not in localized
    ja = localized.split("Template: glance/ksat-admin-password\n", 1)[1].split("\n\n", 1)[0]
    assert "Description-ja.UTF-8: Keystone 管理者のパスワード:" in ja


def test_merging_twice_gives_the_same_templates(debian: Path) -> None:
    request = MergeRequest(str(debian), "glance-common", "glance", (Family.DB, Family.RABBIT))
    merge(request)
    first = (debian / "glance-common.templates").read_text()
    po_first = (debian / "po" / "fr.po").read_text()
    merge(request)
    assert (debian / "glance-common.templates").read_text() == first
    assert (debian / "po" / "fr.po").read_text() == po_first


def test_merged_templates_replace_earlier_copies_of_ours() -> None:
    ours = ["Template: p/a\nType: string\nDefault: new"]
    text = merged_templates(
        "Template: p/a\nType: string\nDefault: old\n\nTemplate: p/own\nType: note\n", ours
    )
    assert text == "Template: p/own\nType: note\n\nTemplate: p/a\nType: string\nDefault: new\n"


def test_bad_package_names_are_refused(debian: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["merge-templates", "Glance", "glance", "db", "--debian-dir", str(debian)]) == 2
    assert "Debian package names" in capsys.readouterr().err
    assert (debian / "glance-common.templates").read_text() == OWN
