"""Settings: defaults <- site TOML <- environment, every mistake named by its key."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest

from kiosk.config import DEFAULT_KEYPAD, ConfigError, Settings, _validate, load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_file() -> None:
    settings = load_settings(None, environ={})
    assert settings == Settings()
    assert settings.language_dir.name == "en"
    assert -settings.volume_min_db >= 18


def test_file_then_environment(tmp_path: Path) -> None:
    path = write(tmp_path, 'rate_wpm = 170\nvoice = "en-us"\ncontent_dir = "site-content"\n')
    settings = load_settings(path, environ={"KIOSK_RATE_WPM": "130", "KIOSK_FULLSCREEN": "no"})
    assert settings.rate_wpm == 130  # the environment wins over the file
    assert settings.voice == "en-us"
    assert settings.fullscreen is False
    assert settings.content_dir == tmp_path / "site-content"  # relative to the file


def test_a_file_saved_with_a_byte_order_mark_and_crlf_reads_the_same(tmp_path: Path) -> None:
    path = tmp_path / "windows.toml"
    path.write_bytes(b'\xef\xbb\xbfrate_wpm = 170\r\nvoice = "en-us"\r\n')
    settings = load_settings(path, environ={})
    assert (settings.rate_wpm, settings.voice) == (170, "en-us")


def test_the_natural_voice_is_the_default_and_espeak_one_setting_away(tmp_path: Path) -> None:
    assert (Settings().synthesizer, Settings().piper_voice) == ("piper", "")
    model = tmp_path / "voices" / "clinic.onnx"
    path = write(tmp_path, f'synthesizer = "pyttsx3"\npiper_voice = "{model}"\n')
    settings = load_settings(path, environ={})
    # A model not there (yet) is not a setting's mistake: espeak-ng stands in for it.
    assert (settings.synthesizer, settings.piper_voice) == ("pyttsx3", str(model))
    folder = tmp_path / "folder.onnx"
    folder.mkdir()
    with pytest.raises(ConfigError, match=r"piper_voice: must name a Piper model file"):
        load_settings(None, environ={"KIOSK_PIPER_VOICE": str(folder)})


def test_config_path_from_environment(tmp_path: Path) -> None:
    path = write(tmp_path, "idle_timeout_s = 300\n")
    assert load_settings(None, environ={"KIOSK_CONFIG": str(path)}).idle_timeout_s == 300.0


def test_settings_are_frozen() -> None:
    settings = load_settings(None, environ={})
    with pytest.raises(AttributeError):
        cast(Any, settings).rate_wpm = 200  # deliberately assigning a frozen field


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("volum = 3\n", "volum"),
        ('rate_wpm = "fast"\n', "rate_wpm"),
        ("rate_wpm = 1000\n", "rate_wpm"),
        ("fullscreen = 1\n", "fullscreen"),
        ('listen_mode = "always"\n', "listen_mode"),
        ("idle_warning_s = 5\n", "idle_warning_s"),
        ("idle_timeout_s = 40\nidle_warning_s = 45\n", "idle_warning_s"),
        ("volume_min_db = -10\nvolume_db = -6\n", "volume_min_db"),
        ('staff_pin = "12ab"\n', "staff_pin"),
        ("staff_pin = 1234\n", "staff_pin"),
        ('[keypad]\nfly = ["f"]\n', "keypad.fly"),
        ('[keypad]\nhelp = ["up"]\n', "keypad.help"),
        ('language = "../etc"\n', "language"),
        ("rate_wpm = [\n", "config"),
        ('synthesizer = "festival"\n', "synthesizer"),
        ('piper_voice = "voices/en_US-joe-medium.onnx.json"\n', "piper_voice"),
        ("piper_voice = 3\n", "piper_voice"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, text), environ={})
    assert caught.value.key == key
    assert key in str(caught.value)
    assert str(tmp_path / "kiosk.toml") in str(caught.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("KIOSK_RATE_WPM", "quick"),
        ("KIOSK_VOLUME_DB", "loud"),
        ("KIOSK_NOPE", "1"),
        ("KIOSK_FULLSCREEN", "maybe"),
    ],
)
def test_bad_environment_names_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(None, environ={name: value})
    assert name in str(caught.value)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_settings(tmp_path / "absent.toml", environ={})


def test_keypad_overrides_merge_with_defaults(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, '[keypad]\ntalk = "f5"\n'), environ={})
    assert settings.keypad["talk"] == ("f5",)
    assert settings.keypad["up"] == DEFAULT_KEYPAD["up"]


BAD_FILES = [
    ("volum = 3\n", "volum"),
    ('rate_wpm = "fast"\n', "rate_wpm"),
    ("rate_wpm = 1000\n", "rate_wpm"),
    ('listen_mode = "always"\n', "listen_mode"),
    ("idle_timeout_s = 40\nidle_warning_s = 45\n", "idle_warning_s"),
    ("rate_min_wpm = 160\n", "rate_wpm"),
    ("volume_min_db = -10\nvolume_db = -6\n", "volume_min_db"),
    ('[keypad]\nfly = ["f"]\n', "keypad.fly"),
    ("rate_wpm = [\n", "config"),
    ('language = "fr"\n', "language"),
]


@pytest.mark.parametrize(("text", "key"), BAD_FILES)
def test_a_tolerant_load_records_each_mistake_and_keeps_the_rest(
    tmp_path: Path, text: str, key: str
) -> None:
    problems: list[ConfigError] = []
    # A good setting before the bad one, in the same file, still applies (unless the file
    # cannot be read at all).
    settings = load_settings(write(tmp_path, 'voice = "en-gb"\n' + text), {}, problems)
    assert [problem.key for problem in problems][:1] == [key]
    assert settings.voice == ("" if key == "config" else "en-gb")
    _validate(settings, "test")  # whatever was set aside, what is left is a valid whole
    assert settings.keypad == DEFAULT_KEYPAD


def test_a_tolerant_load_sets_aside_only_the_bad_environment_variables(tmp_path: Path) -> None:
    problems: list[ConfigError] = []
    settings = load_settings(
        write(tmp_path, "rate_wpm = 170\n"),
        {"KIOSK_RATE_WPM": "quick", "KIOSK_VOLUME_DB": "-9", "KIOSK_KEYPAD": "x"},
        problems,
    )
    assert settings.rate_wpm == 170  # the file's value, not the bad variable's
    assert settings.volume_db == -9.0
    assert sorted(problem.key for problem in problems) == ["keypad", "rate_wpm"]
    assert any("$KIOSK_RATE_WPM" in str(problem) for problem in problems)


def test_environment_variables_are_checked_together_not_one_by_one() -> None:
    # Raising the maximum and the rate together is fine in whichever order they are listed.
    for environ in (
        {"KIOSK_RATE_MAX_WPM": "400", "KIOSK_RATE_WPM": "300"},
        {"KIOSK_RATE_WPM": "300", "KIOSK_RATE_MAX_WPM": "400"},
    ):
        problems: list[ConfigError] = []
        assert load_settings(None, environ, problems).rate_wpm == 300
        assert problems == []


def test_a_language_the_content_does_not_offer_is_a_setting_mistake(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "fr").mkdir(parents=True)
    with pytest.raises(ConfigError, match="has no 'en' folder; it has: fr") as caught:
        load_settings(write(tmp_path, f'content_dir = "{site}"\n'), environ={})
    assert caught.value.key == "language"
    # Tolerant: the content folder that does not fit is set aside, not the whole kiosk.
    problems: list[ConfigError] = []
    settings = load_settings(write(tmp_path, f'content_dir = "{site}"\n'), {}, problems)
    assert settings.language_dir.is_dir() and [p.key for p in problems] == ["language"]
    # A content folder that is missing altogether is left to the content's own fallback.
    missing = load_settings(write(tmp_path, 'content_dir = "nowhere"\n'), environ={})
    assert missing.content_dir == tmp_path / "nowhere"
