"""What a screenshot of a kiosk that fills its screen looks like, whatever shows the screen."""

from __future__ import annotations

import numpy as np

#: Darker than any colour the kiosk paints its background with, in either contrast mode.
BLACK = 12


def assert_fills_screen(pixels: np.ndarray, width: int, height: int) -> None:
    """The screen is `width` x `height`, with no black corner or band (no part the window
    misses) and the welcome title, dark text on the light background, at the top left."""
    assert pixels.shape == (height, width, 3), f"a {pixels.shape} screen, not {width}x{height}"
    black = pixels.max(axis=2) <= BLACK
    corner = 24
    for name, patch in {"top left": black[:corner, :corner], "top right": black[:corner, -corner:],
                        "bottom left": black[-corner:, :corner],
                        "bottom right": black[-corner:, -corner:]}.items():
        assert not patch.any(), f"black at the {name} corner: the window does not reach it"
    assert not black.all(axis=1).any(), "a black band across the screen"
    assert not black.all(axis=0).any(), "a black band down the screen"
    # Under the "Sound is not available" banner (two lines on a narrow screen) the title ends
    # some 190 px down.
    title_box = pixels[: max(height // 8, 200), : width // 3]
    dark_text = (title_box.max(axis=2) < 90) & ~(title_box.max(axis=2) <= BLACK)
    assert np.count_nonzero(dark_text) > 500, "no title at the top left of the screen"
