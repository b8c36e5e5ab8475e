"""The dialogue engine: a pure state machine shared by every chat platform."""

from bot.engine.engine import Engine, clean_text
from bot.engine.state import SCHEMA_VERSION, State

__all__ = ["SCHEMA_VERSION", "Engine", "State", "clean_text"]
