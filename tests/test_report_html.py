"""The HTML report (issue 13 item 6): ``hazard-rules report EXPORT -o report.html``.

* parsed back, the page gives the numbers of the Result: ranking, scorecards and their veto
  reasons, findings per status, the calendar, classifications, candidates, unmapped and
  rejected records;
* it is self-contained (loads nothing; a CSP allows only its own style and script) and reads
  fully without its script (nothing hidden by default);
* rule and record text never becomes markup (autoescaping);
* without Jinja2 the command exits 2 naming the extra; an extension that fits no format is
  refused — for ``check -o`` too;
* headless Chromium renders it to a PNG with no console message, and its filter script runs.
"""

from __future__ import annotations

import builtins
import os
import shutil
import struct
import subprocess
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from conftest import EXPORT, REPO, write_pack
from hazard_rules import Result, evaluate, load_packs
from hazard_rules.api import assess
from hazard_rules.cli import main
from hazard_rules.output.lang import STATUS_ZH
from hazard_rules.packs import bundled_packs
from hazard_rules.periods import parse_period

pytest.importorskip("jinja2")

AS_OF = date(2026, 1, 15)
WAIVERS = REPO / "examples" / "waivers.yaml"
ARGS = [str(EXPORT), "--as-of", AS_OF.isoformat(), "--waivers", str(WAIVERS)]


# -- a small DOM from html.parser -----------------------------------------------------------

VOID = {"meta", "br", "col", "img", "input", "link", "hr", "source", "wbr", "area", "base"}


@dataclass
class El:
    tag: str
    attrs: dict[str, str | None]
    children: list[El | str] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self) -> Iterator[El]:
        yield self
        for c in self.children:
            if isinstance(c, El):
                yield from c.iter()

    def all(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> list[El]:
        return [
            e
            for e in self.iter()
            if (tag is None or e.tag == tag)
            and (cls is None or cls in e.classes)
            and all(e.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())
        ]

    def one(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> El:
        found = self.all(tag, cls, **attrs)
        assert len(found) == 1, (tag, cls, attrs, len(found))
        return found[0]

    def get(self, cls: str) -> str:
        return " ".join(self.one(cls=cls).text().split())


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = El("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        el = El(tag, dict(attrs))
        self.stack[-1].children.append(el)
        if tag not in VOID:
            self.stack.append(el)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(El(tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        assert self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(html: str) -> El:
    b = _Builder()
    b.feed(html)
    b.close()
    assert b.stack == [b.root], "unclosed elements: " + ", ".join(e.tag for e in b.stack[1:])
    return b.root


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


# -- the example report ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def expected() -> Result:
    """The Result the report is of, from the API (with the unmapped records the report
    adds)."""
    packs = load_packs(*bundled_packs())
    result = assess(packs, EXPORT, AS_OF, waivers=WAIVERS)
    unmapped = evaluate(packs, EXPORT, AS_OF, show_unmapped=True).unmapped
    return result.model_copy(update={"unmapped": unmapped})


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("html") / "report.html"
    assert main(["report", *ARGS, "-o", str(target)]) == 0
    return target


@pytest.fixture(scope="module")
def page(report: Path) -> El:
    return parse(report.read_text(encoding="utf-8"))


def test_the_example_has_what_the_report_must_show(expected: Result) -> None:
    a = expected.assessment
    assert a is not None and a.ranking and a.calendar
    assert any(c.vetoed for c in a.scorecards) and any(not c.vetoed for c in a.scorecards)
    assert expected.counts.waived >= 1 and expected.counts.doubtful >= 1
    assert expected.rejected and expected.classifications and expected.candidates
    assert expected.unmapped


def test_the_header_gives_the_counts(page: El, expected: Result) -> None:
    a = expected.assessment
    assert a is not None
    c = expected.counts
    assert page.get("period") == a.period and page.get("previous-period") == a.previous
    assert page.get("as-of") == AS_OF.isoformat()
    assert page.get("packs") == "、".join(expected.packs)
    for cls, value in [
        ("read", c.read),
        ("evaluated", c.evaluated),
        ("rejected-count", c.rejected),
        ("violations", c.violations),
        ("classifications", c.classifications),
        ("candidates", c.candidates),
    ]:
        assert page.one("dd", cls).text() == str(value), cls
    header = page.one("header")
    assert header.get("waived") == str(c.waived) and header.get("doubtful") == str(c.doubtful)


def test_the_ranking_is_the_results(page: El, expected: Result) -> None:
    a = expected.assessment
    assert a is not None
    rows = page.one("section", id="ranking").all("tr", "rank-row")
    assert [r.attrs["data-subject"] for r in rows] == [e.subject.id for e in a.ranking]
    for row, e in zip(rows, a.ranking, strict=True):
        assert row.get("rank") == (str(e.rank) if e.rank is not None else "一票否优")
        assert row.get("score") == _num(e.score)
        assert row.get("previous") == _num(e.previous_score)
        assert row.get("change") == ("" if e.score_change is None else f"{e.score_change:+.1f}")
        assert row.get("previous-rank") == ("" if e.previous_rank is None else str(e.previous_rank))
        if e.vetoed:
            continue
        change = e.rank_change
        shown = "" if change is None else "=" if change == 0 else f"{'↑' if change > 0 else '↓'}"
        assert row.get("rank-change").startswith(shown)
        if change:
            assert row.get("rank-change")[1:] == str(abs(change))
    # the vetoed are listed apart, after the ranked
    vetoed = page.one("table", "vetoed").all("tr", "rank-row")
    assert [r.attrs["data-subject"] for r in vetoed] == [
        e.subject.id for e in a.ranking if e.vetoed
    ]


def test_each_scorecard_is_the_results(page: El, expected: Result) -> None:
    a = expected.assessment
    assert a is not None
    cards = page.all("article", "card")
    assert [c.attrs["data-subject"] for c in cards] == [s.subject.id for s in a.scorecards]
    previous = {c.subject.id: c for c in a.previous_scorecards}
    for el, card in zip(cards, a.scorecards, strict=True):
        where = card.subject.id
        assert el.get("met") == str(card.met) and el.get("judged") == str(card.judged), where
        assert el.get("score") == _num(card.score), where
        prev = previous.get(card.subject.id)
        assert el.get("previous") == _num(prev.score if prev else None), where
        verdict = el.one(cls="verdict")
        assert verdict.attrs["data-vetoed"] == ("true" if card.vetoed else "false"), where
        assert verdict.text().startswith("一票否优" if card.vetoed else "未触发一票否优")
        for cls, value in [
            ("misclassified", card.misclassified),
            ("doubtful", card.doubtful),
            ("waived", card.waived),
        ]:
            assert el.one("dd", cls).text() == str(value), (where, cls)
        reasons = el.all("li", "reason")
        assert [r.attrs["data-rule"] for r in reasons] == [r.rule for r in card.veto_reasons]
        for li, r in zip(reasons, card.veto_reasons, strict=True):
            assert li.get("veto") == r.veto
            assert bool(li.all(cls="doubtful")) == r.doubtful
            if r.cite:
                assert r.cite in li.text()
        obligations = el.all("table", "obligations")
        shown = obligations[0].all("tr", None) if obligations else []
        assert [t.attrs.get("data-rule") for t in shown if "data-rule" in t.attrs] == [
            o.rule for o in card.obligations
        ]
        matrix = {t.attrs["data-status"]: t for t in el.all("tr") if "data-status" in t.attrs}
        assert set(matrix) == set(card.findings)
        for status, by_severity in card.findings.items():
            assert matrix[status].get("total") == str(sum(by_severity.values()))


def test_the_findings_table_counts_every_status(page: El, expected: Result) -> None:
    rows = page.one("table", id="findings-table").all("tr", "finding")
    assert len(rows) == len(expected.violations) == expected.counts.violations
    assert page.get("findings-total") == str(len(rows))
    by_status = Counter(r.attrs["data-status"] for r in rows)
    assert dict(by_status) == expected.counts.by_status
    for row, v in zip(rows, expected.violations, strict=True):
        assert row.attrs["data-rule"] == v.rule and row.attrs["data-status"] == v.status
        assert row.get("status").startswith(STATUS_ZH[v.status])
        assert ("存疑" in row.get("status")) == v.doubtful
        assert row.get("cite") == " ".join(v.cite.split())
        assert v.title in row.text()
        assert bool(row.all(cls="waiver")) == (v.waiver is not None)
        if v.waiver is not None:
            assert v.waiver.id in row.text() and v.waiver.approved_by in row.text()
        # the enterprise of a finding about a site is the site's enterprise
        a = expected.assessment
        assert a is not None
        enterprise = v.subject.id if v.subject.type == "enterprise" else a.owners[str(v.subject)]
        assert row.attrs["data-enterprise"] == enterprise
        assert a.names[f"enterprise:{enterprise}"] in row.text()
    assert sum("存疑" in r.get("status") for r in rows) == expected.counts.doubtful


def test_the_calendar_heatmaps_are_the_results(page: El, expected: Result) -> None:
    a = expected.assessment
    assert a is not None and a.previous is not None
    first, last = parse_period(a.previous).start, parse_period(a.period).end
    seen = 0
    for row in a.calendar:
        assert row.owner is not None
        want = {
            label: status
            for label, status in row.cells.items()
            if parse_period(label).start <= last and parse_period(label).end >= first
        }
        if not want:
            continue
        heatmap = page.one("table", "heatmap", data_subject=row.owner)
        (tr,) = [
            t
            for t in heatmap.all("tr")
            if t.attrs.get("data-rule") == row.rule
            and t.attrs.get("data-row-subject") == str(row.subject)
        ]
        cells = {
            td.attrs["data-period"]: td.attrs["data-status"]
            for td in tr.all("td", "cell")
            if "data-period" in td.attrs
        }
        assert cells == want, (row.owner, row.rule)
        seen += len(want)
    assert seen > 50
    legend = page.all("p", "legend")
    assert legend and all(
        word in legend[0].text() for word in ("按时完成", "逾期完成", "缺失", "已豁免", "未到期")
    )


def test_labels_unmapped_and_rejected_are_listed(page: El, expected: Result) -> None:
    assert len(page.all("tr", "classification")) == len(expected.classifications)
    candidates = page.all("tr", "candidate")
    assert len(candidates) == len(expected.candidates)
    for tr, c in zip(candidates, expected.candidates, strict=True):
        assert str(c.record) in tr.text() and c.rule in tr.text()
    assert expected.unmapped is not None
    unmapped = [li.text() for li in page.all("li", "unmapped-record")]
    assert unmapped == [str(r) for r in expected.unmapped]
    rejected = page.all("tr", "rejected-row")
    assert len(rejected) == len(expected.rejected) == expected.counts.rejected
    for tr, r in zip(rejected, expected.rejected, strict=True):
        assert r.source in tr.text() and r.reason in tr.text()


def test_the_page_is_self_contained_and_hides_nothing(page: El, report: Path) -> None:
    html = report.read_text(encoding="utf-8")
    assert "http://" not in html and "https://" not in html
    for el in page.iter():
        assert "src" not in el.attrs, el.tag
        assert "style" not in el.attrs, el.tag
        href = el.attrs.get("href")
        assert href is None or href.startswith("#"), href
        if "hidden" in el.attrs:
            assert el.attrs.get("id") == "filters"  # the form the script shows
    assert not page.all("link") and not page.all("iframe") and not page.all("img")
    assert len(page.all("script")) == 1 and len(page.all("style")) == 1
    csp = page.one("meta", http_equiv="Content-Security-Policy").attrs["content"] or ""
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp
    assert page.one("html").attrs["lang"] == "zh-CN"
    assert "@page" in html and "@media print" in html  # A4 print rules


# -- no text becomes markup -----------------------------------------------------------------

EVIL_DESCRIPTION = "<script>alert(1)</script>"
EVIL_TITLE = "遗留隐患<b>未整改</b>"


@pytest.fixture(scope="module")
def evil(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """An export whose hazard H001 has a script for a description, and a pack whose rule
    title holds markup: (export, pack, the report written of them)."""
    root = tmp_path_factory.mktemp("evil")
    export = root / "export"
    shutil.copytree(EXPORT, export)
    hazards = export / "hazard.csv"
    text = hazards.read_text(encoding="utf-8")
    assert "商场地下车库防火卷帘下方堆放杂物" in text
    hazards.write_text(
        text.replace("商场地下车库防火卷帘下方堆放杂物", EVIL_DESCRIPTION), encoding="utf-8"
    )
    pack = write_pack(
        root,
        [
            {
                "id": "evil.legacy",
                "kind": "check",
                "title": EVIL_TITLE,
                "cite": "测试 <i>一</i>",
                "severity": "high",
                "for": "hazard",
                "where": {"discovered_on": {"lte": date(2023, 12, 31)}},
                "due": date(2024, 12, 31),
                "done": "rectified_on",
                "message": {
                    "zh": "{record}（{description}）未整改",
                    "en": "{record}: {description}",
                },
            }
        ],
        pack_id="evil",
    )
    target = root / "evil.html"
    argv = ["report", str(export), "--as-of", "2026-01-15", "--pack", "baoshan-2024"]
    assert main([*argv, "--pack", str(pack), "-o", str(target)]) == 0
    return export, pack, target


def test_rule_and_record_text_never_becomes_markup(evil: tuple[Path, Path, Path]) -> None:
    html = evil[2].read_text(encoding="utf-8")
    page = parse(html)
    assert len(page.all("script")) == 1 and not page.all("b") and not page.all("i")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;" in html
    text = page.text()
    assert EVIL_DESCRIPTION in text and EVIL_TITLE in text and "测试 <i>一</i>" in text
    (row,) = [
        r
        for r in page.all("tr", "finding")
        if r.attrs["data-rule"] == "evil.legacy" and "hazard:H001" in r.text()
    ]
    assert EVIL_TITLE in row.text() and EVIL_DESCRIPTION in row.text()


# -- the command ----------------------------------------------------------------------------


def test_without_jinja2_the_command_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    real = builtins.__import__

    def no_jinja2(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "jinja2" or name.startswith("jinja2."):
            raise ImportError("No module named 'jinja2'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_jinja2)
    target = tmp_path / "report.html"
    assert main(["report", *ARGS, "-o", str(target)]) == 2
    err = capsys.readouterr().err
    assert "pip install 'hazard-rules[report]'" in err and "Traceback" not in err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["report", "-o", "{dir}/r.pdf"], ".html, .htm, .xlsx, .json, .txt"),
        (["report", "-o", "{dir}/report"], "the file has no extension"),
        (["check", "-o", "{dir}/r.xlsx"], "hazard-rules report EXPORT -o report.html"),
        (["check", "-o", "{dir}/r.html"], "hazard-rules report"),
        (["check", "-o", "{dir}/r.json"], "use --format json"),
        (["check", "--format", "csv", "-o", "{dir}/r.json"], "use --format json"),
        (["check", "--format", "junit", "-o", "{dir}/r.sarif"], "use --format sarif"),
        (["due", "--format", "ics", "-o", "{dir}/r.csv"], "use --format csv"),
    ],
)
def test_an_extension_that_does_not_fit_is_refused(
    argv: list[str], says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [a.replace("{dir}", str(tmp_path)) for a in argv]
    code = main([args[0], str(EXPORT), "--as-of", "2026-01-15", *args[1:]])
    err = capsys.readouterr().err
    assert code == 2, err
    assert says in err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "--format", "json", "-o", "{dir}/r.json"],
        ["check", "--format", "sarif", "-o", "{dir}/r.sarif.json"],
        ["check", "-o", "{dir}/r.txt"],
        ["check", "--format", "jsonl", "-o", "{dir}/r.ndjson"],
        ["check", "-o", "{dir}/findings.2026-01-15"],  # an extension that says nothing
    ],
)
def test_an_extension_that_fits_is_written(argv: list[str], tmp_path: Path) -> None:
    args = [a.replace("{dir}", str(tmp_path)) for a in argv]
    assert main([args[0], str(EXPORT), "--as-of", "2026-01-15", "-q", *args[1:]]) == 1
    (written,) = tmp_path.iterdir()
    assert written.stat().st_size > 0


def test_a_failed_report_leaves_no_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from hazard_rules.output import report_html

    def broken(*args: Any, **kwargs: Any) -> str:
        raise RuntimeError("template failed")

    monkeypatch.setattr(report_html, "render_html", broken)
    target = tmp_path / "report.html"
    assert main(["report", *ARGS, "-o", str(target)]) == 2
    assert "template failed" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_a_written_report_is_readable_by_others(report: Path) -> None:
    if os.name != "posix":
        pytest.skip("POSIX permissions")
    mask = os.umask(0o022)
    os.umask(mask)
    assert report.stat().st_mode & 0o777 == 0o666 & ~mask


# -- headless Chromium ----------------------------------------------------------------------


def _chromium() -> str:
    for name in (os.environ.get("HAZARD_RULES_CHROMIUM", ""), "chromium", "chromium-browser"):
        if name and (found := shutil.which(name)):
            return found
    pytest.skip(
        "chromium is not installed (Debian: apt-get install chromium; .ci/run installs it), "
        "so the HTML report cannot be rendered"
    )


def _run_chromium(url: str, *flags: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="hr-chromium-") as profile:
        argv = [
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            *flags,
            url,
        ]
        return subprocess.run(
            argv, capture_output=True, text=True, encoding="utf-8", errors="replace", timeout=180
        )


def _console(stderr: str) -> list[str]:
    """The page's console messages and uncaught errors (``INFO:CONSOLE`` lines), and any
    refused load or blocked inline code (CSP)."""
    return [
        line
        for line in stderr.splitlines()
        if ":CONSOLE" in line or "Uncaught" in line or "Content Security Policy" in line
    ]


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def test_chromium_renders_the_report_without_console_errors(report: Path, tmp_path: Path) -> None:
    png = tmp_path / "report.png"
    proc = _run_chromium(report.as_uri(), f"--screenshot={png}", "--window-size=1280,2400")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not _console(proc.stderr), _console(proc.stderr)
    assert _png_size(png) == (1280, 2400)
    assert png.stat().st_size > 100_000  # a page full of tables and colour, not a blank one


def test_the_filter_script_runs_in_chromium(report: Path, expected: Result) -> None:
    proc = _run_chromium(report.as_uri() + "?status=late", "--dump-dom")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not _console(proc.stderr), _console(proc.stderr)
    dom = parse_loose(proc.stdout)
    assert dom.one("html").attrs.get("data-js") == "ok"  # the script ran to its end
    assert "hidden" not in dom.one("form", id="filters").attrs
    rows = dom.all("tr", "finding")
    shown = [r for r in rows if "hidden" not in r.attrs]
    assert len(rows) == len(expected.violations)
    assert len(shown) == expected.counts.by_status["late"]
    assert all(r.attrs["data-status"] == "late" for r in shown)


def test_chromium_runs_no_injected_script(evil: tuple[Path, Path, Path]) -> None:
    proc = _run_chromium(evil[2].as_uri(), "--dump-dom")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not _console(proc.stderr), _console(proc.stderr)
    dom = parse_loose(proc.stdout)
    assert dom.one("html").attrs.get("data-js") == "ok"
    assert len(dom.all("script")) == 1 and not dom.all("b")


def parse_loose(html: str) -> El:
    """The DOM Chromium serialises (``--dump-dom``): well-formed too, but it may leave out
    optional end tags, so only the elements are kept as they open."""
    b = _Loose()
    b.feed(html)
    b.close()
    return b.root


class _Loose(_Builder):
    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return
