"""A short soak (`make soak` runs 2,000 visits): 200 scripted visits to one kiosk on the real
parts (window, speaker, listener, recogniser), after which it is the same size."""

from __future__ import annotations

import pytest

from benchmarks.soak import RSS_GROWTH_TARGET_MB, VOICE_EVERY, report, run

pytestmark = [pytest.mark.real_audio, pytest.mark.real_window, pytest.mark.slow]

VISITS = 200


def test_two_hundred_visits_leave_threads_descriptors_and_memory_flat() -> None:
    result = run(VISITS)
    report(result)
    done, samples = result["done"], result["samples"]
    assert done["visits"] == VISITS
    assert done["voice"] == VISITS // VOICE_EVERY
    assert done["heard"] >= done["voice"] // 2, "the spoken requests were not acted on"
    warm, end = samples["warm_up"], samples["end"]
    assert end["threads"] <= warm["threads"], "threads grew"
    assert end["fds"] <= warm["fds"], "open descriptors grew"
    # The kiosk process's own memory: the 2,000-visit target, held here over 200 visits (a
    # steady leak of 50 KB a visit fails it; `make soak` gives the full figure).
    growth_mb = end["rss_mb"] - warm["rss_mb"]
    assert growth_mb < RSS_GROWTH_TARGET_MB, f"{growth_mb:+.1f} MB"
