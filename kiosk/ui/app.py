"""The Kivy app: loads content and engines off the UI thread, wires them to the controller, draws
the controller's state, and routes keys and touches to it.

Engine threads never touch widgets: their events reach the controller through Clock.schedule_once.

Importing this module imports Kivy's window, which opens one as Kivy is configured at that moment:
import it only through `kiosk.ui.run.create_app`, which configures Kivy for a kiosk first.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.text import LabelBase
from kivy.core.window import Keyboard, Window
from kivy.properties import StringProperty

from kiosk.config import ASSETS_DIR, Settings
from kiosk.controller import SCREEN_LINES, Controller, Screen
from kiosk.engines import Listener, NullListener, NullSpeaker, Speaker
from kiosk.events import Event, EventSink, EventType
from kiosk.last_good import content_signature, last_good_dir, load_library_or_last_good
from kiosk.library import ContentError, Library
from kiosk.startup import EngineFactory, close_engines, default_engines
from kiosk.systemd import Notifier
from kiosk.ui import lockdown
from kiosk.ui.content_error import ContentErrorScreen
from kiosk.ui.help import HelpScreen
from kiosk.ui.keypad import SWALLOWED, key_codes
from kiosk.ui.loading import LoadingScreen
from kiosk.ui.pool import SpareBuilder, WidgetPool
from kiosk.ui.reader import ReaderScreen
from kiosk.ui.root import KioskRoot
from kiosk.ui.staff import CornerGesture
from kiosk.ui.text_pacer import TextPacer
from kiosk.ui.theme import Theme
from kiosk.ui.topic import TopicScreen
from kiosk.ui.welcome import WelcomeScreen
from kiosk.ui.widgets import KioskButton, KioskScreen, SentenceText, sample_fills_nearest
from kiosk.usage import UsageLog

log = logging.getLogger(__name__)

#: Prompts already visible as the screen's own text are not repeated in the prompt line.
_PROMPTS_SHOWN_BY_SCREEN = ("screen.welcome", "screen.topic_intro", "screen.reader_intro",
                            "screen.help_title", "screen.answer_intro", SCREEN_LINES)


def _register_fonts() -> None:
    fonts = ASSETS_DIR / "fonts"
    LabelBase.register(
        name="AtkinsonHyperlegible",
        fn_regular=str(fonts / "AtkinsonHyperlegible-Regular.ttf"),
        fn_bold=str(fonts / "AtkinsonHyperlegible-Bold.ttf"),
    )


_register_fonts()  # before any label is made: the screens' rules name this font


class KioskApp(App):  # type: ignore[misc]
    """One kiosk window; `controller` is None until content has loaded."""

    status_text = StringProperty("")
    prompt_text = StringProperty("")

    def __init__(
        self,
        settings: Settings,
        *,
        engines: EngineFactory = default_engines,
        clock: Callable[[], float] = time.monotonic,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        self.engines = engines
        self.clock = clock
        self.theme = Theme(settings.screen_dpi)
        #: A frame's work before drawing, text included: with software rendering the draw
        #: and buffer swap of a text-heavy screen already take 15-40 ms of the 50 ms a frame
        #: may take.
        self.text_pacer = TextPacer(budget_ms=10.0)
        # Spare controls (a screen shows up to about 20) and reader sentences (a section
        # has up to about 30), built once the window is up.
        spares = SpareBuilder(self.text_pacer)
        self.button_pool = WidgetPool(KioskButton, spare=32, builder=spares)
        self.sentence_pool = WidgetPool(SentenceText, spare=32, builder=spares)
        self.controller: Controller | None = None
        self.library: Library | None = None
        self.speaker: Speaker | None = None
        self.listener: Listener | None = None
        self.lock = lockdown.Lockdown()
        self.staff_gesture = CornerGesture(time.monotonic)
        self.exit_code = 0
        self.started_at = time.perf_counter()
        self.interactive_at: float | None = None
        #: systemd, when it supervises the kiosk (docs/install.md); silent otherwise.
        self.systemd = Notifier()
        # The content as it was when loaded, and the engines' generation: new content is
        # taken when a visit ends (docs/content.md), with engines of its own, and events
        # from the engines it replaced are dropped.
        self._content_seen: tuple[tuple[str, int, int], ...] = ()
        self._generation = 0
        self._reloading = False
        self.content_problems: list[str] = []
        self._pending: list[Event] = []
        self._screens: dict[str, KioskScreen] = {}
        self._refresh = Clock.create_trigger(self.apply_state, 0)
        mapping, unknown = key_codes(settings.keypad, Keyboard.keycodes)
        self.keymap = mapping
        for name in unknown:
            log.warning("ui: unknown keypad key name %s (ignored)", name)
        self.title = "Kiosk"

    # ----- start-up -----------------------------------------------------------

    def build(self) -> KioskRoot:
        sample_fills_nearest()
        self.root = KioskRoot(self)
        self.root.manager.add_widget(LoadingScreen())
        self.theme.update(Window.width, Window.height, 1.0, self.settings.high_contrast)
        Window.clearcolor = self.theme.background
        Window.bind(size=lambda *_a: self._refresh(), on_key_down=self._on_key_down)
        return self.root

    def on_start(self) -> None:
        self.lock.lock(Window)
        threading.Thread(target=self._load, name="kiosk-load", daemon=True).start()
        Clock.schedule_interval(self._tick, 0.5)
        heartbeat = self.systemd.heartbeat_s
        if heartbeat:
            # From the interface's clock: when the UI thread stalls, the beats stop and
            # systemd restarts the kiosk.
            Clock.schedule_interval(lambda _dt: self.systemd.watchdog(), heartbeat)

    def _load(self) -> None:
        """Off the UI thread: read and validate content, start the engines."""
        seen = content_signature(self.settings.language_dir)
        try:
            # A broken tree's problems are logged there; visitors get the last good copy.
            library, _ = load_library_or_last_good(
                self.settings.language_dir,
                last_good_dir(self.settings.cache_dir, self.settings.language),
            )
        except ContentError as error:
            problems = [str(problem) for problem in error.problems]
            Clock.schedule_once(lambda _dt: self.show_content_error(problems))
            return
        except Exception as error:  # an unreadable tree must not become a traceback
            problems = [f"{type(error).__name__}: {error}"]
            Clock.schedule_once(lambda _dt: self.show_content_error(problems))
            return
        speaker, listener = self._start_engines(library, self._generation)
        usage = UsageLog(self.settings.usage_file)  # reads its file: here, off the UI thread
        self._content_seen = seen
        Clock.schedule_once(lambda _dt: self._ready(library, speaker, listener, usage))

    def _start_engines(self, library: Library, generation: int) -> tuple[Speaker, Listener]:
        """The speaker and listener for this content (text only if they cannot start)."""
        sink = self._sink_for(generation)
        try:
            return self.engines(self.settings, library, sink)
        except Exception as error:
            log.warning("ui: engines unavailable (%s)", error)
            return (NullSpeaker(sink, reason=str(error)),
                    NullListener(sink, reason=str(error)))

    def _control(self, library: Library, speaker: Speaker, listener: Listener,
                 usage: UsageLog) -> Controller:
        self.library, self.speaker, self.listener = library, speaker, listener
        controller = Controller(self.settings, library, clock=self.clock, usage=usage)
        controller.attach(speaker, listener)
        controller.subscribe(lambda _event: self._refresh())
        controller.subscribe(self._on_controller_event)
        self.controller = controller
        return controller

    def _ready(
        self, library: Library, speaker: Speaker, listener: Listener, usage: UsageLog
    ) -> None:
        controller = self._control(library, speaker, listener, usage)
        manager = self.root.manager
        pool = self.button_pool
        for screen in (WelcomeScreen(buttons_pool=pool), TopicScreen(buttons_pool=pool),
                       ReaderScreen(buttons_pool=pool, sentence_pool=self.sentence_pool),
                       HelpScreen(buttons_pool=pool)):
            self._screens[screen.name] = screen
            manager.add_widget(screen)
        for pending in self._pending:
            controller.on_engine_event(pending)
        self._pending.clear()
        self.root.staff.pin = self.settings.staff_pin
        self.root.staff.prompt = controller.text("status.staff_pin")
        self.root.staff.wrong = controller.text("status.staff_wrong_pin")
        self.root.staff.on_exit = self.staff_exit
        self.apply_state()
        Window.bind(on_flip=self._first_frame)
        # Content, engines and screens live as long as the app: keep them out of every
        # later garbage collection. A full collection walks every tracked object, and
        # with all of them in it took 50 ms of a frame.
        gc.freeze()
        self._start_prerender(speaker)

    def _start_prerender(self, speaker: Speaker) -> None:
        prerender = getattr(speaker, "prerender", None)
        if callable(prerender):
            threading.Thread(
                target=self._prerender, args=(prerender,), name="kiosk-prerender", daemon=True
            ).start()

    # ----- new content, taken when a visit ends -----------------------------------------

    def _on_controller_event(self, emitted: Event) -> None:
        if emitted.type is EventType.VISIT_ENDED and not self._reloading:
            self._reloading = True
            threading.Thread(target=self._reload_if_changed, name="kiosk-reload",
                             daemon=True).start()

    def _reload_if_changed(self) -> None:
        """Off the UI thread: if staff changed the content, load it and its engines."""
        language_dir = self.settings.language_dir
        keep = last_good_dir(self.settings.cache_dir, self.settings.language)
        seen = content_signature(language_dir)
        if not seen or seen == self._content_seen:
            if seen and not keep.is_dir():
                # The cache was deleted: the safety copy of the content is made again.
                with contextlib.suppress(Exception):
                    load_library_or_last_good(language_dir, keep)
            self._reloading = False
            return
        try:
            library, problems = load_library_or_last_good(language_dir, keep)
        except Exception as error:  # nothing good at all: keep what is shown
            problems, library = (str(error),), None
        if problems or library is None:
            # Logged once per edit (its problems were logged as it loaded); visitors keep
            # the content they had, and the next edit is looked at when a visit ends.
            log.warning("ui: new content in %s not taken: it has problems (kiosk validate)",
                        language_dir)
            self._content_seen, self._reloading = seen, False
            return
        generation = self._generation + 1
        speaker, listener = self._start_engines(library, generation)
        Clock.schedule_once(
            lambda _dt: self._switch(library, speaker, listener, seen, generation))

    def _switch(self, library: Library, speaker: Speaker, listener: Listener,
                seen: tuple[tuple[str, int, int], ...], generation: int) -> None:
        """On the UI thread: the new content and engines replace the old between visits."""
        old = self.controller
        if old is None or old.visit_active:
            # Someone came while it loaded: not under them. Tried again when this visit
            # ends (the content is still new then).
            threading.Thread(target=close_engines, args=(speaker, listener),
                             daemon=True).start()
            self._reloading = False
            return
        retired = (self.speaker, self.listener)
        self._generation = generation
        self._control(library, speaker, listener, old.usage)
        self._content_seen = seen
        self.apply_state()
        threading.Thread(target=close_engines, args=retired, name="kiosk-retire",
                         daemon=True).start()
        # The old content and engines were frozen out of garbage collection at start-up.
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        self._start_prerender(speaker)
        self._reloading = False
        log.info("ui: new content from %s is shown from this visit on",
                 self.settings.language_dir)

    def _prerender(self, prerender: Callable[..., Any]) -> None:
        try:
            prerender()
        except Exception as error:  # a cache that cannot fill only costs speed
            log.warning("ui: speech prerender failed (%s)", error)

    def _first_frame(self, *_args: Any) -> None:
        Window.unbind(on_flip=self._first_frame)
        self.interactive_at = time.perf_counter()
        self.systemd.ready("serving visitors")
        # Now that the window is up, build spare controls and sentences in idle frames, so
        # that opening a screen or a section does not build them all in one long frame.
        self.button_pool.fill_later()
        self.sentence_pool.fill_later()

    def show_content_error(self, problems: list[str]) -> None:
        """Shown and spoken instead of a traceback; the kiosk stays up for staff."""
        self.content_problems = problems
        # Up for staff to read the problems: a restart would not mend the content.
        self.systemd.ready("content problems: see the screen or kiosk validate")
        for problem in problems:
            log.error("ui: content problem %s", problem)
        screen = ContentErrorScreen()
        message = screen.show(self.settings.language_dir, problems)
        self.root.manager.add_widget(screen)
        self.root.manager.current = screen.name
        self.root.staff.pin = self.settings.staff_pin
        self.root.staff.prompt = "PIN"
        self.root.staff.wrong = "PIN?"
        self.root.staff.on_exit = self.staff_exit
        threading.Thread(
            target=self._speak_error, args=(message,), name="kiosk-error", daemon=True
        ).start()
        Window.bind(on_flip=self._first_frame)

    def _speak_error(self, message: str) -> None:
        empty = Library(self.settings.language_dir, (), {}, {})
        try:
            speaker, listener = self.engines(self.settings, empty, lambda _e: None)
            listener.close()  # nothing to listen for: only the message is spoken
            self.speaker = speaker
            speaker.speak([message])
        except Exception as error:
            log.warning("ui: could not speak the content error (%s)", error)

    # ----- engine events and state ------------------------------------------------

    def engine_sink(self, engine_event: Event) -> None:
        """Called from engine threads: hand the event to the UI thread."""
        Clock.schedule_once(lambda _dt: self._deliver(engine_event))

    def _sink_for(self, generation: int) -> EventSink:
        """The engine sink for one generation of engines: once new content has replaced
        them, their last events are dropped. (Through `engine_sink`, which a test may wrap
        to watch the engines.)"""
        def sink(engine_event: Event) -> None:
            if generation == self._generation:
                self.engine_sink(engine_event)
        return sink

    def _deliver(self, engine_event: Event) -> None:
        if self.controller is None:
            self._pending.append(engine_event)
        else:
            self.controller.on_engine_event(engine_event)

    def _tick(self, _dt: float) -> None:
        if self.controller is not None:
            self.controller.tick()

    def apply_state(self, *_args: Any) -> None:
        """Draw the controller's state: theme, screen, controls, banners, idle warning."""
        controller = self.controller
        if controller is None:
            return
        state = controller.state
        self.theme.update(Window.width, Window.height, state.text_scale, state.high_contrast)
        Window.clearcolor = self.theme.background
        screen = self._screens[str(state.screen)]
        screen.refresh(controller)
        if self.root.manager.current != screen.name:
            self.root.manager.current = screen.name
        self.status_text = state.status
        key = state.prompt_key
        # Not repeated where it already shows: as the screen's own text, in the idle warning or
        # "Did you mean", or in the banner at the top (a device problem says the same words).
        shown = key in _PROMPTS_SHOWN_BY_SCREEN or state.idle_seconds_left is not None \
            or state.maybe is not None or state.prompt == state.status
        self.prompt_text = "" if shown else state.prompt
        self.root.adjust.refresh(controller)
        self.root.question.refresh(controller)
        self.root.idle.refresh(controller)
        self.text_pacer.wake()  # a screen just shown may have text that waited while hidden

    # ----- touches (the widgets' TouchRouter) -----------------------------------------

    def touch_target(self, target: str) -> None:
        if self.controller is not None:
            self.controller.touch(target)

    def speaks_on_touch(self) -> bool:
        return self.controller is not None and self.controller.state.speech_mode

    def hear(self, text: str) -> None:
        if self.controller is not None:
            self.controller.read_aloud(text)

    # ----- keys and staff exit -----------------------------------------------------

    def _on_key_down(self, _window: Any, key: int, _scancode: Any, codepoint: Any,
                     _modifiers: Any) -> bool:
        """Every key is consumed: nothing reaches Kivy's own shortcuts (Escape quits)."""
        staff = self.root.staff
        if staff.open:
            if isinstance(codepoint, str) and codepoint.isdigit():
                staff.press(codepoint)
            elif key in (13, 271):
                staff.press("enter")
            elif key == 8:
                staff.press("back")
            elif key in SWALLOWED:
                staff.press("cancel")
            return True
        controller = self.controller
        if controller is None:
            return True
        action = self.keymap.get(key)
        if action is not None:
            controller.key(action)
        else:
            controller.note_activity("keypad")
        return True

    def open_staff_panel(self) -> None:
        if self.settings.staff_pin:
            self.root.staff.show()

    def staff_exit(self) -> None:
        log.info("ui: staff exit")
        self.leave()

    def leave(self) -> None:
        """Close the kiosk past its lockdown (staff exit, or the system stopping it)."""
        self.lock.unlock()
        self.stop()

    def on_stop(self) -> None:
        if self.controller is not None:
            self.controller.usage.save()  # the visit in progress counts too
        close_engines(self.speaker, self.listener)

    def screen(self, name: str | Screen) -> KioskScreen:
        return self._screens[str(name)]


__all__ = ["KioskApp"]
