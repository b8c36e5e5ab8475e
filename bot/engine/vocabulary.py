"""Words that steer the conversation, in every language: commands, yes/no, "more".

The words are interface strings, so translators provide them through gettext like any other
text: each msgid below is a comma-separated list, and a translation lists the words people
write in that language. All languages are active at once, so "/start" or "neu" works in the
Arabic interface too. Commands must be the whole message (after normalisation), never a
word inside a longer sentence, so that "I want to go back to school" is not a command.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot.i18n import Lang
from bot.matching.normalise import normalise


def N_(message: str) -> str:
    """Mark a string for extraction without translating it here."""
    return message


# NOTE: translators: words (comma-separated) that start the conversation over.
RESTART = N_("start, restart, new search, menu, begin again, reset")
# NOTE: translators: words (comma-separated) that go back one question.
BACK = N_("back, go back, previous, undo")
# NOTE: translators: words (comma-separated) that change the interface language.
LANGUAGE = N_("language, change language, languages")
# NOTE: translators: words (comma-separated) that ask for help with the bot.
HELP = N_("help, how does this work, commands")
# NOTE: translators: words (comma-separated) that delete everything the bot stored.
FORGET = N_("forget, forget me, delete my data, delete")
# NOTE: translators: words (comma-separated) that ask what the bot stores and for how long.
PRIVACY = N_("privacy, data protection, my data, what do you store")
# NOTE: translators: words (comma-separated) that ask for a message about the bot to forward.
SHARE = N_("share, invite, tell a friend, recommend")
# NOTE: translators: words (comma-separated) for an offer's details to show staff at an office.
COUNTER = N_("counter, show at the counter, for the office")
# NOTE: translators: words (comma-separated) that say "I am searching for another person".
HELPER = N_("i am helping someone, helping someone, for someone else, helper")
# NOTE: translators: words (comma-separated) that ask for more results.
MORE = N_("more, show more, next, more offers")
# NOTE: translators: words (comma-separated) that mean yes.
YES = N_("yes, y, yeah, ok, okay, sure, correct, right")
# NOTE: translators: words (comma-separated) that mean no.
NO = N_("no, n, nope, not, wrong")

#: What the commands do, for a platform's command menu (Telegram's setMyCommands).
COMMAND_DESCRIPTIONS: Mapping[str, str] = {
    # NOTE: translators: a short menu entry for the command that starts over.
    "start": N_("Start a new search"),
    # NOTE: translators: a short menu entry for the command that goes back.
    "back": N_("Go back one question"),
    # NOTE: translators: a short menu entry for the command that changes the language.
    "language": N_("Change the language"),
    # NOTE: translators: a short menu entry for the help command.
    "help": N_("How this bot works"),
    # NOTE: translators: a short menu entry for the command that tells what is stored.
    "privacy": N_("What is stored about me"),
    # NOTE: translators: a short menu entry for the command that deletes the conversation.
    "forget": N_("Delete everything stored about me"),
    # NOTE: translators: a short menu entry for the command that gives a message to forward.
    "share": N_("Tell someone about this bot"),
}

COMMANDS: Mapping[str, str] = {
    "restart": RESTART, "back": BACK, "language": LANGUAGE, "help": HELP, "privacy": PRIVACY,
    "forget": FORGET, "share": SHARE, "counter": COUNTER, "helper": HELPER,
}


@dataclass(frozen=True)
class Vocabulary:
    """Normalised word -> meaning, gathered from every interface language."""

    commands: Mapping[str, str]
    more: frozenset[str]
    yes: frozenset[str]
    no: frozenset[str]

    @classmethod
    def build(cls, languages: Iterable[Lang]) -> Vocabulary:
        languages = list(languages)

        def words(msgid: str) -> set[str]:
            found = set(_split(msgid))
            for lang in languages:
                found.update(_split(lang._(msgid)))
            return found

        commands = {w: name for name, msgid in COMMANDS.items() for w in words(msgid)}
        return cls(commands, frozenset(words(MORE)), frozenset(words(YES)),
                   frozenset(words(NO)))

    def command(self, text: str) -> str | None:
        return self.commands.get(normalise(text))

    def first_word(self, lang: Lang, msgid: str) -> str:
        """The word to show for a command in `lang` (the first of its list)."""
        return lang._(msgid).split(",")[0].strip()


def _split(words: str) -> list[str]:
    return [w for w in (normalise(part) for part in words.split(",")) if w]
