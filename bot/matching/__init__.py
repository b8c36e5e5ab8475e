"""Understanding free text: normalisation, the phrase index, topics and language guesses."""

from bot.matching.index import Hit, PhraseIndex
from bot.matching.language import guess_language
from bot.matching.normalise import normalise
from bot.matching.topics import TopicMatch, TopicMatcher, TopicScore

__all__ = ["Hit", "PhraseIndex", "TopicMatch", "TopicMatcher", "TopicScore", "guess_language",
           "normalise"]
