"""Every screen, in both orientations, looks as its reference in docs/screenshots/ does.

The screen tour (tests/ui/screenshots.py) renders each screen deterministically in a real
window; each screenshot is compared with the committed reference of the same name, pixel by
pixel. A pixel differs when one of its channels is more than PIXEL_THRESHOLD apart; a screen
fails when more than MAX_SHARE of its pixels differ. The images of a failure (what was drawn,
the reference, and the differences in red) are written to a temporary folder named in the
message, never into the repository.

After an intended change to a screen, `make screenshots` regenerates every reference; look at
them (git diff shows which changed) and commit them with the change.
"""

from __future__ import annotations

import os
import tempfile
import time
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from tests.ui.runner import Report
from tests.ui.screenshots import SHOTS, SIZES, session_tours, shot_path

pytestmark = [pytest.mark.real_window, pytest.mark.slow]

#: A channel difference (0-255) above which a pixel counts as changed: the edges of glyphs
#: that another rasteriser might round differently stay under it, a changed colour does not.
PIXEL_THRESHOLD = 32
#: The share of a screen's pixels that may differ: 51 pixels of 1920x1080. Seven tours here,
#: three of them with two busy processes beside them on the two cores, drew every screen the
#: same to the pixel (docs/ui.md); one letter of body text changed is 85-150 pixels, a digit
#: in "Section 2 of 10" about 350.
MAX_SHARE = 0.000025


@dataclass(frozen=True)
class Difference:
    """How a screenshot differs from its reference."""

    share: float  # of the pixels, differing by more than PIXEL_THRESHOLD
    pixels: int
    largest: int  # the largest channel difference anywhere
    box: tuple[int, int, int, int] | None  # left, top, right, bottom of the differing pixels
    mask: np.ndarray  # True where a pixel differs

    def fails(self) -> bool:
        return self.share > MAX_SHARE


def compare(drawn: np.ndarray, reference: np.ndarray) -> Difference:
    """Pixel differences between two RGB images of the same size."""
    apart = np.abs(drawn.astype(np.int16) - reference.astype(np.int16)).max(axis=2)
    mask = apart > PIXEL_THRESHOLD
    pixels = int(mask.sum())
    box = None
    if pixels:
        rows, cols = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
        box = (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)
    return Difference(pixels / mask.size, pixels, int(apart.max()), box, mask)


def rgb(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def save_for_a_person(folder: Path, stem: str, drawn: np.ndarray, reference: np.ndarray,
                      mask: np.ndarray | None) -> Path:
    """What was drawn, the reference, and (same sizes) the reference faded with the
    differing pixels in red: `stem`.drawn.png, .reference.png, .difference.png."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(drawn).save(folder / f"{stem}.drawn.png")
    Image.fromarray(reference).save(folder / f"{stem}.reference.png")
    if mask is not None:
        faded = (reference.astype(np.uint16) + 3 * 255) // 4
        faded[mask] = (255, 0, 0)
        Image.fromarray(faded.astype(np.uint8)).save(folder / f"{stem}.difference.png")
    return folder


@pytest.fixture(scope="module")
def tours(request: pytest.FixtureRequest) -> dict[tuple[int, int], Future[Report]]:
    return session_tours(request)


@pytest.fixture(scope="module")
def differences() -> Path:
    """Where a failure's images go, made at the first failure: a folder of its own in the
    temporary directory (pytest's own are deleted by the next few pytest runs)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path(tempfile.gettempdir()) / "kiosk-screenshot-differences" / f"{stamp}-{os.getpid()}"


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
@pytest.mark.parametrize("name", SHOTS)
def test_screen_matches_its_reference(
    name: str, size: tuple[int, int], tours: dict[tuple[int, int], Future[Report]],
    differences: Path,
) -> None:
    stem = f"{name}-{size[0]}x{size[1]}"
    taken = tours[size].result().data["screenshots"].get(name)
    assert taken, f"{stem}: the screen tour took no screenshot of it"
    reference_path = shot_path(name, size)
    assert reference_path.is_file(), (
        f"{stem}: no reference {reference_path.relative_to(shot_path(name, size).parents[2])}: "
        "run `make screenshots`, look at it and commit it")
    drawn, reference = rgb(Path(taken)), rgb(reference_path)
    if drawn.shape != reference.shape:
        folder = save_for_a_person(differences, stem, drawn, reference, None)
        pytest.fail(f"{stem}: drawn {drawn.shape[1]}x{drawn.shape[0]}, reference "
                    f"{reference.shape[1]}x{reference.shape[0]}; both in {folder}")
    difference = compare(drawn, reference)
    if difference.fails():
        folder = save_for_a_person(differences, stem, drawn, reference, difference.mask)
        pytest.fail(
            f"{stem}: {difference.share:.2%} of the pixels differ from the reference "
            f"({difference.pixels} pixels by more than {PIXEL_THRESHOLD}/255, at most "
            f"{difference.largest}; allowed {MAX_SHARE:.4%}), within {difference.box} "
            f"(left, top, right, bottom). See {folder}/{stem}.difference.png (.drawn, "
            ".reference). If the change is intended: `make screenshots`, and commit them.")


def test_the_tour_drew_no_error(tours: dict[tuple[int, int], Future[Report]]) -> None:
    """The tour reached its end in both orientations (a failed run raises here)."""
    for size in SIZES:
        report = tours[size].result()
        assert set(report.data["screenshots"]) == set(SHOTS), report.out
