"""The content model: a language's Library of Topic -> Section -> Sentence, its interface strings
and its lexicon, as loaded and validated by kiosk.content_parser (kiosk.last_good keeps the
last copy that loaded cleanly)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.problems import ContentProblem

#: A section longer than this is too long to listen to in one go (about 75 s at 150 wpm).
MAX_SECTION_WORDS = 190
#: Headings are read on buttons and said aloud: keep them short.
MAX_TITLE_CHARS = 40


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence (or one list item) of a section: the unit that is spoken and highlighted."""

    id: str
    text: str
    line: int
    is_list_item: bool = False


@dataclass(frozen=True, slots=True)
class Section:
    """A titled part of a topic, short enough to listen to in one go."""

    id: str
    topic_id: str
    title: str
    sentences: tuple[Sentence, ...]
    aliases: tuple[str, ...]
    line: int

    @property
    def text(self) -> str:
        """The whole section as one string."""
        return " ".join(sentence.text for sentence in self.sentences)

    @property
    def word_count(self) -> int:
        return len(self.text.split())


@dataclass(frozen=True, slots=True)
class Topic:
    """One subject on the welcome screen, with its sections in reading order."""

    id: str
    title: str
    order: int
    aliases: tuple[str, ...]
    sections: tuple[Section, ...]
    source: Path

    def section(self, section_id: str) -> Section:
        for section in self.sections:
            if section.id == section_id:
                return section
        raise KeyError(f"{self.id}/{section_id}")


@dataclass(frozen=True, slots=True)
class LexiconEntry:
    """How to say a word (`say`, text for the synthesiser; `ipa`, phonemes for the natural
    voice) and hear it (`phones`, ARPAbet)."""

    word: str
    say: str | None
    phones: str | None
    line: int
    #: IPA as espeak-ng writes it (Piper's phoneme set), given to Piper as a [[ ]] block.
    ipa: str | None = None


@dataclass(frozen=True, slots=True)
class Library:
    """All content for one language, ready to show, speak and understand."""

    root: Path
    topics: tuple[Topic, ...]
    strings: Mapping[str, str]
    lexicon: Mapping[str, LexiconEntry] = field(default_factory=dict)

    def topic(self, topic_id: str) -> Topic:
        for topic in self.topics:
            if topic.id == topic_id:
                return topic
        raise KeyError(topic_id)

    def find_topic(self, topic_id: str | None) -> Topic | None:
        """The topic with this id, or None (no id, or one the content does not have)."""
        return next((topic for topic in self.topics if topic.id == topic_id), None)

    def section(self, topic_id: str, section_id: str) -> Section:
        return self.topic(topic_id).section(section_id)

    def sections(self) -> Iterator[Section]:
        for topic in self.topics:
            yield from topic.sections

    def text(self, key: str, **values: object) -> str:
        """An interface string by its `group.name` key, with placeholders filled in."""
        template = self.strings[key]
        return template.format(**values) if values else template


class ContentError(Exception):
    """The content tree could not be loaded; `problems` says every reason."""

    code = "content"

    def __init__(self, problems: list[ContentProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in problems))
