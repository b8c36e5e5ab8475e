"""What is missing or stale in the catalogue, for the staff who keep it: `wegweiser content report`.

The loader refuses a catalogue that is *wrong*; this report lists what is *incomplete* in a
catalogue that loads: texts not yet translated, offers whose facts nobody vouches for any more
or soon won't, offers nobody looks after, topics and parts of town left without an offer. None
of these stops the bot, so none of them would otherwise be noticed until a newcomer meets them.

Pure: `build_report` reads a loaded Catalogue and a date (never the clock, so a report can be
reproduced for any day), and the renderers turn the result into text, HTML or JSON. Printing
and reading files is the command line's business (bot/cli.py).
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from bot.catalogue.catalogue import Catalogue
from bot.catalogue.model import Offer, pick

#: The translatable fields of each kind of entry, named as in translations/<lang>.yaml
#: (the TypedDicts in model.py), so a line of the report says what a translator has to add.
#: tests/test_report.py checks this against the TypedDicts: a new translatable field must be
#: reported too.
TRANSLATABLE: Mapping[str, tuple[str, ...]] = {
    "catalogue": ("name", "notice"),
    "topic": ("name", "synonyms"),
    "question": ("text", "helper_text"),
    "option": ("label", "synonyms"),
    "offer": ("title", "description", "eligibility", "cost_note", "bring"),
}


@dataclass(frozen=True)
class MissingText:
    """One text that exists (in German or English) but not in a language.

    `id` is the entry's id; an option is written `question/option`, as staff find it in
    questions.yaml. The catalogue's own texts have the catalogue's id.
    """

    kind: str
    id: str
    field: str


@dataclass(frozen=True)
class LanguageGaps:
    """How complete one language is: `total` texts are expected, `missing` lists the others."""

    lang: str
    total: int
    missing: tuple[MissingText, ...]

    @property
    def present(self) -> int:
        return self.total - len(self.missing)


@dataclass(frozen=True)
class OfferNote:
    """An offer in one of the upkeep lists, with what a colleague needs to find and judge it.

    The catalogue does not remember file and line of an offer once loaded; its id is unique
    across all files and the provider names the file (offers/<provider>.yaml).
    """

    id: str
    provider: str
    title: str  # German: the staff's working language
    date: date | None  # the date the list is about (valid_until, ends or reviewed); None: unset


@dataclass(frozen=True)
class DistrictGap:
    """A topic for which people in these districts are offered nothing in their part of town."""

    topic: str
    districts: tuple[str, ...]


@dataclass(frozen=True)
class Report:
    catalogue: str
    version: str
    today: date
    expiring_within: int
    review_after: int
    offer_count: int
    topic_count: int
    languages: tuple[LanguageGaps, ...]
    #: Hidden since valid_until passed: nobody vouches for the facts any more.
    expired: tuple[OfferNote, ...]
    #: valid_until is today or within `expiring_within` days: check and extend it now.
    expiring: tuple[OfferNote, ...]
    #: Hidden since its end date passed (a finished course): remove it or add new dates.
    ended: tuple[OfferNote, ...]
    without_owner: tuple[OfferNote, ...]
    #: Never reviewed, or last reviewed more than `review_after` days ago.
    review_due: tuple[OfferNote, ...]
    #: Topics (id, German name) that no currently visible offer has.
    topics_without_offers: tuple[tuple[str, str], ...]
    district_gaps: tuple[DistrictGap, ...]
    #: Visible offers naming no district (neither they nor their provider): they count as
    #: city-wide, i.e. as covering every district, when looking for district gaps.
    citywide: tuple[str, ...]

    @property
    def review_before(self) -> date:
        """Offers reviewed before this day are due for review."""
        return self.today - timedelta(days=self.review_after)


def _localised(catalogue: Catalogue) -> Iterator[tuple[MissingText, Mapping[str, object]]]:
    """Every localised text of the catalogue that exists at all, with its texts per language.

    A field that is not given (an offer without `bring`) is not expected in any language.
    """
    meta = catalogue.meta
    for name, texts in (("name", meta.name), ("notice", meta.notice)):
        if texts:
            yield MissingText("catalogue", meta.id, name), texts
    for topic in catalogue.topics.values():
        yield MissingText("topic", topic.id, "name"), topic.name
        yield MissingText("topic", topic.id, "synonyms"), topic.synonyms
    for question in catalogue.questions:
        yield MissingText("question", question.id, "text"), question.text
        if question.helper_text:
            yield MissingText("question", question.id, "helper_text"), question.helper_text
        for option in question.options:
            oid = f"{question.id}/{option.id}"
            yield MissingText("option", oid, "label"), option.label
            if option.synonyms:
                yield MissingText("option", oid, "synonyms"), option.synonyms
    for offer in catalogue.offers:
        fields = {
            "title": offer.title,
            "description": offer.description,
            "eligibility": offer.audience.eligibility,
            "cost_note": offer.cost.note if offer.cost else None,
            "bring": offer.bring,
        }
        for name, texts in fields.items():
            if texts:
                yield MissingText("offer", offer.id, name), texts


def _language_gaps(catalogue: Catalogue, languages: Sequence[str]) -> tuple[LanguageGaps, ...]:
    texts = list(_localised(catalogue))
    return tuple(
        LanguageGaps(lang, len(texts), tuple(what for what, by_lang in texts
                                             if not by_lang.get(lang)))
        for lang in languages)


def _note(offer: Offer, when: date | None) -> OfferNote:
    return OfferNote(offer.id, offer.provider_name, pick(offer.title, "de", "de"), when)


def _district_gaps(catalogue: Catalogue, today: date
                   ) -> tuple[tuple[DistrictGap, ...], tuple[str, ...]]:
    """Districts left without a nearby offer, for the topics where the bot asks about districts.

    The engine uses districts only through a question's `prefer: districts:` (the offers in
    the person's part of town come first; nothing is hidden). So district matters for a topic
    exactly when a question with such an option is asked for it, and the districts to cover
    are those its options name. An offer covers its own district, or its provider's; an offer
    with neither is not tied to a part of town (the Jobcenter, an online course) and counts as
    covering every district. A topic without any offer is listed once, as such, not here.
    """
    order = {name: i for i, name in enumerate(catalogue.meta.districts)}
    citywide: dict[str, None] = {}
    gaps = []
    for topic_id in catalogue.topics:
        asked: set[str] = set()
        for question in catalogue.questions:
            if question.applies_to(topic_id):
                for option in question.options:
                    asked.update(option.prefer.districts if option.prefer else ())
        offers = catalogue.offers_for(topic_id, today)
        covered = {offer.where[1] for offer in offers}
        citywide.update((o.id, None) for o in offers if o.where[1] is None)
        if not asked or not offers or None in covered:  # no offer: a topic gap already
            continue
        missing = sorted(asked - covered, key=lambda name: (order.get(name, len(order)), name))
        if missing:
            gaps.append(DistrictGap(topic_id, tuple(missing)))
    listed = [o.id for o in catalogue.offers if o.id in citywide]  # catalogue order
    return tuple(gaps), tuple(listed)


def build_report(catalogue: Catalogue, languages: Sequence[str], today: date,
                 expiring_within: int = 30, review_after: int = 365) -> Report:
    """Everything missing or stale in `catalogue` as of `today`.

    `languages` are the languages to check, normally every interface language; German and
    English are required by the loader, so they are normally complete, but listed all the same
    so that the table shows every language the bot speaks.
    """
    offers = catalogue.offers
    horizon = today + timedelta(days=expiring_within)
    review_before = today - timedelta(days=review_after)
    gaps, citywide = _district_gaps(catalogue, today)
    return Report(
        catalogue=catalogue.meta.id,
        version=catalogue.meta.version,
        today=today,
        expiring_within=expiring_within,
        review_after=review_after,
        offer_count=len(offers),
        topic_count=len(catalogue.topics),
        languages=_language_gaps(catalogue, languages),
        expired=tuple(_note(o, o.valid_until) for o in offers
                      if o.valid_until is not None and o.valid_until < today),
        expiring=tuple(_note(o, o.valid_until) for o in offers
                       if o.valid_until is not None and today <= o.valid_until <= horizon),
        ended=tuple(_note(o, o.ends) for o in offers if o.ends is not None and o.ends < today),
        without_owner=tuple(_note(o, None) for o in offers if not o.owner),
        review_due=tuple(_note(o, o.reviewed) for o in offers
                         if o.reviewed is None or o.reviewed < review_before),
        topics_without_offers=tuple((t.id, pick(t.name, "de", "de"))
                                    for t in catalogue.topics.values()
                                    if not catalogue.offers_for(t.id, today)),
        district_gaps=gaps,
        citywide=citywide,
    )


# -- rendering ---------------------------------------------------------------------------------

def _offer_sections(report: Report) -> list[tuple[str, str, str, tuple[OfferNote, ...]]]:
    """(JSON key, heading, date column, offers) of each offer list, in reading order."""
    return [
        ("expired", "Offers past valid_until (hidden)", "valid_until", report.expired),
        ("expiring", f"Offers whose valid_until is within {report.expiring_within} days",
         "valid_until", report.expiring),
        ("ended", "Offers past their end date (hidden)", "ends", report.ended),
        ("without_owner", "Offers without an owner", "", report.without_owner),
        ("review_due", f"Offers to review (reviewed missing or before "
                       f"{report.review_before.isoformat()})", "reviewed", report.review_due),
    ]


def _missing_by_entry(missing: Sequence[MissingText]) -> list[tuple[str, str, list[str]]]:
    """(kind, id, fields) per entry, so an offer missing three texts takes one line."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for item in missing:
        grouped.setdefault((item.kind, item.id), []).append(item.field)
    return [(kind, id_, fields) for (kind, id_), fields in grouped.items()]


def _table(rows: Sequence[Sequence[str]], indent: str = "  ") -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [(indent + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))
             ).rstrip() for row in rows]


def _wrap(head: str, names: Sequence[str], width: int = 100) -> list[str]:
    """`head` and the names, comma-separated, over as many lines as needed, never breaking a
    name such as "Berliner Chaussee" in two."""
    lines, line = [], head
    for i, name in enumerate(names):
        piece = name + ("," if i < len(names) - 1 else "")
        if line != head and len(line) + len(piece) > width:
            lines.append(line.rstrip())
            line = "    "
        line += piece + " "
    return [*lines, line.rstrip()]


def _percent(gaps: LanguageGaps) -> str:
    if not gaps.total:
        return "100%"
    share = gaps.present * 100 // gaps.total  # rounded down: 99.9% is not complete
    return f"{share}%"


def render_text(report: Report) -> str:
    """A report for the terminal: a table per language, then each list with the offers' ids."""
    out = [f"Content report: {report.catalogue} (version {report.version}), "
           f"as of {report.today.isoformat()}",
           f"{report.offer_count} offers, {report.topic_count} topics", ""]
    out.append("Translations")
    rows = [("language", "present", "missing", "complete")]
    rows += [(g.lang, f"{g.present}/{g.total}", str(len(g.missing)), _percent(g))
             for g in report.languages]
    out += _table(rows)
    for gaps in report.languages:
        if gaps.missing:
            out += ["", f"  missing in {gaps.lang} ({len(gaps.missing)}):"]
            out += [f"    {kind} {id_}: {', '.join(fields)}"
                    for kind, id_, fields in _missing_by_entry(gaps.missing)]
    for _, heading, date_column, notes in _offer_sections(report):
        out += ["", f"{heading}: {len(notes)}"]
        if notes:
            if date_column:
                out += _table([("id", date_column, "provider")] + [
                    (n.id, n.date.isoformat() if n.date else "never", n.provider)
                    for n in notes])
            else:
                out += _table([("id", "provider")] + [(n.id, n.provider) for n in notes])
    out += ["", f"Topics without a current offer: {len(report.topics_without_offers)}"]
    out += [f"  {tid} ({name})" for tid, name in report.topics_without_offers]
    out += ["", f"Districts without an offer of a topic: {len(report.district_gaps)} topic(s)",
            f"  ({len(report.citywide)} offers name no district and count as city-wide)"]
    for gap in report.district_gaps:
        out += _wrap(f"  {gap.topic}: ", gap.districts)
    return "\n".join(out) + "\n"


def report_data(report: Report) -> dict[str, Any]:
    """The report as plain JSON-ready data; the keys are stable, for scripts and CI."""
    def notes(items: tuple[OfferNote, ...]) -> list[dict[str, Any]]:
        return [{"id": n.id, "provider": n.provider, "title": n.title,
                 "date": n.date.isoformat() if n.date else None} for n in items]

    return {
        "catalogue": report.catalogue,
        "version": report.version,
        "today": report.today.isoformat(),
        "expiring_within": report.expiring_within,
        "review_after": report.review_after,
        "counts": {"offers": report.offer_count, "topics": report.topic_count},
        "languages": {
            g.lang: {"total": g.total, "present": g.present,
                     "missing": [{"kind": m.kind, "id": m.id, "field": m.field}
                                 for m in g.missing]}
            for g in report.languages},
        "offers": {key: notes(items) for key, _, _, items in _offer_sections(report)},
        "topics_without_offers": [tid for tid, _ in report.topics_without_offers],
        "district_gaps": {gap.topic: list(gap.districts) for gap in report.district_gaps},
        "citywide_offers": list(report.citywide),
    }


def render_json(report: Report) -> str:
    return json.dumps(report_data(report), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; max-width: 70rem; color: #222; }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
th, td { border: 1px solid #ccc; padding: .25rem .6rem; text-align: start; vertical-align: top; }
th { background: #f3f3f3; }
td.num { text-align: end; font-variant-numeric: tabular-nums; }
.none { color: #666; }
h2 { margin-top: 2rem; border-bottom: 1px solid #ddd; }
code { font-size: .95em; }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A table; the cells are already HTML (each caller escapes what it puts in)."""
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _id_cell(text: str) -> str:
    return f"<td><code>{_e(text)}</code></td>"


def _content_cell(text: str, lang: str = "de") -> str:
    """A cell holding text from the catalogue, in whichever script it is written."""
    return f'<td lang="{_e(lang)}" dir="auto">{_e(text)}</td>'


def render_html(report: Report) -> str:
    """One self-contained page (no scripts, no external files) to open in a browser or mail."""
    title = f"Content report: {report.catalogue}, {report.today.isoformat()}"
    parts = [f"<h1>{_e(title)}</h1>",
             f"<p>Version {_e(report.version)}: {report.offer_count} offers, "
             f"{report.topic_count} topics.</p>",
             "<h2>Translations</h2>",
             _html_table(("language", "present", "missing", "complete"), [
                 (_id_cell(g.lang), f'<td class="num">{g.present}/{g.total}</td>',
                  f'<td class="num">{len(g.missing)}</td>',
                  f'<td class="num">{_e(_percent(g))}</td>') for g in report.languages])]
    for gaps in report.languages:
        if gaps.missing:
            parts.append(f"<details><summary>missing in <code>{_e(gaps.lang)}</code> "
                         f"({len(gaps.missing)})</summary>")
            parts.append(_html_table(("kind", "id", "fields"), [
                (f"<td>{_e(kind)}</td>", _id_cell(id_), f"<td>{_e(', '.join(fields))}</td>")
                for kind, id_, fields in _missing_by_entry(gaps.missing)]))
            parts.append("</details>")
    for _, heading, date_column, notes in _offer_sections(report):
        parts.append(f"<h2>{_e(heading)}: {len(notes)}</h2>")
        if not notes:
            parts.append('<p class="none">none</p>')
            continue
        header = ["id"] + ([date_column] if date_column else []) + ["provider", "title"]
        parts.append(_html_table(header, [
            (_id_cell(n.id),)
            + ((f"<td>{_e(n.date.isoformat() if n.date else 'never')}</td>",)
               if date_column else ())
            + (_content_cell(n.provider), _content_cell(n.title))
            for n in notes]))
    parts.append(f"<h2>Topics without a current offer: {len(report.topics_without_offers)}</h2>")
    if report.topics_without_offers:
        parts.append(_html_table(("id", "name"), [
            (_id_cell(tid), _content_cell(name)) for tid, name in report.topics_without_offers]))
    else:
        parts.append('<p class="none">none</p>')
    parts.append(f"<h2>Districts without an offer of a topic: {len(report.district_gaps)} "
                 f"topic(s)</h2>")
    parts.append(f"<p>{len(report.citywide)} offers name no district and count as city-wide, "
                 f"i.e. as covering every district.</p>")
    if report.district_gaps:
        parts.append(_html_table(("topic", "districts"), [
            (_id_cell(gap.topic), _content_cell(", ".join(gap.districts)))
            for gap in report.district_gaps]))
    return ("<!DOCTYPE html>\n"
            '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{_e(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
            + "\n".join(parts) + "\n</body>\n</html>\n")
