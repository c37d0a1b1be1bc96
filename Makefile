# Set-up and everyday commands. `make run` and `make test` install whatever is missing first
# (Debian packages, then .venv with the package and its extras) and are safe to run twice.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

# espeak-ng: speech; pulseaudio(-utils): the audio server and parec/pactl; xvfb/xauth: a virtual
# display; portaudio19-dev: PyAudio for the microphone; Mesa and SDL's runtime needs: Kivy's window.
# xdotool: real key presses into the window in the UI tests. cage, xinit: the appliance's
# sessions (`kiosk install`), whose units the tests check with systemd-analyze verify;
# xwayland: the kiosk's window under cage; grim: the cage test's screenshots.
APT_PACKAGES := espeak-ng pulseaudio pulseaudio-utils alsa-utils libasound2-plugins \
	libportaudio2 portaudio19-dev xvfb xauth libgl1 libegl1 libgl1-mesa-dri libgles2 \
	libmtdev1 libxrender1 libxi6 libxxf86vm1 fontconfig gcc python3-dev python3-venv sox xdotool \
	cage xinit xwayland grim

.PHONY: run test system venv lint typecheck benchmarks screenshots soak clean

system:
	@missing=""; for p in $(APT_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "Installing system packages:$$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(STAMP): pyproject.toml
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $(STAMP)

venv: system $(STAMP)

test: venv
	$(BIN)/python -m pytest

# ruff, mypy (strict) and the import contracts in pyproject.toml (docs/architecture.md).
lint: venv
	$(BIN)/ruff check kiosk tests benchmarks
	$(BIN)/mypy kiosk tests benchmarks
	$(BIN)/lint-imports

run: venv
	@if [ -z "$$DISPLAY" ] && [ -z "$$WAYLAND_DISPLAY" ]; then \
		echo "No display found: starting the kiosk on a virtual display (Xvfb)."; \
		echo "Connect a screen and run 'make run' from its session to see it."; \
		exec xvfb-run -a -s "-screen 0 1920x1080x24" $(BIN)/kiosk; \
	else \
		exec $(BIN)/kiosk; \
	fi

# 2,000 scripted visits to one kiosk on the real parts: its memory, threads and descriptors.
soak: venv
	$(BIN)/python benchmarks/soak.py --visits 2000

# Regenerates docs/screenshots/ (the docs' pictures and tests/ui/test_screenshots.py's references)
# from a real kiosk window in each orientation, on private Xvfb displays (tests/ui/screenshots.py).
screenshots: venv
	$(BIN)/python -m tests.ui.screenshots

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
