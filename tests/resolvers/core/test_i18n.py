import pytest

from resolvers.core.i18n import TEXTS, add_texts, negotiate, text


@pytest.mark.parametrize(
    ("header", "language"),
    [
        pytest.param(None, "nb", id="missing-defaults-to-bokmal"),
        pytest.param("en-GB,en;q=0.9", "en", id="english"),
        pytest.param("nn-NO", "nn", id="nynorsk"),
        pytest.param("no", "nb", id="generic-norwegian-is-bokmal"),
        pytest.param("de, en;q=0.5", "en", id="first-supported"),
        pytest.param("en;q=0.2, nn;q=0.8", "nn", id="quality-wins"),
        pytest.param("fr, de", "nb", id="unsupported-falls-back"),
        pytest.param("en;q=abc, nn", "nn", id="malformed-quality-ignored"),
        pytest.param("en;q=0", "nb", id="refused-language"),
    ],
)
def test_negotiate(header: str | None, language: str) -> None:
    assert negotiate(header) == language


def test_every_text_exists_in_all_three_languages() -> None:
    for key, entry in TEXTS.items():
        assert set(entry) == {"nb", "nn", "en"}, key
        assert all(entry.values()), key


def test_unknown_key_falls_back_to_the_key() -> None:
    assert text("no.such.key", "en") == "no.such.key"


def test_added_texts_need_every_language_and_a_fresh_key() -> None:
    with pytest.raises(ValueError, match="nb, nn and en"):
        add_texts({"test.partial": {"nb": "Hei", "nn": "Hei"}})
    with pytest.raises(ValueError, match="defined twice"):
        add_texts({"appointment.booked": {"nb": "A", "nn": "B", "en": "C"}})
    add_texts({"test.added": {"nb": "Lagt til", "nn": "Lagt til", "en": "Added"}})
    assert text("test.added", "en") == "Added"
