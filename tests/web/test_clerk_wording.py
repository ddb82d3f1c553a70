"""Wording a clerk reads: no configuration paths, a neutral conflict heading, one way to name sites."""

from __future__ import annotations

from webapp.errors import TITLES


def test_configuration_path_is_shown_to_process_owners_only(client_for) -> None:  # type: ignore[no-untyped-def]
    assert "egs.toml" not in client_for("egs").get("/personalbemessung").get_data(as_text=True)
    assert "egs.toml" in client_for("modeller").get("/personalbemessung").get_data(as_text=True)


def test_conflict_heading_blames_nobody() -> None:
    assert "zwischenzeitlich" not in TITLES[409]
    assert TITLES[409] == "Der Stand des Vorgangs hat sich geändert"


def test_start_page_names_sites_like_the_header(client_for) -> None:  # type: ignore[no-untyped-def]
    html = client_for("egs").get("/vorgaenge/neu").get_data(as_text=True)
    assert ">Fachdienst 56.4</option>" in html
    assert "Eingangsservice, Fachdienst 56.4" in html
