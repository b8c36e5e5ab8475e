"""Settings from one TOML file plus the environment: what an operator writes and what they are
told when it is wrong (bot/config.py, `wegweiser config check`)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bot import config
from bot.cli import _apply, main, parser

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "7000123456:AAF-distinctive-test-token-value_xyz123"
PASSWORD = "matrix-pw-Quokka-9"
REDIS_PASSWORD = "redis-pw-Wombat-7"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No setting from the machine running the tests, and no wegweiser.toml found by chance
    in the current folder."""
    for setting in config.SETTINGS:
        monkeypatch.delenv(setting.env, raising=False)
    monkeypatch.delenv(config.CONFIG_ENV, raising=False)
    monkeypatch.chdir(tmp_path)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "wegweiser.toml"
    path.write_text(text, "utf-8")
    return path


def _args(argv: list[str], environ: dict[str, str] | None = None) -> argparse.Namespace:
    """The command line as a command sees it once the settings are applied."""
    args = parser().parse_args(argv)
    loaded = config.load(getattr(args, "config_file", None), environ or {})
    assert not loaded.problems, loaded.problems
    _apply(args, loaded)
    return args


def test_the_file_sets_what_the_command_line_leaves_out(tmp_path: Path) -> None:
    path = _write(tmp_path, '[bot]\nkeep_days = 14\nkeep_stats_days = 60\n'
                            f'data_dir = "{tmp_path / "data"}"\n')
    args = _args(["--config", str(path), "run", "console"])
    assert (args.keep_days, args.keep_stats_days) == (14, 60)
    assert args.data_dir == tmp_path / "data"


def test_the_environment_wins_over_the_file_and_the_command_line_over_both(
        tmp_path: Path) -> None:
    path = _write(tmp_path, "[bot]\nkeep_days = 14\n")
    assert _args(["--config", str(path), "run", "console"],
                 {"WEGWEISER_KEEP_DAYS": "7"}).keep_days == 7
    assert _args(["--config", str(path), "run", "console", "--keep-days", "3"],
                 {"WEGWEISER_KEEP_DAYS": "7"}).keep_days == 3


def test_an_empty_variable_does_not_hide_the_files_value(tmp_path: Path) -> None:
    """As in an env file with `WEGWEISER_KEEP_DAYS=` left empty."""
    path = _write(tmp_path, "[bot]\nkeep_days = 14\n")
    assert _args(["--config", str(path), "run", "console"],
                 {"WEGWEISER_KEEP_DAYS": ""}).keep_days == 14


def test_the_file_may_be_named_after_the_command_by_variable_or_by_its_place(
        tmp_path: Path) -> None:
    path = _write(tmp_path, "[bot]\nkeep_days = 21\n")
    assert _args(["run", "console", "--config", str(path)]).keep_days == 21
    assert _args(["run", "console"], {"WEGWEISER_CONFIG": str(path)}).keep_days == 21
    assert _args(["run", "console"]).keep_days == 21, "./wegweiser.toml is read by itself"


def test_unknown_keys_and_sections_are_refused_with_a_suggestion(tmp_path: Path) -> None:
    path = _write(tmp_path, '[telegram]\ntokn = "x"\n\n[metrcs]\nlisten = "off"\n')
    problems = [str(p) for p in config.load(path, {}).problems]
    assert problems == [
        f"{path} [telegram] tokn: unknown setting; did you mean token? (in [telegram]: "
        "token, username, api_url, webhook_url, webhook_secret, listen)",
        f"{path} [metrcs]: unknown section; did you mean metrics? (sections: bot, log, "
        "matrix, metrics, telegram)"]


@pytest.mark.parametrize(("line", "expected"), [
    ('keep_days = "30"', 'must be written like keep_days = 30, not str'),
    ("keep_days = 0", "'0' is not valid: expected a whole number of days, 1 or more"),
    ("keep_days = true", "must be written like keep_days = 30, not bool"),
    ('admins = "telegram:1"', None),  # one account as a string is fine
    ("admins = [1, 2]", 'must be written like admins = ["…", "…"], not list'),
    ('store = "postgres://db"', "is not valid: expected redis://host:6379/0"),
    ('adapters = ["telegram", "whatsapp"]', "expected adapter names from: console, matrix, "
                                            "telegram"),
])
def test_wrong_values_in_the_file_are_explained(tmp_path: Path, line: str,
                                                expected: str | None) -> None:
    path = _write(tmp_path, f"[bot]\n{line}\n")
    problems = [str(p) for p in config.load(path, {}).problems]
    if expected is None:
        assert problems == []
    else:
        [problem] = problems
        assert problem.startswith(f"{path} [bot] {line.split()[0]}: ")
        assert expected in problem


def test_broken_toml_is_reported_with_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "[telegram]\ntoken = 123:abc\n")
    [problem] = config.load(path, {}).problems
    assert str(problem).startswith(f"{path}: not valid TOML: ")
    assert "line 2" in str(problem)
    assert 'Strings need quotes: token = "123:abc"' in str(problem)


def test_a_missing_file_named_on_purpose_is_a_problem(tmp_path: Path) -> None:
    [problem] = config.load(tmp_path / "nope.toml", {}).problems
    assert "no such file" in str(problem)


def test_a_wrong_environment_value_stops_every_command_before_it_starts(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    monkeypatch.setenv("WEGWEISER_KEEP_STATS_DAYS", "soon")
    data = tmp_path / "data"
    assert main(["run", "console", "--data-dir", str(data)]) == 2
    err = capsys.readouterr().err
    assert ("environment variable WEGWEISER_KEEP_STATS_DAYS: 'soon' is not valid: expected "
            "a whole number of days, 1 or more") in err
    assert not data.exists()


def test_a_misspelt_environment_variable_is_pointed_out() -> None:
    loaded = config.load(None, {"WEGWEISER_TELEGRAM_TOKN": "x"})
    assert [str(w) for w in loaded.warnings] == [
        "environment variable WEGWEISER_TELEGRAM_TOKN: is not a setting of Wegweiser; did "
        "you mean WEGWEISER_TELEGRAM_TOKEN?"]


def test_config_check_shows_sources_and_never_a_secret(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    path = _write(tmp_path, f'[bot]\nadapters = ["telegram", "matrix"]\n'
                            f'store = "redis://:{REDIS_PASSWORD}@redis:6379/0"\n\n'
                            f'[telegram]\ntoken = "{TOKEN}"\n\n'
                            '[matrix]\nhomeserver = "https://matrix.example.org"\n'
                            'user = "@wegweiser:example.org"\n')
    monkeypatch.setenv("WEGWEISER_MATRIX_PASSWORD", PASSWORD)
    assert main(["config", "check", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    for secret in (TOKEN, PASSWORD, REDIS_PASSWORD):
        assert secret not in out
    assert f"telegram.token           set ({len(TOKEN)} characters, hidden)  ({path})" in out
    assert "matrix.password          set (18 characters, hidden)  (environment)" in out
    assert f"bot.store                redis://***@redis:6379/0  ({path})" in out
    assert "bot.keep_days            30  (default)" in out
    assert "OK; ready to run telegram, matrix." in out


def test_config_check_names_what_an_enabled_adapter_is_missing(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = _write(tmp_path, '[bot]\nadapters = ["telegram", "matrix"]\n')
    assert main(["config", "check", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "2 problem(s):" in err
    assert "the telegram adapter: WEGWEISER_TELEGRAM_TOKEN is not set" in err
    assert "(or in the config file: [telegram] token)" in err
    assert "the matrix adapter: set WEGWEISER_MATRIX_HOMESERVER" in err


def test_config_check_lists_every_problem_of_the_file_at_once(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = _write(tmp_path, '[bot]\nkeep_days = "30"\n\n[log]\nformat = "xml"\n')
    assert main(["config", "check", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "[bot] keep_days: must be written like keep_days = 30" in err
    assert "[log] format: 'xml' is not valid: expected one of text, json" in err


def test_run_refuses_to_start_without_the_token_of_an_adapter_from_the_file(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = _write(tmp_path, f'[bot]\nadapters = ["telegram"]\ndata_dir = "{tmp_path / "d"}"\n')
    assert main(["--config", str(path), "run"]) == 2
    assert "WEGWEISER_TELEGRAM_TOKEN is not set" in capsys.readouterr().err
    assert not (tmp_path / "d").exists(), "nothing is created before the settings are complete"


def test_run_without_adapters_says_how_to_name_them(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run"]) == 2
    assert "wegweiser run telegram matrix" in capsys.readouterr().err


def test_the_example_file_is_current_and_valid() -> None:
    """wegweiser.example.toml in the repository is what `config example` prints, so it
    lists every setting with its variable, and it loads without a problem."""
    example = ROOT / "wegweiser.example.toml"
    assert example.read_text("utf-8") == config.example(), (
        "regenerate it: wegweiser config example > wegweiser.example.toml")
    loaded = config.load(example, {})
    assert loaded.problems == ()
    for setting in config.SETTINGS:
        assert setting.env in example.read_text("utf-8")


def test_secrets_for_the_log_filter_include_the_redis_password_only() -> None:
    loaded = config.load(None, {"WEGWEISER_STORE": f"redis://:{REDIS_PASSWORD}@redis:6379/0",
                                "WEGWEISER_TELEGRAM_TOKEN": TOKEN})
    assert sorted(config.secrets(loaded)) == sorted([REDIS_PASSWORD, TOKEN])
