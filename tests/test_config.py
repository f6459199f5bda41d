"""Configuration files (issue 16, item 2): found upwards like ruff's and pytest's, validated
with located errors, overridden by flags, shown by ``hazard-rules config``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import REPO
from hazard_rules.cli import main
from hazard_rules.cli.config import find_config, load_config
from hazard_rules.errors import ConfigError

EXPORT = str(REPO / "examples" / "export")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project folder with a subfolder, the current folder being the subfolder."""
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "sub" / "deeper")
    for name in ("COLUMNS", "NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_found_upwards_and_hazard_rules_toml_wins(project: Path) -> None:
    assert find_config() is None
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n', "utf-8")
    assert find_config() is None  # a pyproject.toml without the table is passed over
    (project / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.hazard-rules]\nlang = "en"\n', "utf-8"
    )
    assert find_config() == (project / "pyproject.toml").resolve()
    (project / "sub" / "hazard-rules.toml").write_text('lang = "zh"\n', "utf-8")
    assert find_config() == (project / "sub" / "hazard-rules.toml").resolve()


def test_every_problem_is_located_with_a_suggestion(project: Path) -> None:
    path = project / "pyproject.toml"
    path.write_text(
        "[project]\n"
        'name = "x"\n'
        "\n"
        "[tool.hazard-rules]\n"
        'packs = ["baoshan-2024"]\n'
        'fail_on = "severe"\n'
        "  max-rejectd = 5\n"
        'as_of = "yesterday"\n'
        "jobs = 0\n"
        'map = "no-such-map.yaml"\n'
        "\n"
        "[tool.other]\n"
        "x = 1\n",
        "utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    shown = [str(d).replace(str(project) + "/", "") for d in info.value.diagnostics]
    assert [s.split(": ", 1)[0] for s in shown] == [
        f"{path}:6:1".replace(str(project) + "/", ""),
        f"{path}:7:3".replace(str(project) + "/", ""),
        f"{path}:8:1".replace(str(project) + "/", ""),
        f"{path}:9:1".replace(str(project) + "/", ""),
        f"{path}:10:1".replace(str(project) + "/", ""),
    ]
    text = "\n".join(shown)
    assert "fail_on: 'severe' is not one of critical, high, medium, low" in text
    assert "unknown key 'max-rejectd'" in text and "did you mean 'max_rejected'?" in text
    assert "as_of: 'yesterday' is neither a date" in text
    assert "jobs: 0: expected a whole number of processes" in text
    assert "no-such-map.yaml: no such file" in text


def test_a_toml_syntax_error_is_located(project: Path) -> None:
    path = project / "hazard-rules.toml"
    path.write_text('lang = "en"\nformat = \n', "utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    (d,) = info.value.diagnostics
    assert d.code == "invalid_toml" and d.span.line == 2


def test_the_command_exits_2_on_a_bad_file(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "hazard-rules.toml").write_text('langg = "en"\n', "utf-8")
    code, _, err = run(capsys, "check", EXPORT)
    assert code == 2
    assert "hazard-rules.toml:1:1: unknown_key: unknown key 'langg'" in err
    assert "did you mean 'lang'?" in err
    assert "Traceback" not in err


def test_values_flags_and_sources(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "packs").mkdir()
    (project / "hazard-rules.toml").write_text(
        'packs = ["baoshan-2024"]\n'
        "as-of = 2026-01-15\n"
        'lang = "en"\n'
        "exit_zero = true\n"
        'select = ["baoshan-2024.task-*"]\n',
        "utf-8",
    )
    code, out, _ = run(capsys, "config", "--json", "--lang", "zh")
    assert code == 0
    doc = json.loads(out)
    values = doc["values"]
    assert doc["file"].endswith("hazard-rules.toml")
    assert values["packs"]["value"] == ["baoshan-2024"]
    assert values["packs"]["source"].endswith("hazard-rules.toml:1")
    assert values["as_of"]["value"] == "2026-01-15"
    assert values["as_of"]["source"].endswith("hazard-rules.toml:2")
    assert values["lang"]["value"] == "zh" and values["lang"]["source"] == "--lang"
    assert values["format"] == {"value": "table", "source": "default"}
    assert values["waivers"] == {"value": None, "source": "default"}
    # the file's values govern check: two task-list findings, exit 0 by exit_zero
    code, out, _ = run(capsys, "check", EXPORT, "--format", "json")
    assert code == 0
    rules = {v["rule"] for v in json.loads(out)["violations"]}
    assert rules == {"baoshan-2024.task-list-format"}
    # a flag overrides the file
    code, out, _ = run(
        capsys, "check", EXPORT, "--format", "json", "--select", "baoshan-2024.work-plan"
    )
    assert {v["rule"] for v in json.loads(out)["violations"]} == {"baoshan-2024.work-plan"}
    # --no-config: defaults (every bundled pack, today, exit 1)
    code, out, _ = run(capsys, "config", "--no-config", "--json")
    assert json.loads(out)["values"]["lang"] == {"value": "zh", "source": "default"}


def test_paths_in_the_file_are_relative_to_it(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    shutil.copytree(REPO / "examples/authoring/acme-hotwork", project / "mypacks" / "acme-hotwork")
    (project / "hazard-rules.toml").write_text('packs = ["mypacks/acme-hotwork"]\n', "utf-8")
    code, out, err = run(capsys, "explain", "acme-hotwork.welding-near-flammables")
    assert code == 0, err
    assert "ACME-HSE-07 第9条" in out
    code, out, _ = run(capsys, "lint")
    assert code == 0 and "acme-hotwork" in out


def test_waivers_from_the_file_reach_check(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "waivers.yaml").write_text(
        "waivers:\n"
        "  - {id: W1, rule: baoshan-2024.task-list-format, subject: E03, reason: 已补全,"
        " approved_by: 安全部, approved_on: 2025-01-01}\n",
        "utf-8",
    )
    (project / "hazard-rules.toml").write_text(
        'packs = ["baoshan-2024"]\nas_of = "2026-01-15"\nwaivers = "waivers.yaml"\n'
        'select = ["baoshan-2024.task-list-format"]\n',
        "utf-8",
    )
    code, out, err = run(capsys, "check", EXPORT, "--format", "json")
    statuses = {v["subject"]["id"]: v["status"] for v in json.loads(out)["violations"]}
    assert statuses == {"E03": "waived", "E06": "failed"}, err
    assert code == 1  # E06 is not waived
