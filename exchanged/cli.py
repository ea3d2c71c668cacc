"""The command line (DESIGN §1 "Command line"): parse, call one function, print, choose the exit code.

Exit codes: 0 ok, 1 some file rejected / not valid, 2 usage or config error. A user error is one
line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from exchanged import __version__
from exchanged.config import Settings, load_settings
from exchanged.errors import ExchangedError, TransientError, UsageError
from exchanged.output import Progress, print_reports, print_status
from exchanged.report import FileReport, Status

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one clear line instead of usage + error
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(args.config)


def _read_source(path_text: str) -> Any:
    from exchanged.pipeline import Source

    path = Path(path_text)
    if path.is_symlink():
        raise UsageError(f"{path_text}: is a symbolic link; give the file itself")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{path_text}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{path_text}: is a folder, not a file") from None
    except PermissionError:
        raise UsageError(f"{path_text}: permission denied") from None
    return Source.from_bytes(data, path_text)


def _exit_for(reports: Sequence[FileReport], *, strict: bool = False) -> int:
    if strict:
        return EXIT_OK if all(r.status is Status.ACCEPTED for r in reports) else EXIT_FAILED
    return EXIT_OK if all(r.ok for r in reports) else EXIT_FAILED


def cmd_process(args: argparse.Namespace) -> int:
    from exchanged.lifecycle import Workspace, handle

    workspace = Workspace.open(_settings(args))
    reports: list[FileReport] = []
    progress = Progress(len(args.files), enabled=not args.json)
    try:
        for path in args.files:
            progress.start(path)
            reports.append(handle(_read_source(path), workspace, progress.phase))
            progress.done(reports[-1])
    finally:
        workspace.close()
        progress.close()
    print_reports(reports, as_json=args.json)
    return _exit_for(reports)


def cmd_check(args: argparse.Namespace) -> int:
    from exchanged.mapping import load_mappings
    from exchanged.orders.evaluate import check_published
    from exchanged.pipeline import evaluate

    settings = _settings(args)
    mappings = load_mappings(settings.folder("mappings"))
    reports = []
    for path in args.files:
        evaluation = evaluate(_read_source(path), mappings, settings)
        check_published(evaluation, settings)  # orders: the checks their commit would run
        reports.append(evaluation.report)
    print_reports(reports, as_json=args.json)
    return _exit_for(reports, strict=True)


def _since(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--since {text!r}: expected an ISO date or timestamp such as 2026-11-27 or 2026-11-27T08:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def cmd_audit(args: argparse.Namespace) -> int:
    from exchanged.audit import Ledger

    settings = _settings(args)
    statuses = [s.strip() for s in args.status.split(",")] if args.status else None
    for status in statuses or ():
        if status not in {s.value for s in Status}:
            raise UsageError(f"--status {status!r}: one of {', '.join(s.value for s in Status)}")
    since = _since(args.since)
    if args.verify:
        return _verify(settings, as_json=args.json)
    if not settings.ledger_path.exists():
        reports: list[FileReport] = []
    else:
        ledger = Ledger(settings.ledger_path)
        try:
            reports = ledger.query(since=since, status=statuses, file=args.file)
        finally:
            ledger.close()
    print_reports(reports, as_json=args.json, issues=False)
    return EXIT_OK


def _verify(settings: Settings, *, as_json: bool) -> int:
    """``audit --verify``: re-hash the chain and the archive; exit 1 when anything was altered or removed."""
    from exchanged.audit import Ledger
    from exchanged.verify import verify

    if not settings.ledger_path.exists():
        raise UsageError(f"no ledger at {settings.ledger_path}: nothing was processed here yet")
    with Ledger(settings.ledger_path) as ledger:
        result = verify(ledger, settings.folder("archive"))
    if as_json:
        print(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    else:
        for finding in result.findings:
            where = " ".join(str(x) for x in (finding.id, finding.path) if x)
            print(f"{finding.code:20} {where}: {finding.message}")
        verdict = "intact" if result.ok else f"{len(result.findings)} finding(s)"
        print(f"{verdict}: {result.rows_checked} rows, {result.files_checked} files, {result.bytes_hashed} bytes hashed")
    return EXIT_OK if result.ok else EXIT_FAILED


def cmd_schema(args: argparse.Namespace) -> int:
    from exchanged.schemas import json_schema

    print(json.dumps(json_schema(args.name), indent=2, ensure_ascii=False))
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from exchanged.demo import run_demo

    settings = _settings(args)
    reports = run_demo(settings)
    print_reports(reports, as_json=args.json)
    if not args.json:
        print(f"\nshop outputs in {settings.shop_dir}:")
        for path in sorted(p for p in settings.shop_dir.rglob("*") if p.is_file() and not p.name.startswith(".")):
            print(f"  {path.relative_to(settings.shop_dir)}  ({path.stat().st_size} bytes)")
        erp = sorted(p for p in settings.erp_dir.glob("*") if p.is_file() and not p.name.startswith("."))
        if erp:
            print(f"\nfor the ERP in {settings.erp_dir}:")
            for path in erp:
                print(f"  {path.name}  ({path.stat().st_size} bytes)")
        print(f"originals and the ledger in {settings.folder('archive')}; try: exchanged audit")
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from exchanged.exchange.daemon import Daemon
    from exchanged.exchange.log import EventLog

    daemon = Daemon(_settings(args), log=EventLog(args.log_format))
    handlers = {sig: signal.signal(sig, lambda *_: daemon.stop()) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        reports = daemon.run(once=args.once)
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    if not args.once:
        return EXIT_OK
    print_reports(reports, as_json=args.json)
    if daemon.left_claimed:
        print(f"exchanged: {len(daemon.left_claimed)} file(s) left claimed after transient faults "
              f"(see exchanged status); the next run retries them", file=sys.stderr)
        return EXIT_FAILED
    return _exit_for(reports)


def cmd_status(args: argparse.Namespace) -> int:
    from exchanged.exchange.claim import owner_alive
    from exchanged.exchange.status import read_status

    settings = _settings(args)
    status = read_status(settings.status_path) or {"state": "never started"}
    owner = status.get("owner")
    status["running"] = bool(owner) and owner_alive(settings.folder("work"), str(owner))
    claimed = settings.claimed_dir
    status["claimed"] = len(list(claimed.glob("*.claim.json"))) if claimed.is_dir() else 0
    print_status(status, as_json=args.json)
    return EXIT_OK


def cmd_replay(args: argparse.Namespace) -> int:
    from exchanged.lifecycle import Workspace, handle
    from exchanged.pipeline import Source
    from exchanged.retention import read_original

    workspace = Workspace.open(_settings(args))
    try:
        original = workspace.ledger.get(args.id)
        if original is None:
            raise UsageError(f"no report with id {args.id!r} (see exchanged audit)")
        data = read_original(workspace.ledger, workspace.archive.root, original.id)
        report = handle(Source.from_bytes(data, original.file), workspace, replay=True)
    finally:
        workspace.close()
    print_reports([report], as_json=args.json)
    return _exit_for([report])


def cmd_price(args: argparse.Namespace) -> int:
    from exchanged.errors import OutputUnavailable
    from exchanged.pricing import PriceBook
    from exchanged.pricing.command import parse_currency, parse_moment, parse_quantity, parse_zone, render

    quantity, zone, currency = parse_quantity(args.qty), parse_zone(args.zone), parse_currency(args.currency)
    moment = parse_moment(args.at, zone)
    try:
        book = PriceBook.load(_settings(args).shop_dir, zone=zone)
    except OutputUnavailable as exc:
        print(f"exchanged: {exc}", file=sys.stderr)
        return EXIT_FAILED
    result = book.quote(args.customer, args.sku, quantity, moment, currency)
    print(render(result, as_json=args.json))
    return EXIT_OK if result.found else EXIT_FAILED


def cmd_roi(args: argparse.Namespace) -> int:
    from exchanged.roi import compute_roi, parse_since, render_roi, roi_json

    settings = _settings(args)
    report = compute_roi(settings.ledger_path, settings.roi, since=parse_since(args.since))
    if args.json:
        print(json.dumps(roi_json(report), indent=2, ensure_ascii=False))
    else:
        print(render_roi(report), end="")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="exchanged", description="File exchange between an ERP and an online shop.")
    parser.add_argument("--version", action="version", version=f"exchanged {__version__}")
    parser.add_argument("--config", metavar="FILE", help="config file (default: $EXCHANGED_CONFIG, else ./exchanged.toml)")
    parser.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    def command(name: str, func: Callable[[argparse.Namespace], int], help_text: str, *, json_flag: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=func)
        if json_flag:
            p.add_argument("--json", action="store_true", help="machine-readable output: a JSON array of file reports")
        return p

    p = command("process", cmd_process, "process files through the pipeline (originals are copied to the archive)")
    p.add_argument("files", nargs="+", metavar="FILE")
    p = command("check", cmd_check, "dry run: read, map, validate and report; writes nothing")
    p.add_argument("files", nargs="+", metavar="FILE")
    p = command("audit", cmd_audit, "list what happened to files")
    p.add_argument("--since", metavar="WHEN", help="received at or after (ISO date or timestamp)")
    p.add_argument("--status", metavar="S[,S]", help="only these statuses")
    p.add_argument("--file", metavar="PATTERN", help="file name glob or part of it")
    p.add_argument("--verify", action="store_true", help="re-hash the ledger's chain and the archive; name what was altered or removed")
    p = command("run", cmd_run, "the daemon: watch the inbox and process files until SIGTERM/SIGINT")
    p.add_argument("--once", action="store_true", help="process everything ready now, then exit (for cron)")
    p.add_argument("--log-format", choices=("text", "json"), default="text", help="one log line per file on stderr")
    command("status", cmd_status, "what the daemon is doing: queue, in flight, retrying, last outcomes, errors")
    p = command("replay", cmd_replay, "put an archived file through the pipeline again")
    p.add_argument("id", metavar="ID", help="report id (or a unique prefix), as exchanged audit lists it")
    p = command("price", cmd_price, "a customer's net price of an article from the published prices, and why", json_flag=False)
    p.add_argument("--customer", required=True, metavar="ID", help="customer_id (an unknown customer gets list prices)")
    p.add_argument("--sku", required=True, metavar="SKU")
    p.add_argument("--qty", required=True, metavar="N", help="quantity ordered, e.g. 3 or 2.5")
    p.add_argument("--at", metavar="WHEN", help="ISO timestamp or date (without offset: in --zone); default now")
    p.add_argument("--currency", metavar="CODE", help="ISO 4217 code, for customers without a currency of their own")
    p.add_argument("--zone", default="UTC", metavar="TZ", help="time zone of the price rows' validity days (default UTC)")
    p.add_argument("--json", action="store_true", help="machine-readable output: one JSON object")
    p = command("roi", cmd_roi, "what the integration saves: the ledger's daily counts x the [roi] cost and gain estimates",
                json_flag=False)
    p.add_argument("--since", metavar="DATE", help="first day of the period (ISO date); default: the last period_days full days")
    p.add_argument("--json", action="store_true", help="machine-readable output: the figures as a JSON object")
    command("demo", cmd_demo, "put sample ERP exports into the inbox, process them, show what came out")
    p = command("schema", cmd_schema, "print the JSON Schema of a record, the config, a mapping or the file report", json_flag=False)
    from exchanged.schemas import SCHEMA_NAMES

    p.add_argument("name", choices=SCHEMA_NAMES, metavar="ENTITY", help=", ".join(SCHEMA_NAMES))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        args = build_parser().parse_args(argv)
        return int(args.func(args))
    except UsageError as exc:
        print(f"exchanged: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except TransientError as exc:
        print(f"exchanged: {exc} (nothing was lost: the input was not archived; run again)", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("exchanged: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`exchanged audit | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except (ExchangedError, Exception) as exc:  # a bug: one line, the traceback only with --debug
        if debug:
            raise
        print(f"exchanged: internal error: {type(exc).__name__}: {exc} (run with --debug for details)", file=sys.stderr)
        return 70


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
