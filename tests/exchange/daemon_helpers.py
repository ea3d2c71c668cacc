"""A scripted stand-in for the watcher, and a workspace to run a daemon in (tests of the logic)."""

from __future__ import annotations

import io
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from exchanged.config import Settings, load_settings
from exchanged.exchange.daemon import Daemon
from exchanged.exchange.log import EventLog

STOCK = "sku,warehouse,quantity,op\n"


class ScriptedWatcher:
    """Reports what the test says, plus what a scan finds; no watchdog, no threads."""

    instances: list[ScriptedWatcher] = []

    def __init__(self, settings: Settings, on_seen: Callable[[Path, bool], None], on_gone: Callable[[Path], None]) -> None:
        self.inbox = settings.folder("inbox").absolute()
        self.on_seen, self.on_gone = on_seen, on_gone
        ScriptedWatcher.instances.append(self)

    def start(self) -> None:
        self.scan()

    def stop(self) -> None:
        pass

    def scan(self) -> None:
        for root, _, names in os.walk(self.inbox):
            for name in sorted(names):
                self.on_seen(Path(root) / name, False)


def settings_for(base: Path, **overrides: object) -> Settings:
    values = {"base_dir": base, "settle_seconds": 0.2, "empty_file_wait": 0.5, "retry_initial": 0.05,
              "retry_max": 0.2, "workers": 2, **overrides}
    return load_settings(environ={}, overrides=values)


def drop(settings: Settings, name: str, text: str, *, age: float = 0.0) -> Path:
    """Put ``text`` into the inbox as ``name`` the robust way (temp name, then rename); ``age``
    seconds old (a file that waited there while no daemon ran)."""
    inbox = settings.folder("inbox")
    target = inbox / name
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name("." + target.name + ".tmp")
    temp.write_text(text, encoding="utf-8")
    if age:
        moment = time.time() - age
        os.utime(temp, (moment, moment))
    temp.rename(target)
    return target


def run_once(settings: Settings, **kwargs: object) -> Daemon:
    daemon = Daemon(settings, log=EventLog(stream=io.StringIO()), watcher_factory=ScriptedWatcher, **kwargs)
    daemon.run(once=True)
    return daemon


def run_in_thread(settings: Settings, **kwargs: object) -> tuple[Daemon, threading.Thread]:
    kwargs.setdefault("warm_workers", False)  # tests of the logic: processes only when a burst needs them
    daemon = Daemon(settings, log=EventLog(stream=io.StringIO()), watcher_factory=ScriptedWatcher, **kwargs)
    thread = threading.Thread(target=daemon.run, daemon=True)
    thread.start()
    return daemon, thread


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)
