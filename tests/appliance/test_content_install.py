"""`kiosk content install`: content checked whole, then switched to in one step."""

from __future__ import annotations

import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from kiosk.cli import main
from kiosk.config import BUNDLED_CONTENT
from kiosk.content_install import ContentInstallError, install_content

MARK = "en/topics/calcifications.md"


@pytest.fixture
def live(tmp_path: Path) -> Path:
    target = tmp_path / "live"
    shutil.copytree(BUNDLED_CONTENT, target)
    return target


def _edited(tmp_path: Path, name: str, change: str) -> Path:
    source = tmp_path / name
    shutil.copytree(BUNDLED_CONTENT, source)
    topic = source / MARK
    topic.write_text(topic.read_text().replace("Calcifications", change, 1))
    return source


def test_good_content_replaces_the_live_folder_and_the_old_is_kept(
    tmp_path: Path, live: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (live / MARK).read_text()
    source = _edited(tmp_path, "new", "Breast calcifications, edited,")
    assert main(["content", "install", str(source), "--to", str(live)]) == 0
    assert "new content installed" in capsys.readouterr().out
    assert (live / MARK).read_text() == (source / MARK).read_text() != before
    assert (tmp_path / "live.previous" / MARK).read_text() == before
    assert not list(tmp_path.glob(".live.*")), "no staging folder left behind"


def test_a_broken_edit_changes_nothing_and_says_why(
    tmp_path: Path, live: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (live / MARK).read_text()
    source = _edited(tmp_path, "broken", "Calcifications")
    (source / MARK).write_text("no front matter\n")
    assert main(["content", "install", str(source), "--to", str(live)]) == 1
    err = capsys.readouterr().err
    assert "nothing changed" in err and "front-matter-missing" in err
    assert (live / MARK).read_text() == before
    assert not (tmp_path / "live.previous").exists()


def test_content_from_a_git_repository_holding_content(tmp_path: Path, live: Path) -> None:
    if shutil.which("git") is None:
        pytest.fail("git is needed")
    repository = tmp_path / "repository"
    shutil.copytree(_edited(tmp_path, "edit", "Calcifications, from git,"),
                    repository / "content")
    for command in (["init", "-q"], ["add", "."],
                    ["-c", "user.name=Staff", "-c", "user.email=staff@clinic.invalid",
                     "commit", "-q", "-m", "content"]):
        subprocess.run(["git", "-C", str(repository), *command], check=True)
    install_content(f"file://{repository}", live, "en")
    assert "Calcifications, from git," in (live / MARK).read_text()
    assert not (live / ".git").exists()


@pytest.mark.parametrize("layout", ["empty", "only another language"])
def test_a_source_without_this_kiosks_content_is_refused(
    tmp_path: Path, live: Path, layout: str
) -> None:
    source = tmp_path / "source"
    source.mkdir()
    if layout == "only another language":
        shutil.copytree(BUNDLED_CONTENT / "en", source / "fr")
    with pytest.raises(ContentInstallError, match=r"no language folder|no en/ folder"):
        install_content(str(source), live, "en")
    assert (live / MARK).is_file()


def test_the_live_folder_is_never_missing_while_content_is_installed(
    tmp_path: Path, live: Path
) -> None:
    sources = [_edited(tmp_path, f"edit{n}", f"Calcifications {n}") for n in range(2)]
    missing: list[int] = []
    done = threading.Event()

    def reader() -> None:
        while not done.is_set():
            if not (live / MARK).is_file():
                missing.append(1)

    watching = threading.Thread(target=reader)
    watching.start()
    try:
        for round_ in range(12):
            install_content(str(sources[round_ % 2]), live, "en")
    finally:
        done.set()
        watching.join()
    assert missing == [], f"the content folder was missing {len(missing)} times"
    assert "Calcifications 1" in (live / MARK).read_text()
