"""The statistics report for the city: `wegweiser report`.

Pure: `build` turns daily counts (bot/stats/collect.py) into tables, `suppress` hides what
could point to a few people, and the renderers turn a report into one HTML page or CSV files.
Reading the store and writing files is the command line's business (bot/cli.py).

What is counted ("cases"): people per day, i.e. the daily `visitors` summed over the days of
the period. A person who comes back on another day counts again (the daily secret behind a
visitor is destroyed, so days cannot be linked), and a person who asks about two topics on one
day counts once for each.

Small cells. Every published number of 1 to 4 cases is hidden ("."), totals included; a true
zero is shown as "-" (the convention of German official statistics: "-" nothing, "."
secret), since it says nothing about a person. Totals are computed from the true numbers,
hidden ones included, so a second round hides more numbers until no hidden one can be worked
out from what is published (see `suppress`). Numbers are printed without thousands
separators: in German "1.234" would look like a hidden cell.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from heapq import heappop, heappush

from babel import Locale, UnknownLocaleError
from babel.dates import format_date

from bot.stats.model import DailyCount

#: A published number below this (and above zero) is hidden.
MIN_CASES = 5
#: Printed for a hidden number, and for a true zero.
HIDDEN = "."
ZERO = "-"
#: The question whose answer names the part of town (content/questions.yaml).
DISTRICT_QUESTION = "district"
#: The topic of an unmet need when no topic was recognised (bot/engine/engine.py).
UNKNOWN_TOPIC = "unknown"
#: The steps of the funnel: kinds of events, in order.
FUNNEL = ("started", "topic", "offers_shown")
#: In CSV files (and the HTML's data attributes), an id that was not given ("").
CSV_NONE = "(none)"
CSV_TOTAL = "total"
CSV_CASES = "cases"

#: (row, column) in a table's grid; the last row and column hold the totals.
Entry = tuple[int, int]
Grid = tuple[tuple[int | None, ...], ...]


@dataclass(frozen=True)
class Table:
    """A table of cases and its totals.

    `grid` has a row per key in `rows` plus one for the column totals, and a column per id in
    `columns` plus one for the row totals; its last entry is the grand total. `None` is a
    hidden number. A table with one column (`column_dim` "") lists counts by one key; its row
    totals equal its cells and are not printed. Without `totals` (the funnel, whose steps do
    not add up) only the cells are published.
    """

    key: str
    row_dims: tuple[str, ...]
    column_dim: str
    rows: tuple[tuple[str, ...], ...]
    columns: tuple[str, ...]
    grid: Grid
    totals: bool = True

    @property
    def cells(self) -> Grid:
        return tuple(row[:-1] for row in self.grid[:-1])

    @property
    def row_totals(self) -> tuple[int | None, ...]:
        return tuple(row[-1] for row in self.grid[:-1])

    @property
    def column_totals(self) -> tuple[int | None, ...]:
        return self.grid[-1][:-1]

    @property
    def total(self) -> int | None:
        return self.grid[-1][-1]

    def hidden(self) -> frozenset[Entry]:
        return frozenset((i, j) for i, row in enumerate(self.grid)
                         for j, value in enumerate(row) if value is None)


def table(key: str, row_dims: tuple[str, ...], column_dim: str,
          rows: Sequence[tuple[str, ...]], columns: Sequence[str],
          cases: Mapping[tuple[tuple[str, ...], str], int], *, totals: bool = True) -> Table:
    """A table of true numbers: `cases[(row, column)]`, missing ones 0; totals added up."""
    cells = [[cases.get((row, column), 0) for column in columns] for row in rows]
    grid = [[*line, sum(line)] for line in cells]
    column_sums = [sum(line[j] for line in cells) for j in range(len(columns))]
    grid.append([*column_sums, sum(column_sums)])
    return Table(key, row_dims, column_dim, tuple(rows), tuple(columns),
                 tuple(tuple(line) for line in grid), totals)


# --- suppression -----------------------------------------------------------------------------

def suppress(raw: Table, hide: Iterable[Entry] = ()) -> Table:
    """`raw` with every number that must not be published replaced by None.

    1. Primary: every entry (cell or total) of 1 to 4 cases is hidden, and so are those in
       `hide` (numbers hidden in another table that publishes the same total); zeros never.
    2. Secondary: every row and column of the grid, its total included, is an equation
       (total = sum of its cells). Write the totals with a minus sign: then every row and
       column of the grid adds up to zero. The hidden entries are the edges of a bipartite
       graph between the grid's rows and columns, and the changes to them that keep every sum
       are exactly the sums of alternating cycles of that graph. So a hidden entry can be
       worked out from what is published (by any combination of rows and columns) if and
       only if its edge lies on no cycle: if it is a bridge. A line with exactly one hidden
       entry is the simplest case (a dead end); two blocks of hidden cells joined by one
       hidden cell is another, although every line there holds two or more.
       While there is a bridge, the cheapest path that closes a cycle through it is hidden
       too: the published entries from the bridge's row to its column, smallest numbers
       first, row and column totals only if no path of cells is left, the grand total last.
       In a line with one hidden entry this hides another of that line, the one on the
       cheapest way back; hiding just the line's next-smallest number and repeating would
       also end safe, but may hide more (7 numbers instead of 4 in a test's 3x3 table).

    Afterwards no hidden entry is a bridge. Each lies on a cycle, and since every hidden entry
    is at least 1, moving by 1 either way around that cycle gives two other tables of
    non-negative numbers with the same published numbers: none can be recomputed. Every
    line then holds no hidden entry or at least two (a line with one would be a bridge).
    """
    values = [list(row) for row in raw.grid]
    if any(value is None for row in values for value in row):
        raise ValueError(f"table {raw.key!r} is already suppressed")
    n, m = len(raw.rows), len(raw.columns)

    def value(entry: Entry) -> int:
        return values[entry[0]][entry[1]] or 0

    entries = [(i, j) for i in range(n + 1) for j in range(m + 1)]
    if not raw.totals:
        entries = [(i, j) for i, j in entries if i < n and j < m]
    hidden = {e for e in hide if e in entries and value(e) > 0}
    hidden |= {e for e in entries if 0 < value(e) < MIN_CASES}
    if raw.totals:
        while (bridge := _first_bridge(hidden)) is not None:
            hidden |= _cheapest_cycle(bridge, hidden, value, n, m)
    else:  # not published at all
        hidden |= {(i, j) for i in range(n + 1) for j in range(m + 1) if i == n or j == m}
    grid = tuple(tuple(None if (i, j) in hidden else values[i][j] for j in range(m + 1))
                 for i in range(n + 1))
    return replace(raw, grid=grid)


def _node_edges(hidden: set[Entry]) -> dict[tuple[str, int], list[Entry]]:
    edges: dict[tuple[str, int], list[Entry]] = {}
    for i, j in hidden:
        edges.setdefault(("r", i), []).append((i, j))
        edges.setdefault(("c", j), []).append((i, j))
    return edges


def _first_bridge(hidden: set[Entry]) -> Entry | None:
    """The first (in grid order) hidden entry whose edge is a bridge, by Tarjan's low-links."""
    edges = _node_edges(hidden)
    order: dict[tuple[str, int], int] = {}
    low: dict[tuple[str, int], int] = {}
    bridges: list[Entry] = []
    for root in sorted(edges):
        if root in order:
            continue
        order[root] = low[root] = len(order)
        stack: list[tuple[tuple[str, int], Entry | None, int]] = [(root, None, 0)]
        while stack:
            node, via, k = stack[-1]
            if k < len(edges[node]):
                stack[-1] = (node, via, k + 1)
                edge = edges[node][k]
                if edge == via:
                    continue
                other = ("c", edge[1]) if node[0] == "r" else ("r", edge[0])
                if other in order:
                    low[node] = min(low[node], order[other])
                else:
                    order[other] = low[other] = len(order)
                    stack.append((other, edge, 0))
                continue
            stack.pop()
            if stack:
                parent = stack[-1][0]
                low[parent] = min(low[parent], low[node])
                if low[node] > order[parent]:
                    assert via is not None
                    bridges.append(via)
    return min(bridges) if bridges else None


def _cheapest_cycle(bridge: Entry, hidden: set[Entry], value: Callable[[Entry], int],
                    n: int, m: int) -> set[Entry]:
    """The published entries on the cheapest path from the bridge's row to its column that
    does not use the bridge: hiding them puts the bridge on a cycle. Such a path of non-zero
    entries always exists (through the totals), so zeros are never used."""

    def cost(entry: Entry) -> int:
        if entry in hidden:
            return 0
        if entry == (n, m):
            return 10 ** 12 + value(entry)  # the grand total: last resort
        if entry[0] == n or entry[1] == m:
            return 10 ** 9 + value(entry)  # a row or column total
        return value(entry)

    start, goal = ("r", bridge[0]), ("c", bridge[1])
    best: dict[tuple[str, int], int] = {start: 0}
    came: dict[tuple[str, int], tuple[tuple[str, int], Entry]] = {}
    queue: list[tuple[int, tuple[str, int]]] = [(0, start)]
    while queue:
        distance, node = heappop(queue)
        if node == goal:
            break
        if distance > best[node]:
            continue
        if node[0] == "r":
            steps = [((node[1], j), ("c", j)) for j in range(m + 1)]
        else:
            steps = [((i, node[1]), ("r", i)) for i in range(n + 1)]
        for entry, other in steps:
            if entry == bridge or value(entry) <= 0:
                continue
            through = distance + cost(entry)
            if through < best.get(other, through + 1):
                best[other] = through
                came[other] = (node, entry)
                heappush(queue, (through, other))
    if goal not in came:  # cannot happen (see the docstring): hide the whole table then
        return {(i, j) for i in range(n + 1) for j in range(m + 1) if value((i, j)) > 0}
    path: set[Entry] = set()
    node = goal
    while node != start:
        node, entry = came[node]
        path.add(entry)
    return path - hidden


# --- building the report ---------------------------------------------------------------------

@dataclass(frozen=True)
class Report:
    """What `wegweiser report` publishes for the days `first` to `last`, already suppressed."""

    first: date
    last: date
    #: requests (topic chosen) by topic (rows) and language (columns)
    topics: Table
    #: answers to the question where the person lives, by option ("" none)
    districts: Table
    #: unmet needs by topic and language (rows) and part of town (columns, "" not given)
    unmet: Table
    #: people per day who started, chose a topic, were shown offers (no totals)
    funnel: Table
    #: people per day who started, by ISO week ("2026-W47")
    weeks: Table
    #: people per day who started, by referral code of the start link ("" none)
    referrals: Table
    #: for each week of `weeks`: its first and last day within the period
    week_days: tuple[tuple[str, date, date], ...]

    @property
    def tables(self) -> tuple[Table, ...]:
        return (self.funnel, self.topics, self.districts, self.unmet, self.weeks,
                self.referrals)


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _weeks(first: date, last: date) -> list[tuple[str, date, date]]:
    found: list[tuple[str, date, date]] = []
    day = first
    while day <= last:
        end = min(last, day + timedelta(days=6 - day.weekday()))
        found.append((iso_week(day), day, end))
        day = end + timedelta(days=1)
    return found


def _by_published(table: Table, axis: str, last: Sequence[str] = ()) -> list[int]:
    """Row (or column) indexes, the largest published total first, hidden ones after, ids
    that are listed in `last` at the end: the order is taken from published numbers only."""
    if axis == "rows":
        keys = [(row[0] if row else "") for row in table.rows]
        sums = table.row_totals
    else:
        keys, sums = list(table.columns), table.column_totals
    return sorted(range(len(keys)), key=lambda k: (
        keys[k] in last, sums[k] is None, -(sums[k] or 0), keys[k]))


def _reorder(t: Table, rows: Sequence[int], columns: Sequence[int]) -> Table:
    n, m = len(t.rows), len(t.columns)
    grid = tuple(tuple(t.grid[i][j] for j in [*columns, m]) for i in [*rows, n])
    return replace(t, rows=tuple(t.rows[i] for i in rows),
                   columns=tuple(t.columns[j] for j in columns), grid=grid)


def build(counts: Sequence[DailyCount], first: date, last: date) -> Report:
    """The report of the days `first` to `last` (both included): counts of other days are
    ignored. Requests by district come from the answers to the district question: counted
    when a person says where they live, before it is known whether an offer fits, so that a
    part of town with many unmet needs does not look quieter than it is."""
    if first > last:
        raise ValueError(f"the period starts ({first}) after it ends ({last})")
    topics: Counter[tuple[tuple[str, ...], str]] = Counter()
    districts: Counter[tuple[tuple[str, ...], str]] = Counter()
    unmet: Counter[tuple[tuple[str, ...], str]] = Counter()
    funnel: Counter[tuple[tuple[str, ...], str]] = Counter()
    weeks: Counter[tuple[tuple[str, ...], str]] = Counter()
    referrals: Counter[tuple[tuple[str, ...], str]] = Counter()
    for count in counts:
        if not first <= count.day <= last:
            continue
        labels = dict(count.labels)
        cases = count.visitors
        if count.kind in FUNNEL:
            funnel[((count.kind,), CSV_CASES)] += cases
        if count.kind == "started":
            weeks[((iso_week(count.day),), CSV_CASES)] += cases
            referrals[((labels.get("referral", ""),), CSV_CASES)] += cases
        elif count.kind == "topic":
            topics[((labels.get("topic", ""),), labels.get("lang", ""))] += cases
        elif count.kind == "answer" and labels.get("question") == DISTRICT_QUESTION:
            districts[((labels.get("option", ""),), CSV_CASES)] += cases
        elif count.kind == "unmet":
            row = (labels.get("topic", ""), labels.get("lang", ""))
            unmet[(row, labels.get("district", ""))] += cases

    def rows_of(cases: Counter[tuple[tuple[str, ...], str]]) -> list[tuple[str, ...]]:
        return sorted({row for row, _ in cases})

    def columns_of(cases: Counter[tuple[tuple[str, ...], str]]) -> list[str]:
        return sorted({column for _, column in cases}, key=lambda c: (c == "", c))

    week_days = _weeks(first, last)
    one = (CSV_CASES,)
    raw = {
        "funnel": table("funnel", ("step",), "", [(step,) for step in FUNNEL], one, funnel,
                        totals=False),
        "topics": table("topics", ("topic",), "lang", rows_of(topics), columns_of(topics),
                        topics),
        "districts": table("districts", ("district",), "", rows_of(districts), one, districts),
        "unmet": table("unmet", ("topic", "lang"), "district",
                       sorted(rows_of(unmet), key=lambda r: (r[0] == UNKNOWN_TOPIC, r)),
                       columns_of(unmet), unmet),
        "weeks": table("weeks", ("week",), "", [(week,) for week, _, _ in week_days], one,
                       weeks),
        "referrals": table("referrals", ("referral",), "", rows_of(referrals), one, referrals),
    }

    def grand(key: str) -> tuple[str, Entry]:
        return key, (len(raw[key].rows), len(raw[key].columns))

    # the same number published in several tables is hidden in all of them or in none
    linked = [[grand("weeks"), grand("referrals"), ("funnel", (0, 0))],
              [grand("topics"), ("funnel", (1, 0))]]
    extra: dict[str, set[Entry]] = {key: set() for key in raw}
    while True:
        done = {key: suppress(t, extra[key]) for key, t in raw.items()}
        more = False
        for group in linked:
            if any(done[key].grid[i][j] is None for key, (i, j) in group):
                for key, (i, j) in group:
                    if done[key].grid[i][j] is not None and raw[key].grid[i][j]:
                        extra[key].add((i, j))
                        more = True
        if not more:
            break

    def ordered(key: str, last_rows: Sequence[str] = ("",)) -> Table:
        t = done[key]
        return _reorder(t, _by_published(t, "rows", last_rows),
                        _by_published(t, "columns", ("",)))

    unmet_table = done["unmet"]
    return Report(
        first=first, last=last,
        topics=ordered("topics"),
        districts=ordered("districts"),
        unmet=_reorder(unmet_table, range(len(unmet_table.rows)),
                       range(len(unmet_table.columns))),
        funnel=done["funnel"],
        weeks=done["weeks"],
        referrals=ordered("referrals"),
        week_days=tuple(week_days),
    )


# --- rendering -------------------------------------------------------------------------------

def mark(value: int | None) -> str:
    """A published number as printed: "." hidden, "-" zero, else the number."""
    if value is None:
        return HIDDEN
    return ZERO if value == 0 else str(value)


def _csv_id(value: str) -> str:
    return value or CSV_NONE


def render_csv(report: Report) -> dict[str, str]:
    """One CSV file per table (file name -> text): ids, not names; the same marks as the
    HTML ("." hidden, "-" zero). The last row of a table with totals is its totals."""
    files: dict[str, str] = {}
    week_days = {week: (start, end) for week, start, end in report.week_days}
    for t in report.tables:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        wide = bool(t.column_dim)
        extra_header = ["first_day", "last_day"] if t.key == "weeks" else []
        header = [*t.row_dims, *extra_header]
        header += [*map(_csv_id, t.columns), CSV_TOTAL] if wide else [CSV_CASES]
        writer.writerow(header)
        for row, values, row_total in zip(t.rows, t.cells, t.row_totals, strict=True):
            extra = [d.isoformat() for d in week_days[row[0]]] if t.key == "weeks" else []
            numbers = [*values, row_total] if wide else [values[0]]
            writer.writerow([*map(_csv_id, row), *extra, *map(mark, numbers)])
        if t.totals:
            numbers = [*t.column_totals, t.total] if wide else [t.total]
            pad = [""] * (len(t.row_dims) - 1 + len(extra_header))
            writer.writerow([CSV_TOTAL, *pad, *map(mark, numbers)])
        files[f"{t.key}.csv"] = out.getvalue()
    return files


UI: Mapping[str, Mapping[str, str]] = {
    "de": {
        "title": "Wegweiser: Anfragen und ungedeckter Bedarf",
        "period": "Zeitraum: {first} bis {last}",
        "counting": "Gezählt werden Personen je Tag: Wer an einem anderen Tag wiederkommt, "
                    "zählt erneut, und wer an einem Tag zwei Themen anfragt, zählt bei jedem "
                    "Thema. Keine Zahl lässt sich einer Person zuordnen.",
        "note": "„.“ = weniger als 5 Fälle, oder verborgen, damit sich eine solche Zahl nicht "
                "aus Summen errechnen lässt. „-“ = keine Fälle. Summen sind aus allen Fällen "
                "gebildet, auch den verborgenen.",
        "funnel": "Vom Gesprächsbeginn bis zu den Angeboten",
        "funnel.about": "Personen je Tag auf jeder Stufe. Ab der zweiten Stufe zählt eine "
                        "Person, die zwei Themen ansieht, doppelt.",
        "step.started": "Gespräch begonnen (Sprache gewählt)",
        "step.topic": "Thema gewählt",
        "step.offers_shown": "Angebote gezeigt",
        "topics": "Anfragen nach Thema und Sprache",
        "topics.about": "Wie oft ein Thema gewählt wurde, nach der Sprache des Gesprächs.",
        "topics.chart": "Anfragen nach Thema",
        "languages.chart": "Anfragen nach Sprache",
        "districts": "Anfragen nach Stadtgebiet",
        "districts.about": "Antworten auf die Frage, wo die Person wohnt (bei Themen, für die "
                           "der Ort zählt), gezählt bei der Antwort, ob danach ein Angebot "
                           "passte oder nicht.",
        "unmet": "Ungedeckter Bedarf nach Thema, Sprache und Stadtgebiet",
        "unmet.about": "Wie oft kein passendes Angebot gefunden wurde oder das Anliegen nicht "
                       "erkannt wurde. Stadtgebiet: die Antwort auf die Frage nach dem "
                       "Wohnort, falls gegeben. Je dunkler ein Feld, desto mehr Fälle.",
        "weeks": "Wöchentlicher Verlauf: begonnene Gespräche",
        "weeks.about": "Kalenderwochen nach ISO 8601; die erste und letzte Woche können "
                       "angeschnitten sein (Tage in Klammern).",
        "referrals": "Empfehlungscodes der Start-Links",
        "referrals.about": "Begonnene Gespräche nach dem Code des Links, über den sie "
                           "begannen.",
        "total": "Summe",
        "cases": "Fälle",
        "dim.step": "Stufe",
        "dim.topic": "Thema",
        "dim.lang": "Sprache",
        "dim.district": "Stadtgebiet",
        "dim.week": "Woche",
        "dim.referral": "Code",
        "not_given": "nicht angegeben",
        "no_referral": "ohne Code",
        "unknown_topic": "Anliegen nicht erkannt",
        "week": "KW {week}/{year}",
        "week.short": "KW {week}",
        "no_data": "Keine Fälle in diesem Zeitraum.",
    },
    "en": {
        "title": "Wegweiser: requests and unmet needs",
        "period": "Period: {first} to {last}",
        "counting": "Counted are people per day: a person who comes back on another day counts "
                    "again, and a person who asks about two topics on one day counts for each. "
                    "No number can be linked to a person.",
        "note": "\u201c.\u201d = fewer than 5 cases, or hidden so that such a number cannot be "
                "worked out from totals. \u201c-\u201d = no cases. Totals include every case, "
                "hidden ones too.",
        "funnel": "From the start of a conversation to the offers",
        "funnel.about": "People per day at each step. From the second step on, a person who "
                        "looks at two topics counts twice.",
        "step.started": "Conversation started (language chosen)",
        "step.topic": "Topic chosen",
        "step.offers_shown": "Offers shown",
        "topics": "Requests by topic and language",
        "topics.about": "How often a topic was chosen, by the language of the conversation.",
        "topics.chart": "Requests by topic",
        "languages.chart": "Requests by language",
        "districts": "Requests by part of town",
        "districts.about": "Answers to the question where the person lives (for topics where "
                           "the place matters), counted when given, whether or not an offer "
                           "fitted afterwards.",
        "unmet": "Unmet needs by topic, language and part of town",
        "unmet.about": "How often no fitting offer was found or the request was not "
                       "understood. Part of town: the answer to the question where the person "
                       "lives, if given. The darker a cell, the more cases.",
        "weeks": "Weekly trend: conversations started",
        "weeks.about": "ISO 8601 weeks; the first and last week may be cut short (days in "
                       "brackets).",
        "referrals": "Referral codes of start links",
        "referrals.about": "Conversations started, by the code of the link they started "
                           "from.",
        "total": "Total",
        "cases": "Cases",
        "dim.step": "Step",
        "dim.topic": "Topic",
        "dim.lang": "Language",
        "dim.district": "Part of town",
        "dim.week": "Week",
        "dim.referral": "Code",
        "not_given": "not given",
        "no_referral": "no code",
        "unknown_topic": "request not understood",
        "week": "{year}-W{week}",
        "week.short": "W{week}",
        "no_data": "No cases in this period.",
    },
}

_CSS = """
body { font: 11pt/1.4 "DejaVu Sans", Arial, sans-serif; color: #1a1a1a; margin: 2em auto;
       max-width: 60em; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: .2em; }
h2 { font-size: 1.25em; margin-top: 1.8em; border-bottom: 2px solid #1f5f8b; }
h3 { font-size: 1em; margin: 1em 0 .3em; }
p.about, p.note, p.lead { margin: .3em 0; }
p.note { font-size: .85em; color: #444; }
section { break-inside: avoid-page; }
table.data { border-collapse: collapse; margin: .6em 0; font-size: .9em; }
table.data th, table.data td { border: 1px solid #bbb; padding: .2em .5em; }
table.data thead th { background: #e8eef3; text-align: left; vertical-align: bottom; }
table.data td { text-align: right; font-variant-numeric: tabular-nums; }
table.data tbody th { text-align: left; font-weight: normal; }
table.data tr.total th, table.data tr.total td, table.data td.total { font-weight: bold; }
table.data tr.total th, table.data tr.total td { border-top: 2px solid #555; }
td.heat { min-width: 3em; }
td.heat.hidden { background: repeating-linear-gradient(45deg, #eee, #eee 3px, #fff 3px,
                 #fff 6px); }
svg.chart { display: block; max-width: 100%; height: auto; margin: .4em 0; }
svg.chart text { font: 11px "DejaVu Sans", Arial, sans-serif; fill: #1a1a1a; }
svg.chart .bar { fill: #1f5f8b; }
svg.chart .line { fill: none; stroke: #1f5f8b; stroke-width: 2.5; }
svg.chart .point { fill: #1f5f8b; }
svg.chart .axis { stroke: #888; stroke-width: 1; }
svg.chart .grid { stroke: #ddd; stroke-width: 1; }
* { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
@page { size: A4; margin: 14mm; }
@media print {
  body { margin: 0; max-width: none; font-size: 9.5pt; }
  h2 { break-after: avoid-page; }
  table.data, svg.chart { break-inside: avoid-page; }
}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _language_name(code: str, lang: str) -> str:
    try:
        name = Locale.parse(code).get_display_name(lang) or code
    except (ValueError, UnknownLocaleError):
        return code
    return name[:1].upper() + name[1:]


class _Names:
    """Names of ids in the report's language: topics and parts of town from the catalogue
    (`catalogue_names`: dimension -> id -> name), languages from Babel."""

    def __init__(self, report: Report, lang: str,
                 catalogue_names: Mapping[str, Mapping[str, str]]):
        self.ui = UI[lang]
        self.lang = lang
        self.catalogue = catalogue_names
        self.week_days = {week: (start, end) for week, start, end in report.week_days}

    def day(self, day: date, form: str = "long") -> str:
        return format_date(day, format=form, locale=self.lang)

    def __call__(self, dim: str, value: str) -> str:
        if dim == "step":
            return self.ui[f"step.{value}"]
        if dim == "week":
            year, week = value.split("-W")
            start, end = self.week_days[value]
            return (self.ui["week"].format(year=year, week=week)
                    + f" ({self.day(start, 'short')}\u2013{self.day(end, 'short')})")
        if not value:
            return self.ui["no_referral" if dim == "referral" else "not_given"]
        if dim == "topic" and value == UNKNOWN_TOPIC and value not in self.catalogue.get(dim, {}):
            return self.ui["unknown_topic"]
        if dim == "lang":
            return _language_name(value, self.lang)
        return self.catalogue.get(dim, {}).get(value) or value

    def short(self, dim: str, value: str) -> str:
        """A name for a chart axis: weeks as their number only."""
        if dim == "week":
            return self.ui["week.short"].format(week=value[-2:])
        return self(dim, value)


def _heat(value: int | None, top: int) -> str:
    if not value or not top:
        return ""
    share = 0.12 + 0.78 * value / top
    ink = "#fff" if share > 0.55 else "#1a1a1a"
    return f' style="background: rgba(190, 70, 30, {share:.2f}); color: {ink}"'


def _html_table(t: Table, names: _Names, heat: bool = False) -> str:
    ui = names.ui
    wide = bool(t.column_dim)
    head = [f'<th scope="col">{_e(ui["dim." + dim])}</th>' for dim in t.row_dims]
    if wide:
        head += [f'<th scope="col" data-column="{_e(_csv_id(c))}">{_e(names(t.column_dim, c))}'
                 "</th>" for c in t.columns]
        head.append(f'<th scope="col" data-column="{CSV_TOTAL}">{_e(ui["total"])}</th>')
    else:
        head.append(f'<th scope="col" data-column="{CSV_CASES}">{_e(ui["cases"])}</th>')
    top = max((v or 0 for row in t.cells for v in row), default=0)
    body = []

    def cell(value: int | None, column: str, css: str = "") -> str:
        classes = [css] if css else []
        style = ""
        if heat and css != "total":
            classes.append("heat")
            if value is None:
                classes.append("hidden")
            style = _heat(value, top)
        attr = f' class="{" ".join(classes)}"' if classes else ""
        return f'<td data-column="{_e(column)}"{attr}{style}>{_e(mark(value))}</td>'

    for row, values, row_total in zip(t.rows, t.cells, t.row_totals, strict=True):
        key = _e(json.dumps([_csv_id(v) for v in row], ensure_ascii=False))
        line = [f'<th scope="row">{_e(names(dim, v))}</th>'
                for dim, v in zip(t.row_dims, row, strict=True)]
        if wide:
            line += [cell(v, _csv_id(c)) for v, c in zip(values, t.columns, strict=True)]
            line.append(cell(row_total, CSV_TOTAL, "total"))
        else:
            line.append(cell(values[0], CSV_CASES))
        body.append(f'<tr data-key="{key}">{"".join(line)}</tr>')
    if t.totals:
        line = [f'<th scope="row" colspan="{len(t.row_dims)}">{_e(ui["total"])}</th>']
        if wide:
            line += [cell(v, _csv_id(c), "total")
                     for v, c in zip(t.column_totals, t.columns, strict=True)]
            line.append(cell(t.total, CSV_TOTAL, "total"))
        else:
            line.append(cell(t.total, CSV_CASES, "total"))
        body.append(f'<tr class="total" data-key="{CSV_TOTAL}">{"".join(line)}</tr>')
    return (f'<table class="data" data-table="{_e(t.key)}"><thead><tr>{"".join(head)}</tr>'
            f'</thead><tbody>{"".join(body)}</tbody></table>'
            f'<p class="note">{_e(ui["note"])}</p>')


def _bar_chart(title: str, items: Sequence[tuple[str, str, int | None]],
               chart: str) -> str:
    """Horizontal bars: (key, label, value); a hidden value gets no bar, only its mark."""
    width, label_width, value_width, row = 560, 200, 44, 22
    top = max((v or 0 for _, _, v in items), default=0) or 1
    height = row * len(items) + 4
    parts = [f'<svg class="chart bars" data-chart="{_e(chart)}" role="img" '
             f'aria-label="{_e(title)}" viewBox="0 0 {width} {height}" width="{width}" '
             f'height="{height}"><title>{_e(title)}</title>',
             f'<line class="axis" x1="{label_width}" y1="0" x2="{label_width}" '
             f'y2="{height}"/>']
    span = width - label_width - value_width - 6
    for k, (key, label, value) in enumerate(items):
        y = k * row
        shown = label if len(label) <= 30 else label[:29] + "\u2026"
        parts.append(f'<text x="{label_width - 6}" y="{y + 15}" text-anchor="end">'
                     f"<title>{_e(label)}</title>{_e(shown)}</text>")
        length = round(span * (value or 0) / top, 1)
        if value:
            parts.append(f'<rect class="bar" data-key="{_e(key)}" data-value="{value}" '
                         f'x="{label_width}" y="{y + 4}" width="{length}" height="{row - 8}"/>')
        parts.append(f'<text class="value" x="{label_width + length + 4}" y="{y + 15}">'
                     f"{_e(mark(value))}</text>")
    parts.append("</svg>")
    return "".join(parts)


def _line_chart(title: str, points: Sequence[tuple[str, str, int | None]]) -> str:
    """A line through the published weekly numbers, broken where a week is hidden."""
    width, height, left, right, top_margin, bottom = 560, 220, 44, 16, 12, 34
    top = max((v or 0 for _, _, v in points), default=0) or 1
    inner_w, inner_h = width - left - right, height - top_margin - bottom
    step = inner_w / max(len(points) - 1, 1)

    def x(k: int) -> float:
        return round(left + (k * step if len(points) > 1 else inner_w / 2), 1)

    def y(v: int) -> float:
        return round(top_margin + inner_h * (1 - v / top), 1)

    base = top_margin + inner_h
    parts = [f'<svg class="chart trend" data-chart="weeks" role="img" aria-label="{_e(title)}" '
             f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">'
             f"<title>{_e(title)}</title>"]
    for tick in sorted({0, top // 2, top}):
        parts.append(f'<line class="grid" x1="{left}" y1="{y(tick)}" x2="{width - right}" '
                     f'y2="{y(tick)}"/><text x="{left - 6}" y="{y(tick) + 4}" '
                     f'text-anchor="end">{tick}</text>')
    parts.append(f'<line class="axis" x1="{left}" y1="{base}" x2="{width - right}" '
                 f'y2="{base}"/>')
    runs: list[list[tuple[float, float]]] = [[]]
    every = max(1, (len(points) + 11) // 12)
    for k, (_, label, value) in enumerate(points):
        if value is None:
            runs.append([])
            parts.append(f'<text class="hidden-mark" x="{x(k)}" y="{base - 4}" '
                         f'text-anchor="middle">{HIDDEN}</text>')
        else:
            runs[-1].append((x(k), y(value)))
        if k % every == 0:
            parts.append(f'<text x="{x(k)}" y="{base + 16}" text-anchor="middle">'
                         f"{_e(label)}</text>")
    for run in runs:
        if len(run) > 1:
            coordinates = " ".join(f"{a},{b}" for a, b in run)
            parts.append(f'<polyline class="line" points="{coordinates}"/>')
    for k, (key, _, value) in enumerate(points):
        if value is not None:
            parts.append(f'<circle class="point" data-key="{_e(key)}" data-value="{value}" '
                         f'cx="{x(k)}" cy="{y(value)}" r="3.5"><title>{_e(mark(value))}'
                         "</title></circle>")
    parts.append("</svg>")
    return "".join(parts)


def _column(t: Table, dim: str, names: _Names) -> list[tuple[str, str, int | None]]:
    """The chart items of a one-column table: (id, name, number)."""
    return [(row[0], names(dim, row[0]), values[0])
            for row, values in zip(t.rows, t.cells, strict=True)]


def render_html(report: Report, lang: str = "de",
                catalogue_names: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """One self-contained, printable page in German or English: inline CSS and SVG, no
    scripts, nothing loaded from elsewhere. `catalogue_names`: dimension ("topic",
    "district") -> id -> name in `lang`; ids without a name are shown as they are."""
    if lang not in UI:
        raise ValueError(f"the report is written in {', '.join(UI)}, not {lang!r}")
    names = _Names(report, lang, catalogue_names or {})
    ui = names.ui

    def section(key: str, t: Table, *content: str) -> str:
        empty = not t.rows or (t.totals and not t.total)
        found = f'<p class="none">{_e(ui["no_data"])}</p>' if empty else "".join(content)
        return (f'<section id="{key}"><h2>{_e(ui[key])}</h2>'
                f'<p class="about">{_e(ui[key + ".about"])}</p>{found}'
                f"{_html_table(t, names, heat=key == 'unmet')}</section>")

    topics = report.topics
    topic_bars = [(row[0], names("topic", row[0]), total)
                  for row, total in zip(topics.rows, topics.row_totals, strict=True)]
    language_bars = [(code, names("lang", code), total)
                     for code, total in zip(topics.columns, topics.column_totals, strict=True)]
    weeks = [(key, names.short("week", key), value)
             for key, _, value in _column(report.weeks, "week", names)]
    parts = [
        section("funnel", report.funnel,
                _bar_chart(ui["funnel"], _column(report.funnel, "step", names), "funnel")),
        section("topics", topics,
                f'<div class="charts"><div><h3>{_e(ui["topics.chart"])}</h3>',
                _bar_chart(ui["topics.chart"], topic_bars, "topics"),
                f'</div><div><h3>{_e(ui["languages.chart"])}</h3>',
                _bar_chart(ui["languages.chart"], language_bars, "languages"),
                "</div></div>"),
        section("districts", report.districts, _bar_chart(
            ui["districts"], _column(report.districts, "district", names), "districts")),
        section("unmet", report.unmet),
        section("weeks", report.weeks, _line_chart(ui["weeks"], weeks)),
        section("referrals", report.referrals),
    ]
    period = ui["period"].format(first=names.day(report.first), last=names.day(report.last))
    return (f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(ui['title'])}: {_e(period)}</title><style>{_CSS}</style></head>"
            f"<body><h1>{_e(ui['title'])}</h1><p class=\"lead\">{_e(period)}</p>"
            f'<p class="lead">{_e(ui["counting"])}</p><p class="note">{_e(ui["note"])}</p>'
            f'{"".join(parts)}</body></html>\n')


def render_text(report: Report, lang: str = "de",
                catalogue_names: Mapping[str, Mapping[str, str]] | None = None,
                top: int = 5) -> str:
    """A few lines for the terminal: the funnel, the largest topics, unmet needs, weeks."""
    names = _Names(report, lang, catalogue_names or {})
    ui = names.ui
    period = ui["period"].format(first=report.first.isoformat(), last=report.last.isoformat())

    def listing(items: Iterable[tuple[str, int | None]]) -> str:
        found = [f"{name} {mark(value)}" for name, value in items]
        return ", ".join(found[:top]) + (", \u2026" if len(found) > top else "") or "-"

    topics = report.topics
    lines = [
        f"{ui['title']}. {period}",
        listing((names("step", row[0]), values[0])
                for row, values in zip(report.funnel.rows, report.funnel.cells, strict=True)),
        f"{ui['topics.chart']} ({mark(topics.total)}): " + listing(
            (names("topic", row[0]), value)
            for row, value in zip(topics.rows, topics.row_totals, strict=True)),
        f"{ui['languages.chart']}: " + listing(
            (names("lang", code), value)
            for code, value in zip(topics.columns, topics.column_totals, strict=True)),
        f"{ui['unmet']}: {mark(report.unmet.total)}",
        f"{ui['weeks']}: " + ", ".join(
            f"{names.short('week', row[0])} {mark(values[0])}"
            for row, values in zip(report.weeks.rows, report.weeks.cells, strict=True)),
        ui["note"],
    ]
    return "\n".join(lines) + "\n"
