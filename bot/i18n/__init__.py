"""Interface languages: gettext catalogues (Babel), negotiation, plural forms, dates, bidi."""

from bot.i18n.bidi import anchor_line, anchor_text, isolate
from bot.i18n.lang import Lang
from bot.i18n.negotiate import negotiate

__all__ = ["Lang", "anchor_line", "anchor_text", "isolate", "negotiate"]
