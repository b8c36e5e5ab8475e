"""The statistics report (`wegweiser report`): small numbers hidden so that no hidden number
can be worked out from what is published, the numbers built from daily counts, CSV and HTML
alike, and the HTML rendered by a real headless Chromium with its charts.

Whether a hidden number can be worked out is checked by exact linear algebra over every
equation a table publishes (each row and column adds up to its total), not by the rule the
suppression follows: a hidden entry is determined exactly when removing its column from the
equations over the hidden entries lowers their rank.
"""

from __future__ import annotations

import csv
import io
import json
import random
import shutil
import struct
import subprocess
import sys
import zlib
from collections.abc import Sequence
from datetime import date, timedelta
from fractions import Fraction
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bot.stats.model import DailyCount, StatEvent
from bot.stats.report import (
    CSV_NONE,
    Entry,
    Report,
    Table,
    build,
    mark,
    render_csv,
    render_html,
    render_text,
    suppress,
    table,
)
from bot.store import SqliteStore

from tests.conftest import ROOT


def planted(rows: Sequence[Sequence[int]]) -> Table:
    """A table of true numbers: rows r0, r1, ..., columns c0, c1, ..."""
    keys = [(f"r{i}",) for i in range(len(rows))]
    columns = [f"c{j}" for j in range(len(rows[0]))]
    cases = {(keys[i], columns[j]): v for i, row in enumerate(rows) for j, v in enumerate(row)}
    return table("planted", ("topic",), "lang", keys, columns, cases)


def one_column(values: Sequence[int]) -> Table:
    keys = [(f"k{i}",) for i in range(len(values))]
    return table("list", ("week",), "", keys, ["cases"],
                 {(k, "cases"): v for k, v in zip(keys, values, strict=True)})


def hide_only(raw: Table, entries: set[Entry]) -> Table:
    """`raw` published with exactly `entries` hidden: what a naive suppression would give."""
    grid = tuple(tuple(None if (i, j) in entries else v for j, v in enumerate(row))
                 for i, row in enumerate(raw.grid))
    return Table(raw.key, raw.row_dims, raw.column_dim, raw.rows, raw.columns, grid)


def _lines(n: int, m: int) -> list[tuple[list[Entry], Entry]]:
    rows = [([(i, j) for j in range(m + 1)], (i, m)) for i in range(n + 1)]
    columns = [([(i, j) for i in range(n + 1)], (n, j)) for j in range(m + 1)]
    return rows + columns


def _rank(matrix: list[list[Fraction]]) -> int:
    rows = [row[:] for row in matrix if any(row)]
    rank, width = 0, len(rows[0]) if rows else 0
    for column in range(width):
        pivot = next((r for r in range(rank, len(rows)) if rows[r][column]), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        for r in range(len(rows)):
            if r != rank and rows[r][column]:
                factor = rows[r][column] / rows[rank][column]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[rank], strict=True)]
        rank += 1
    return rank


def determined(published: Table) -> set[Entry]:
    """The hidden entries that the published numbers of the table pin down exactly."""
    hidden = sorted(published.hidden())
    index = {entry: k for k, entry in enumerate(hidden)}
    equations = []
    for line, total in _lines(len(published.rows), len(published.columns)):
        coefficients = [Fraction(0)] * len(hidden)
        for entry in line:
            if entry in index:
                coefficients[index[entry]] += -1 if entry == total else 1
        equations.append(coefficients)
    full = _rank(equations)
    return {entry for k, entry in enumerate(hidden)
            if _rank([row[:k] + row[k + 1:] for row in equations]) < full}


def check_safe(raw: Table, published: Table) -> None:
    """Everything the suppression promises, for one table."""
    n, m = len(raw.rows), len(raw.columns)
    hidden = published.hidden()
    for i in range(n + 1):
        for j in range(m + 1):
            true = raw.grid[i][j]
            assert true is not None
            if 0 < true < 5:
                assert (i, j) in hidden, f"{true} at {(i, j)} is published"
            if true == 0:
                assert (i, j) not in hidden, f"a zero at {(i, j)} is hidden"
            if (i, j) not in hidden:
                assert published.grid[i][j] == true
    for line, _ in _lines(n, m):
        assert sum(entry in hidden for entry in line) != 1, f"one hidden entry in {line}"
    assert determined(published) == set(), raw.grid


# --- suppression on planted tables -------------------------------------------------------

def test_a_small_cell_cannot_be_recomputed_from_its_row_total() -> None:
    raw = planted([[3, 20, 30],
                   [12, 15, 18],
                   [25, 9, 40]])
    naive = hide_only(raw, {(0, 0)})  # primary suppression only
    assert naive.row_totals[0] == 53 and naive.cells[0][1:] == (20, 30)
    assert determined(naive) == {(0, 0)}  # 53 - 20 - 30 = 3: the hidden 3 is given away
    published = suppress(raw)
    check_safe(raw, published)
    # secondary: the next-smallest cells of row r0 (20) and column c0 (12), then of row r1
    # (15), which closes the rectangle; every total stays published
    assert published.hidden() == {(0, 0), (0, 1), (1, 0), (1, 1)}
    assert published.row_totals == (53, 45, 74) and published.column_totals == (40, 44, 88)
    assert published.total == 172


def test_two_blocks_joined_by_one_hidden_cell_are_protected() -> None:
    """Every row and column holds two or three hidden cells, so a rule that only counts
    hidden cells per line would stop here, yet the cell joining the blocks is given away."""
    raw = planted([[1, 2, 3, 50],
                   [2, 1, 40, 60],
                   [30, 45, 1, 2],
                   [55, 35, 3, 4]])
    primary = {(i, j) for i in range(4) for j in range(4) if raw.grid[i][j] < 5}
    naive = hide_only(raw, primary)
    for line, _ in _lines(4, 4):
        assert sum(entry in primary for entry in line) != 1
    assert determined(naive) == {(0, 2)}
    published = suppress(raw)
    check_safe(raw, published)
    assert published.hidden() == primary | {(2, 0)}  # the cheapest cycle through (0, 2)


def test_a_small_total_is_hidden_and_so_is_enough_around_it() -> None:
    raw = planted([[1, 0, 0],
                   [0, 2, 30],
                   [8, 9, 40]])
    published = suppress(raw)
    check_safe(raw, published)
    assert published.row_totals[0] is None  # 1 person in all of r0
    assert published.cells[0][1:] == (0, 0)  # zeros are shown, never hidden
    assert mark(published.cells[0][1]) == "-" and mark(published.cells[0][0]) == "."


def test_a_one_column_list_hides_the_next_smallest_number_with_a_small_one() -> None:
    raw = one_column([23, 3, 30, 27, 0])
    published = suppress(raw)
    check_safe(raw, published)
    assert [values[0] for values in published.cells] == [None, None, 30, 27, 0]
    assert published.total == 83


def test_everything_small_is_hidden_and_zeros_stay() -> None:
    raw = planted([[1, 0], [0, 2]])
    published = suppress(raw)
    check_safe(raw, published)
    assert published.cells == ((None, 0), (0, None)) and published.total is None


def test_random_tables_never_give_a_hidden_number_away() -> None:
    rng = random.Random(20261127)
    hidden_somewhere = 0
    for _ in range(250):
        n, m = rng.randint(1, 6), rng.randint(1, 6)
        rows = [[rng.choice([0, 0, 1, 2, 3, 4, rng.randint(5, 60)]) for _ in range(m)]
                for _ in range(n)]
        raw = planted(rows)
        published = suppress(raw)
        check_safe(raw, published)
        hidden_somewhere += bool(published.hidden())
    assert hidden_somewhere > 200


def test_suppressing_twice_is_refused() -> None:
    with pytest.raises(ValueError):
        suppress(suppress(planted([[3, 9]])))


# --- building from daily counts ----------------------------------------------------------

FIRST, LAST = date(2026, 11, 2), date(2026, 11, 15)  # Monday of 2026-W45 to Sunday of W46


def started(day: date, lang: str, referral: str, visitors: int) -> DailyCount:
    return DailyCount(day, "started", (("lang", lang), ("channel", "telegram"),
                                       ("referral", referral)), visitors * 3, visitors)


def count(day: date, kind: str, visitors: int, **labels: str) -> DailyCount:
    return DailyCount(day, kind, tuple(labels.items()), visitors * 2, visitors)


def hand_made() -> list[DailyCount]:
    d = FIRST
    return [
        started(d - timedelta(days=1), "ar", "", 99),  # outside the period
        started(d, "ar", "", 6),
        started(d + timedelta(days=1), "uk", "flyer", 7),
        started(d + timedelta(days=8), "ar", "", 5),
        started(d + timedelta(days=10), "uk", "flyer", 5),
        started(LAST + timedelta(days=1), "uk", "flyer", 99),  # outside
        count(d, "topic", 6, topic="german-course", lang="ar"),
        count(d + timedelta(days=8), "topic", 4, topic="german-course", lang="ar"),
        count(d + timedelta(days=1), "topic", 7, topic="german-course", lang="uk"),
        count(d + timedelta(days=2), "topic", 8, topic="childcare", lang="ar"),
        count(d, "answer", 6, topic="german-course", lang="ar", question="district",
              option="centre"),
        count(d + timedelta(days=1), "answer", 3, topic="childcare", lang="ar",
              question="district", option="centre"),
        count(d + timedelta(days=2), "answer", 5, topic="childcare", lang="ar",
              question="district", option="north"),
        count(d, "answer", 9, topic="german-course", lang="ar", question="age",
              option="adult"),  # not the district question
        count(d, "offers_shown", 7, topic="german-course", lang="ar", district="centre"),
        count(d + timedelta(days=9), "offers_shown", 5, topic="childcare", lang="ar",
              district=""),
        count(d, "unmet", 5, topic="german-course", lang="ar", district="centre",
              step="results"),
        count(d + timedelta(days=3), "unmet", 2, topic="german-course", lang="ar",
              district="centre", step="question"),
        count(d + timedelta(days=4), "unmet", 6, topic="unknown", lang="uk", district="",
              step="topic"),
        count(d + timedelta(days=5), "unmet", 8, topic="unknown", lang="uk", district="north",
              step="topic"),
    ]


def values(t: Table) -> dict[tuple[tuple[str, ...] | str, str], str]:
    """Every published number of a table as printed, by (row ids or "total", column id)."""
    found: dict[tuple[tuple[str, ...] | str, str], str] = {}
    for row, cells, row_total in zip(t.rows, t.cells, t.row_totals, strict=True):
        for column, value in zip([*t.columns, "total"], [*cells, row_total], strict=True):
            found[(row, column)] = mark(value)
    if t.totals:
        for column, value in zip([*t.columns, "total"], [*t.column_totals, t.total],
                                 strict=True):
            found[("total", column)] = mark(value)
    return found


def test_build_counts_people_per_day_from_the_daily_counts() -> None:
    report = build(hand_made(), FIRST, LAST)
    topics = values(report.topics)
    assert topics[(("german-course",), "ar")] == "10"  # 6 + 4 on two days; events ignored
    assert topics[(("german-course",), "uk")] == "7"
    assert topics[(("childcare",), "ar")] == "8"
    assert topics[(("childcare",), "uk")] == "-"
    assert topics[(("german-course",), "total")] == "17"
    assert topics[("total", "ar")] == "18" and topics[("total", "total")] == "25"
    assert report.topics.rows[0] == ("german-course",)  # the largest first
    assert values(report.districts) == {
        (("centre",), "cases"): "9", (("centre",), "total"): "9",
        (("north",), "cases"): "5", (("north",), "total"): "5",
        ("total", "cases"): "14", ("total", "total"): "14"}
    unmet = values(report.unmet)
    assert report.unmet.rows == (("german-course", "ar"), ("unknown", "uk"))
    assert report.unmet.columns == ("centre", "north", "")
    assert unmet[(("german-course", "ar"), "centre")] == "7"  # 5 + 2 over both steps
    assert unmet[(("unknown", "uk"), "north")] == "8"
    assert unmet[(("unknown", "uk"), "")] == "6"
    assert unmet[(("unknown", "uk"), "centre")] == "-"
    assert unmet[("total", "total")] == "21"
    assert [v[0] for v in report.funnel.cells] == [23, 25, 12]
    assert report.funnel.total is None  # the steps do not add up: no total is published
    assert values(report.weeks) == {
        (("2026-W45",), "cases"): "13", (("2026-W45",), "total"): "13",
        (("2026-W46",), "cases"): "10", (("2026-W46",), "total"): "10",
        ("total", "cases"): "23", ("total", "total"): "23"}
    assert report.week_days == (("2026-W45", FIRST, date(2026, 11, 8)),
                                ("2026-W46", date(2026, 11, 9), LAST))
    assert values(report.referrals)[(("flyer",), "cases")] == "12"
    assert values(report.referrals)[(("",), "cases")] == "11"
    assert report.referrals.rows[-1] == ("",)  # "no code" last


def test_build_hides_small_numbers_and_the_same_total_everywhere() -> None:
    counts = [started(FIRST, "ar", "", 2), started(FIRST + timedelta(days=8), "ar", "x", 1),
              count(FIRST, "topic", 3, topic="school", lang="ar")]
    report = build(counts, FIRST, LAST)
    assert report.weeks.total is None and report.referrals.total is None
    assert report.funnel.cells[0][0] is None and report.funnel.cells[1][0] is None
    assert report.topics.total is None
    assert report.funnel.cells[2][0] == 0
    for t in report.tables:
        for row in t.cells:
            assert all(v is None or v == 0 or v >= 5 for v in row)


def test_build_cuts_the_weeks_at_the_period() -> None:
    report = build([], date(2026, 11, 4), date(2026, 11, 17))
    assert [w for w, _, _ in report.week_days] == ["2026-W45", "2026-W46", "2026-W47"]
    assert report.week_days[0][1:] == (date(2026, 11, 4), date(2026, 11, 8))
    assert report.week_days[-1][1:] == (date(2026, 11, 16), date(2026, 11, 17))
    assert [mark(v[0]) for v in report.weeks.cells] == ["-", "-", "-"]
    with pytest.raises(ValueError):
        build([], LAST, FIRST)


# --- CSV and HTML ------------------------------------------------------------------------

def busy() -> list[DailyCount]:
    """Five weeks of conversations: enough to show every chart, and some numbers hidden."""
    rng = random.Random(7)
    counts = []
    topics = ["german-course", "childcare", "school", "jobs"]
    langs = ["ar", "uk", "fa", "ru", "de"]
    parts = ["centre", "north", "west", "south", "east", "any"]
    day = date(2026, 10, 26)
    while day <= date(2026, 11, 29):
        counts.append(started(day, rng.choice(langs), rng.choice(["", "", "flyer", "job"]),
                              rng.randint(3, 12)))
        for topic in topics:
            for lang in langs:
                counts.append(count(day, "topic", rng.choice([0, 1, 2, 4]), topic=topic,
                                    lang=lang))
                if rng.random() < 0.25:
                    counts.append(count(day, "unmet", rng.randint(1, 3), topic=topic, lang=lang,
                                        district=rng.choice(parts[:5] + [""]),
                                        step="results"))
            counts.append(count(day, "offers_shown", rng.randint(0, 3), topic=topic, lang="ar",
                                district=""))
        for part in parts:
            counts.append(count(day, "answer", rng.randint(0, 2), topic="childcare", lang="ar",
                                question="district", option=part))
        day += timedelta(days=1)
    counts.append(count(date(2026, 11, 29), "unmet", 3, topic="<script>alert(1)</script>",
                        lang="ar",
                        district="", step="topic"))
    return counts


NAMES = {"topic": {"german-course": "Deutschkurse", "childcare": "Kinder & <Betreuung>"},
         "district": {"centre": "Mitte", "north": "Nord", "any": "Egal"}}


@pytest.fixture(scope="module")
def report() -> Report:
    return build(busy(), date(2026, 10, 26), date(2026, 11, 29))


class _Tables(HTMLParser):
    """The data tables of a report page: table -> (row key, column) -> text."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, dict[tuple[str, str], str]] = {}
        self.table: str | None = None
        self.row: str | None = None
        self.column: str | None = None
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "table" and found.get("data-table"):
            self.table = found["data-table"]
            self.tables[self.table] = {}
        elif tag == "tr" and self.table:
            key = found.get("data-key")
            self.row = None if key is None else key if key == "total" else "/".join(
                json.loads(key))
        elif tag == "td" and self.row is not None:
            self.column, self.text = found["data-column"], ""

    def handle_data(self, data: str) -> None:
        if self.column is not None:
            self.text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self.column is not None:
            assert self.table and self.row is not None
            self.tables[self.table][(self.row, self.column)] = self.text
            self.column = None
        elif tag == "table":
            self.table = None


def csv_tables(files: dict[str, str]) -> dict[str, dict[tuple[str, str], str]]:
    found: dict[str, dict[tuple[str, str], str]] = {}
    for name, text in files.items():
        header, *rows = list(csv.reader(io.StringIO(text)))
        numbers = [k for k, column in enumerate(header)
                   if column not in {"topic", "lang", "district", "week", "referral", "step",
                                     "first_day", "last_day"}]
        keys = [k for k in range(len(header)) if k < numbers[0]
                and header[k] not in {"first_day", "last_day"}]
        cells = found.setdefault(name.removesuffix(".csv"), {})
        for row in rows:
            key = "total" if row[0] == "total" else "/".join(row[k] for k in keys)
            for k in numbers:
                cells[(key, header[k])] = row[k]
    return found


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_csv_files_hold_the_numbers_of_the_html(report: Report, lang: str) -> None:
    page = render_html(report, lang, NAMES)
    parser = _Tables()
    parser.feed(page)
    from_csv = csv_tables(render_csv(report))
    assert set(parser.tables) == set(from_csv) == {
        "funnel", "topics", "districts", "unmet", "weeks", "referrals"}
    for name, cells in from_csv.items():
        assert parser.tables[name] == cells, name
    every = [v for cells in from_csv.values() for v in cells.values()]
    assert "." in every and "-" in every and any(v.isdigit() for v in every)
    assert (CSV_NONE, "cases") in from_csv["referrals"]  # conversations without a code


def test_the_html_is_one_self_contained_escaped_page(report: Report) -> None:
    german, english = render_html(report, "de", NAMES), render_html(report, "en", NAMES)
    assert german.startswith("<!DOCTYPE html>") and '<html lang="de">' in german
    assert '<html lang="en">' in english
    assert "Ungedeckter Bedarf" in german and "Unmet needs" in english
    assert "Deutschkurse" in german and "Arabisch" in german and "Arabic" in english
    assert "KW 44/2026" in german and "2026-W44" in english
    for page in (german, english):
        assert "<script" not in page and "http" not in page and " src=" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "Kinder &amp; &lt;Betreuung&gt;" in page
        assert "@media print" in page
        assert page.count('<p class="note">') >= 7  # under the intro and every table
    assert "weniger als 5 Fälle" in german and "fewer than 5 cases" in english


def test_the_text_summary(report: Report) -> None:
    text = render_text(report, "en", NAMES)
    assert "Deutschkurse" in text and "W44" in text and "fewer than 5" in text


# --- a real browser ----------------------------------------------------------------------

def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("chromium not found: the HTML report is checked in a real headless "
                    "Chromium. Install Debian's chromium package (`python3 dev.py test` "
                    "installs it)", pytrace=False)
    return found


def run_chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", "--hide-scrollbars",
               f"--user-data-dir={tmp_path / 'profile'}", *args]
    done = subprocess.run(command, capture_output=True, timeout=90)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-3000:]
    return done


def png_pixels(data: bytes) -> tuple[int, int, list[bytes], int]:
    """Width, height, rows of pixels and bytes per pixel of an 8-bit RGB(A) PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, []
    width = height = depth = color = 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat.append(body)
    assert depth == 8 and color in (2, 6), (depth, color)
    bpp = 3 if color == 2 else 4
    raw, stride = zlib.decompress(b"".join(idat)), width * bpp
    prev, rows = bytearray(stride), []
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif kind == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev, strict=True))
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif kind == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, rows, bpp


class _Dom(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.svg_depth = 0
        self.in_svg: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        if tag == "svg":
            self.svg_depth += 1
        elif self.svg_depth:
            self.in_svg.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self.svg_depth -= 1

    def having(self, tag: str, css: str, inside_svg: bool = False) -> list[dict[str, str | None]]:
        pool = self.in_svg if inside_svg else self.elements
        return [attrs for t, attrs in pool
                if t == tag and css in (attrs.get("class") or "").split()]


def test_chromium_renders_the_report_with_its_charts(report: Report, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(render_html(report, "de", NAMES), "utf-8")
    dom = _Dom()
    dom.feed(run_chromium(tmp_path, "--dump-dom", page.as_uri()).stdout.decode())
    charts = {attrs.get("data-chart") for tag, attrs in dom.elements if tag == "svg"}
    assert {"funnel", "topics", "languages", "districts", "weeks"} <= charts
    bars = dom.having("rect", "bar", inside_svg=True)
    topic_bars = [b for b in bars if b.get("data-key") in {r[0] for r in report.topics.rows}]
    assert len(topic_bars) == sum(1 for v in report.topics.row_totals if v)
    language_bars = [b for b in bars if b.get("data-key") in set(report.topics.columns)]
    assert len(language_bars) == sum(1 for v in report.topics.column_totals if v)
    assert all(float(b["width"] or 0) > 0 for b in bars)
    assert dom.having("polyline", "line", inside_svg=True)
    assert len(dom.having("circle", "point", inside_svg=True)) == sum(
        1 for v in report.weeks.cells if v[0] is not None)
    heat = dom.having("td", "heat")
    assert len(heat) == len(report.unmet.rows) * len(report.unmet.columns)
    assert any("background" in (cell.get("style") or "") for cell in heat)
    assert any("hidden" in (cell.get("class") or "") for cell in heat)

    shot = tmp_path / "report.png"
    run_chromium(tmp_path, "--window-size=1000,1800", f"--screenshot={shot}", page.as_uri())
    width, height, rows, bpp = png_pixels(shot.read_bytes())
    assert (width, height) == (1000, 1800)
    pixels = [row[k:k + 3] for row in rows for k in range(0, len(row), bpp)]
    colours = set(pixels)
    inked = sum(1 for p in pixels if p != b"\xff\xff\xff")
    assert len(colours) > 50 and inked > 0.02 * len(pixels), "the screenshot is blank"
    bar_blue = sum(1 for p in pixels if p == bytes((0x1F, 0x5F, 0x8B)))
    assert bar_blue > 2000, "no bars in the screenshot"


# --- the command ---------------------------------------------------------------------------

async def test_the_command_writes_html_and_csv(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    store = SqliteStore(data / "wegweiser.sqlite3")
    day = date(2026, 11, 9)
    events = []
    for k in range(7):
        events.append(StatEvent(day, "started", f"v{k}",
                                (("lang", "ar"), ("channel", "telegram"), ("referral", ""))))
        events.append(StatEvent(day, "topic", f"v{k}", (("topic", "german-course"),
                                                        ("lang", "ar"))))
    events.append(StatEvent(day, "topic", "v0", (("topic", "childcare"), ("lang", "ar"))))
    events.append(StatEvent(day + timedelta(days=30), "started", "late",
                            (("lang", "ar"), ("channel", "telegram"), ("referral", ""))))
    await store.record(events)
    await store.close()

    out = tmp_path / "out"
    command = [sys.executable, "-m", "bot", "report", "--data-dir", str(data),
               "--from", "2026-11-02", "--to", "2026-11-15", "--lang", "en",
               "--html", str(out / "report.html"), "--csv", str(out / "csv")]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    page = (out / "report.html").read_text("utf-8")
    assert '<html lang="en">' in page and "German course" in page and "Arabic" in page
    files = {p.name: p.read_text("utf-8") for p in (out / "csv").iterdir()}
    assert set(files) == {"funnel.csv", "topics.csv", "districts.csv", "unmet.csv",
                          "weeks.csv", "referrals.csv"}
    # 1 person asked about childcare: hidden, and with it german-course, which its total
    # would give away; the total of both stays
    assert files["topics.csv"] == ("topic,ar,total\nchildcare,.,.\ngerman-course,.,.\n"
                                   "total,8,8\n")
    assert "started,7\ntopic,8\n" in files["funnel.csv"]
    # the start 30 days later is not in the period
    assert files["weeks.csv"] == ("week,first_day,last_day,cases\n"
                                  "2026-W45,2026-11-02,2026-11-08,-\n"
                                  "2026-W46,2026-11-09,2026-11-15,7\n"
                                  "total,,,7\n")

    summary = subprocess.run(command[:-4], capture_output=True, text=True, cwd=ROOT,
                             timeout=120)
    assert summary.returncode == 0, summary.stderr
    assert "Conversation started (language chosen) 7" in summary.stdout
    assert "German course" in summary.stdout
