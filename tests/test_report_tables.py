"""The report's tables hold the user's text (run names, swept strings, reasons) safely:
a spreadsheet never runs a cell of results.csv as a formula, and results.md shows every
name as written, never as Markdown markup. In process, on hand-made results."""
import csv
import io
import re
from html.parser import HTMLParser
from typing import List

import pytest

from launcher.report.metrics import Ranking, RunResult
from launcher.report.sources import RunSource
from launcher.report.tables import configs_csv, md_code, runs_csv, runs_markdown

RANKING = Ranking("train_loss_last", higher_is_better=False)
KEY = "experiment.logging.wandb_proj_name"

HOSTILE = [
    "=HYPERLINK(\"http://evil\",\"x\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tTAB", "\rCR",
    "*bold* and _em_", "[link](http://evil)", "![img](x.png)", "<img src=x onerror=alert(1)>", "a|b",
    "`code`", "~~gone~~", "&lt;", "back\\slash", "__init__", "x._y_",
]


def result(name: str, value: str = "v", loss: float = -1.25, reason: str = "") -> RunResult:
    source = RunSource(0, name, "failed" if reason else "succeeded", {KEY: value}, None, None, reason)
    return RunResult(source, reason, {"train_loss_last": loss}, {"train_loss_last": 1}, {}, {})


def csv_rows(text: str) -> List[List[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize("text", HOSTILE[:6], ids=["equals", "plus", "minus", "at", "tab", "carriage-return"])
def test_no_csv_cell_starts_a_formula(text):
    rows = csv_rows(runs_csv([result(text, value=text, reason=text)], [KEY], ["train_loss_last"], RANKING))
    row = dict(zip(rows[0], rows[1]))
    for column in ("run", KEY, "reason"):
        assert row[column] == "'" + text.replace("\r", "\n"), column  # a CR shows as a line break
    assert float(row["train_loss_last"]) == -1.25, "a negative number stays a number"
    by_config = csv_rows(configs_csv([], [KEY], []))
    assert by_config[0][0] == KEY


def test_plain_names_and_values_are_unchanged_in_csv():
    rows = csv_rows(runs_csv([result("lr_0.001_seed_1", value="debug")], [KEY], ["train_loss_last"], RANKING))
    assert rows[1][:3] == ["lr_0.001_seed_1", "succeeded", "debug"]


class _Cells(HTMLParser):
    """The text of each table cell, and every tag inside cells (there should be none)."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: List[str] = []
        self.tags: List[str] = []
        self._in = False

    def handle_starttag(self, tag, attrs):
        if tag in ("td", "th"):
            self._in = True
            self.cells.append("")
        elif self._in:
            self.tags.append(tag)

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self._in = False

    def handle_data(self, data):
        if self._in:
            self.cells[-1] += data


@pytest.mark.parametrize("name", HOSTILE, ids=lambda n: re.sub(r"\W+", "-", n).strip("-") or "symbols")
def test_results_md_shows_each_name_as_written(name):
    import markdown

    lines = runs_markdown([result(name, value=name, reason=name)], [KEY], ["train_loss_last"], RANKING)
    html = markdown.markdown("\n".join(lines), extensions=["tables"])
    cells = _Cells()
    cells.feed(html)
    cells.close()
    assert cells.tags == [], f"markup rendered from {name!r}: {html}"
    body = cells.cells[len(cells.cells) // 2:]
    assert [body[1], body[3], body[-1]] == [name.strip()] * 3


def test_underscores_inside_names_stay_readable_in_the_raw_file():
    lines = runs_markdown([result("bc_rnn_hyper_plr_0.001_seed_1")], [KEY], ["train_loss_last"], RANKING)
    assert "| bc_rnn_hyper_plr_0.001_seed_1 |" in lines[2]


@pytest.mark.parametrize("text", ["/tmp/sweep", "/tmp/a`b", "`start"], ids=["plain", "a-backtick", "leading-backtick"])
def test_a_code_span_holds_any_path(text):
    import markdown

    html = markdown.markdown(md_code(text))
    assert re.search(r"<code>(.*)</code>", html).group(1) == text
