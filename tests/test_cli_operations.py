"""`newsdesk check`, `backup` and `restore` (bot/cli/operations.py, bot/desk/health.py,
bot/telegram/health.py): good and broken settings and databases, Telegram through the Bot API
emulator, a running bot's lock, backups and restores with their refusals. Real SQLite files."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import Settings
from bot.desk.health import Status
from bot.telegram.health import _webhook
from storage.files import DatabaseLock
from storage.repository import latest_version
from tests.support.botapi import BotApiServer
from tests.test_cli import stored_articles

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123:CHECKTOKEN"


@pytest.fixture
def telegram() -> Iterator[BotApiServer]:
    with BotApiServer(token=TOKEN) as server:
        yield server


def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str,
        **environ: str) -> tuple[int, str, str]:
    """`newsdesk ARGS` in this process with exactly these settings; (exit code, stdout, stderr)."""
    from bot.cli import main

    for key in list(os.environ):
        if key.startswith(("FETCH_", "NEWSDESK_", "LLM_", "TELEGRAM_", "WEBHOOK_", "BACKUP_", "ALLOWED_", "ADMINS",
                           "EXTRACT_", "LOG_")):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)  # no .env here: only what the test sets
    defaults = {"NEWSDESK_DB": str(tmp_path / "cli.db"), "EXTRACT_WORKERS": "1", "TELEGRAM_BOT_TOKEN": TOKEN,
                "ALLOWED_CHATS": "-100500", "ADMINS": "501", "BACKUP_DIR": str(tmp_path / "backups")}
    for key, value in (defaults | environ).items():
        if value:
            monkeypatch.setenv(key, value)
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def checks_of(out: str) -> dict[str, dict[str, str]]:
    report = json.loads(out)
    return {check["name"]: check for check in report["checks"]}


def test_quick_check_of_a_new_installation_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(tmp_path, monkeypatch, capsys, "check", "--quick", "--json")
    checks = checks_of(out)
    assert code == 0 and json.loads(out)["ok"] is True
    assert checks["database"]["status"] == "ok" and "does not exist yet" in checks["database"]["detail"]
    assert checks["bot"]["detail"] == "no bot is running on this database"
    assert "workers" not in checks and "telegram" not in checks  # --quick: nothing slow, nothing remote
    assert not (tmp_path / "cli.db").exists()  # a check creates nothing


def test_full_check_with_telegram_workers_and_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str], telegram: BotApiServer) -> None:
    stored_articles(tmp_path, ["One", "Two"])
    code, out, _ = run(tmp_path, monkeypatch, capsys, "check", "--json", TELEGRAM_BASE_URL=telegram.base_url)
    checks = checks_of(out)
    assert code == 0, out
    assert "2 items" in checks["database"]["detail"]
    assert checks["schema"]["status"] == "ok" and checks["integrity"]["detail"] == "PRAGMA quick_check: ok"
    assert checks["workers"]["status"] == "ok"
    assert "@newsdesk_test_bot" in checks["telegram"]["detail"]
    assert checks["webhook"]["status"] == "ok" and "polls" in checks["webhook"]["detail"]
    assert TOKEN not in out and TOKEN.split(":")[1] not in out


def test_readable_report_names_each_bad_setting_with_its_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(tmp_path, monkeypatch, capsys, "check", WEBHOOK_PORT="eighty", ALLOWED_CHATS="desk",
                       DEFAULT_TIMEZONE="Kyiv", TELEGRAM_BOT_TOKEN='"123:QUOTEDTOKEN"', WEBHOOK_URL="http://bot.example/hook")
    assert code == 1
    for name in ("WEBHOOK_PORT", "ALLOWED_CHATS", "DEFAULT_TIMEZONE", "TELEGRAM_BOT_TOKEN", "WEBHOOK_URL"):
        line = next(line for line in out.splitlines() if f" {name} " in line)
        assert line.lstrip().startswith("FAIL"), line
    assert out.count("->") == 5  # a fix under each
    assert "it is in quotes" in out and "TLS reverse proxy" in out and "/id" in out
    assert "QUOTEDTOKEN" not in out
    assert out.rstrip().endswith("not ready: 5 failed, 0 warnings, 0 ok")


def test_a_missing_token_and_empty_chats_are_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(tmp_path, monkeypatch, capsys, "check", "--quick", "--json", TELEGRAM_BOT_TOKEN="",
                       ALLOWED_CHATS="", ADMINS="", BACKUP_DIR="")
    checks = checks_of(out)
    assert code == 1
    assert checks["TELEGRAM_BOT_TOKEN"]["status"] == "fail" and "@BotFather" in checks["TELEGRAM_BOT_TOKEN"]["fix"]
    assert checks["ALLOWED_CHATS"]["status"] == "warn" and "set-up mode" in checks["ALLOWED_CHATS"]["detail"]
    assert checks["BACKUP_DIR"]["status"] == "warn"


@pytest.mark.parametrize(("breakage", "name", "words"), [
    ("damaged", "integrity|database", "quick_check|malformed"),
    ("newer", "schema", "newer Newsdesk"),
    ("not sqlite", "database", "not a usable SQLite database"),
    ("unwritable path", "database", "cannot create"),
])
def test_broken_databases_fail_the_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str], breakage: str, name: str,
                                         words: str) -> None:
    database = tmp_path / "cli.db"
    stored_articles(tmp_path, [f"Article {n} " + "w" * 2000 for n in range(300)])
    if breakage == "damaged":
        from tests.test_files import damage
        damage(database)
    elif breakage == "newer":
        with sqlite3.connect(database) as connection:
            connection.execute(f"PRAGMA user_version = {latest_version() + 5}")
    elif breakage == "not sqlite":
        database.write_bytes(b"<html>this was overwritten by a web page</html>" * 100)
    else:
        (tmp_path / "occupied").write_text("a file where a folder should be")
        database = tmp_path / "occupied" / "cli.db"
    code, out, _ = run(tmp_path, monkeypatch, capsys, "check", "--quick" if breakage != "damaged" else "--json",
                       *(["--json"] if breakage != "damaged" else []), NEWSDESK_DB=str(database),
                       TELEGRAM_BASE_URL="http://127.0.0.1:9/bot")
    checks = checks_of(out)
    assert code == 1
    failed = [checks[n] for n in name.split("|") if checks.get(n, {}).get("status") == "fail"]
    assert failed and any(word in failed[0]["detail"] for word in words.split("|")), checks
    assert failed[0]["fix"]
    if breakage in ("damaged", "not sqlite"):
        assert "newsdesk restore" in failed[0]["fix"]


def test_a_stuck_bot_fails_the_quick_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """The running bot beats every 30 s on its lock; a HEALTHCHECK sees a beat that stopped."""
    lock = DatabaseLock(tmp_path / "cli.db")
    assert lock.acquire()
    try:
        code, out, _ = run(tmp_path, monkeypatch, capsys, "check", "--quick", "--json")
        assert code == 0 and f"process {os.getpid()}" in checks_of(out)["bot"]["detail"]
        old = datetime.now(UTC).timestamp() - 600
        os.utime(lock.path, (old, old))
        code, out, _ = run(tmp_path, monkeypatch, capsys, "check", "--quick", "--json")
        assert code == 1 and "has not shown it is alive for" in checks_of(out)["bot"]["detail"]
    finally:
        lock.release()


def test_a_rejected_token_and_an_unreachable_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str], telegram: BotApiServer) -> None:
    code, out, _ = run(tmp_path, monkeypatch, capsys, "check", "--json", TELEGRAM_BOT_TOKEN="999:WRONGTOKEN",
                       TELEGRAM_BASE_URL=telegram.base_url)
    assert code == 1 and "rejected the token" in checks_of(out)["telegram"]["detail"]
    assert "WRONGTOKEN" not in out
    code, out, _ = run(tmp_path, monkeypatch, capsys, "check", "--json", TELEGRAM_BASE_URL="http://127.0.0.1:9/bot")
    assert code == 1 and "cannot reach the Bot API" in checks_of(out)["telegram"]["detail"]


def test_webhook_settings_against_what_telegram_has(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str], telegram: BotApiServer) -> None:
    code, out, _ = run(tmp_path, monkeypatch, capsys, "check", "--json", TELEGRAM_BASE_URL=telegram.base_url,
                       WEBHOOK_URL="https://bot.example/hook", WEBHOOK_SECRET="")
    checks = checks_of(out)
    assert code == 0
    assert checks["WEBHOOK_SECRET"]["status"] == "warn"
    assert "registered when the bot starts" in checks["webhook"]["detail"]
    settings = Settings.from_env({"WEBHOOK_URL": "https://bot.example/hook", "WEBHOOK_PORT": "8080"})
    assert _webhook(settings, "https://other.example/x", None, None, 0).status == Status.WARN
    failing = _webhook(settings, "https://bot.example/hook", "Connection refused",
                       datetime(2026, 11, 28, 9, 0, tzinfo=UTC), 3)
    assert failing.status == Status.FAIL and "Connection refused" in failing.detail and ":8080" in failing.fix
    polling = Settings.from_env({})
    assert _webhook(polling, "https://left.example/over", None, None, 0).status == Status.WARN


def test_backup_and_restore_from_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    stored_articles(tmp_path, ["Kept in the backup"])
    code, out, _ = run(tmp_path, monkeypatch, capsys, "backup", str(tmp_path / "saved.db"))
    assert code == 0 and "1 items" in out and "integrity_check" in out
    code, _, err = run(tmp_path, monkeypatch, capsys, "backup", str(tmp_path / "saved.db"))
    assert code == 1 and "--force" in err
    stored_articles(tmp_path, ["Kept in the backup", "Added later"])
    code, out, _ = run(tmp_path, monkeypatch, capsys, "restore", str(tmp_path / "saved.db"), "--json")
    restored = json.loads(out)
    assert code == 0 and restored["items"] == 1 and restored["kept"]
    code, out, _ = run(tmp_path, monkeypatch, capsys, "latest", "--json")
    assert [json.loads(line)["title"] for line in out.splitlines()] == ["Kept in the backup"]


def test_restore_refuses_a_running_bot_and_bad_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    stored_articles(tmp_path, ["Live"])
    code, _, _ = run(tmp_path, monkeypatch, capsys, "backup", str(tmp_path / "saved.db"))
    assert code == 0
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from pathlib import Path; "
                               "from storage.files import DatabaseLock; lock = DatabaseLock(Path(sys.argv[1])); "
                               "assert lock.acquire(); print('held', flush=True); time.sleep(60)",
                               str(tmp_path / "cli.db")], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        code, _, err = run(tmp_path, monkeypatch, capsys, "restore", str(tmp_path / "saved.db"))
        assert code == 1 and f"running Newsdesk bot (process {holder.pid})" in err
    finally:
        holder.kill()
        holder.wait(10)
        holder.stdout.close()
    (tmp_path / "page.html").write_text("<html>not a backup</html>")
    code, _, err = run(tmp_path, monkeypatch, capsys, "restore", str(tmp_path / "page.html"))
    assert code == 1 and "not restored" in err and "not a usable SQLite database" in err
    with sqlite3.connect(tmp_path / "saved.db") as connection:
        connection.execute(f"PRAGMA user_version = {latest_version() + 1}")
    code, _, err = run(tmp_path, monkeypatch, capsys, "restore", str(tmp_path / "saved.db"))
    assert code == 1 and "newer Newsdesk" in err
    assert "Traceback" not in err


def test_quick_check_as_a_healthcheck_runs(tmp_path: Path) -> None:
    """As the container's HEALTHCHECK runs it: a fresh process, exit code only."""
    environ = {key: value for key, value in os.environ.items() if not key.startswith(("TELEGRAM_", "NEWSDESK_"))}
    environ |= {"TELEGRAM_BOT_TOKEN": TOKEN, "NEWSDESK_DB": str(tmp_path / "h.db"), "ALLOWED_CHATS": "-1"}
    done = subprocess.run([sys.executable, "-m", "bot.cli", "check", "--quick"], cwd=tmp_path, env=environ,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ready:" in done.stdout


def test_backup_into_a_new_folder_and_settings_from_a_named_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    stored_articles(tmp_path, ["One"])
    code, out, _ = run(tmp_path, monkeypatch, capsys, "backup", f"{tmp_path}/new/folder/", "--json")
    made = Path(json.loads(out)["path"])
    assert code == 0 and made.parent == tmp_path / "new" / "folder" and made.name.startswith("newsdesk-")
    settings_file = tmp_path / "elsewhere" / "newsdesk.env"
    settings_file.parent.mkdir()
    settings_file.write_text("ALLOWED_CHATS=-100777\nBACKUP_KEEP=3\n")
    code, out, _ = run(tmp_path, monkeypatch, capsys, "--env-file", str(settings_file), "check", "--quick", "--json",
                       ALLOWED_CHATS="")
    assert code == 0 and json.loads(out)["env_file"] == str(settings_file)
    assert checks_of(out)["ALLOWED_CHATS"]["detail"].startswith("chats served: 1")
    code, _, err = run(tmp_path, monkeypatch, capsys, "--env-file", str(tmp_path / "missing.env"), "check")
    assert code == 2 and "cannot read the settings file" in err


def test_env_file_is_found_from_the_working_directory(tmp_path: Path) -> None:
    """Installed elsewhere (here: run from a folder outside the source tree), `newsdesk` reads the
    .env of the folder it is run in."""
    (tmp_path / ".env").write_text(f"TELEGRAM_BOT_TOKEN={TOKEN}\nALLOWED_CHATS=-100321\nNEWSDESK_DB=desk.db\n")
    environ = {key: value for key, value in os.environ.items()
               if not key.startswith(("TELEGRAM_", "NEWSDESK_", "ALLOWED_", "ADMINS"))}
    done = subprocess.run([sys.executable, "-m", "bot.cli", "check", "--quick", "--json"], cwd=tmp_path, env=environ,
                          capture_output=True, text=True, timeout=60)
    report = json.loads(done.stdout)
    assert done.returncode == 0 and report["env_file"] == str(tmp_path / ".env")
    detail = {c["name"]: c for c in report["checks"]}["database"]["detail"]
    assert f"NEWSDESK_DB=desk.db ({tmp_path / 'desk.db'}) does not exist yet" in detail
