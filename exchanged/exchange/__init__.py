"""The daemon side: watching the inbox, deciding when a file is complete, claiming it, and running
the workers (DESIGN §4 "exchange/", §5 reliability promises).

    names.py     which names in the inbox are never read (DESIGN §1 ignore rules), marker files
    gate.py      readiness: when a seen file is complete (events, stable size/mtime, markers)
    watcher.py   watchdog (the only watchdog import), the startup scan, rescans, polling mode
    claim.py     the atomic rename out of the inbox, and the claims a crash left behind
    daemon.py    workers, arrival order, batched commits, retries with backoff, signals
    evaluators.py  worker processes that evaluate small files during a burst
    status.py    work/status.json (what `exchanged status` shows)
    log.py       one log line per file, text or JSON
"""
