"""The real bot, started as `python -m bot` in a subprocess, pointed at the Bot API emulator (or
another `newsdesk` command that runs until stopped, such as `worker`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

ROOT = Path(__file__).resolve().parents[2]


class BotProcess:
    """`with BotProcess(env) as bot:` runs the bot until the block ends (SIGTERM, then wait)."""

    def __init__(self, environ: Mapping[str, str], *, log_path: Path,
                 command: Sequence[str] = ("-m", "bot")) -> None:
        self.environ = dict(environ)
        self.log_path = log_path
        self.command = tuple(command)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Self:
        environ = {key: value for key, value in os.environ.items() if not key.startswith(("TELEGRAM_", "LLM_"))}
        environ.update({"PYTHONUNBUFFERED": "1", "LOG_LEVEL": "DEBUG"} | self.environ)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, *self.command], cwd=ROOT, env=environ, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        return self

    def terminate(self, timeout: float = 30.0) -> int:
        """SIGTERM, as a service manager stops it; returns the exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def kill(self) -> None:
        """SIGKILL: the crash case, nothing gets to clean up."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_for_log(self, text: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log():
                return
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"the bot exited ({self.process.returncode}):\n{self.log()[-3000:]}")
            time.sleep(0.05)
        raise TimeoutError(f"{text!r} not in the bot's log:\n{self.log()[-3000:]}")

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        try:
            self.terminate()
        except subprocess.TimeoutExpired:
            self.kill()
