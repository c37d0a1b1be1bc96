"""Settings: defaults <- site TOML <- environment, every mistake named by its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.config import DEFAULT_KEYPAD, ConfigError, Settings, load_settings


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


def test_config_path_from_environment(tmp_path: Path) -> None:
    path = write(tmp_path, "idle_timeout_s = 300\n")
    assert load_settings(None, environ={"KIOSK_CONFIG": str(path)}).idle_timeout_s == 300.0


def test_settings_are_frozen() -> None:
    settings = load_settings(None, environ={})
    with pytest.raises(AttributeError):
        settings.rate_wpm = 200  # type: ignore[misc]


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
    settings = load_settings(write(tmp_path, '[keypad]\ntalk = "numpad3"\n'), environ={})
    assert settings.keypad["talk"] == ("numpad3",)
    assert settings.keypad["up"] == DEFAULT_KEYPAD["up"]
