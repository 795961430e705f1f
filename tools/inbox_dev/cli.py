"""The project's command line, behind the Makefile's targets.

`python -m inbox_dev dev | token | invoke | digest | produce | seed | export | import | bench | load | cost`
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from inbox_dev.cost.command import add_arguments as add_cost_arguments
from inbox_dev.stack import STATE_DIR, STATE_FILE_NAME, DevStack, PortInUse, StackConfig, StackUrls, UnknownParameter

DAY_MS = 86_400_000
SYMBOLS = {"starting": "…", "ready": "✓", "failed": "✗"}


class StackNotRunning(RuntimeError):
    pass


def running_stack(state_dir: Path = STATE_DIR) -> dict[str, Any]:
    """What the running `make dev` wrote about itself; StackNotRunning if it is not up."""
    path = state_dir / STATE_FILE_NAME
    try:
        state: dict[str, Any] = json.loads(path.read_text())
        os.kill(int(state["pid"]), 0)
    except (FileNotFoundError, ProcessLookupError, ValueError, KeyError):
        raise StackNotRunning("the local stack is not running: start it with `make dev`") from None
    return state


# -- dev --------------------------------------------------------------------------------------


def _print_progress(component: str, status: str, detail: str) -> None:
    if status == "starting":
        return
    print(f"  {SYMBOLS[status]} {component:<38} {detail}", flush=True)


def summary(urls: StackUrls, config: StackConfig) -> str:
    rows = [
        ("Page", urls.page),
        ("HTTP API", f"{urls.http_api}  (OpenAPI {urls.http_api}/openapi.json, Swagger UI {urls.http_api}/docs)"),
        ("WebSocket API", f"{urls.websocket}  (subprotocols bearer, <JWT>; or ?token=<JWT>)"),
        ("Management API", f"{urls.management_api}/@connections/{{id}}"),
        ("Kafka bootstrap", urls.kafka),
        ("DynamoDB Local", f"{urls.dynamodb}  (table {urls.table}, {'on disk' if config.data_dir else 'in memory'})"),
        ("SNS (moto)", urls.sns),
        ("JWKS", f"{urls.page}/.well-known/jwks.json"),
        ("Mint a token", "make token USER=alice   (or POST /dev/token on the page's server)"),
        ("Function logs", f"{config.state_dir}/logs/<function>.log"),
        ("Dead letters", f"{config.state_dir}/dead-letters.jsonl"),
        ("Stop", "Ctrl-C"),
    ]
    width = max(len(name) for name, _ in rows)
    lines = ["", "Local stack ready", *(f"  {name:<{width}}  {value}" for name, value in rows), ""]
    return "\n".join(lines)


def dev(arguments: argparse.Namespace) -> int:
    from inbox_dev.faults.settings import FAULTS_VARIABLE, FaultRates

    try:
        faults = FaultRates.parse(os.environ.get(FAULTS_VARIABLE, ""))
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    config = StackConfig(
        page_port=arguments.page_port,
        http_port=arguments.http_port,
        websocket_port=arguments.websocket_port,
        dynamodb_port=arguments.dynamodb_port,
        kafka_port=arguments.kafka_port,
        sns_port=arguments.sns_port,
        kafka_bootstrap_servers=arguments.kafka_bootstrap_servers or None,
        data_dir=arguments.state_dir / "dynamodb" if arguments.persist else None,
        state_dir=arguments.state_dir,
        echo_logs=not arguments.quiet,
        faults=faults,
        parameter_overrides=dict(arguments.parameter_overrides),
    )
    if config.data_dir:
        config.data_dir.mkdir(parents=True, exist_ok=True)
    stopping = threading.Event()
    # SIGHUP too: the servers run in process groups of their own, which a closed terminal does not reach.
    for signal_number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signal_number, lambda *_: stopping.set())
    stack = DevStack(config, progress=_print_progress)
    print("Starting the local stack (template.yaml)", flush=True)
    try:
        urls = stack.start()
    except (PortInUse, UnknownParameter) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception as error:
        print(f"error: the local stack did not start: {error}", file=sys.stderr)
        return 1
    try:
        print(summary(urls, config), flush=True)
        stopping.wait()
    finally:
        stack.stop()
    print("Stopped.", flush=True)
    return 0


# -- token, invoke, seed ------------------------------------------------------------------------


def token(arguments: argparse.Namespace) -> int:
    state = running_stack(arguments.state_dir)
    response = requests.post(f"{state['page']}/dev/token", json={"user": arguments.user}, timeout=10)
    if response.status_code != 200:
        print(f"error: {response.json()['error']['message']}", file=sys.stderr)
        return 1
    print(response.json()["token"])
    return 0


def invoke(arguments: argparse.Namespace) -> int:
    """Run one function in this process with the template's environment, against the running stack."""
    from inbox_dev.runtime import LambdaContext, load_handler
    from inbox_dev.template import functions

    state = running_stack(arguments.state_dir)
    specs = functions()
    if arguments.function not in specs:
        print(f"error: no function {arguments.function} in template.yaml; one of {', '.join(specs)}", file=sys.stderr)
        return 2
    spec = specs[arguments.function]
    event = json.loads(Path(arguments.event).read_text())
    os.environ.update(state["functions"][spec.logical_id])
    handler = load_handler(spec)
    result = handler(event, LambdaContext(spec.logical_id, spec.memory_mb, spec.timeout_s))
    print(json.dumps(result, indent=2, default=str))
    return 0


def digest(arguments: argparse.Namespace) -> int:
    """Run the running stack's digest function: this hour's digests, or those of the named users now."""
    state = running_stack(arguments.state_dir)
    body = {"users": arguments.user} if arguments.user else {}
    response = requests.post(f"{state['page']}/dev/digests", json=body, timeout=900)
    if response.status_code != 200:
        print(f"error: {response.text}", file=sys.stderr)
        return 1
    print(json.dumps(response.json(), indent=2))
    return 0


def produce(arguments: argparse.Namespace) -> int:
    """Each JSON line of a file, or of stdin, as a record on a topic of the running stack's broker."""
    from inbox_dev.produce import BadLine, NotSent, json_lines, send

    state = running_stack(arguments.state_dir)
    try:
        if arguments.file == "-":
            records = json_lines(sys.stdin.buffer)
        else:
            with Path(arguments.file).open("rb") as lines:
                records = json_lines(lines)
    except OSError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except BadLine as error:
        print(f"error: {arguments.file}: {error}; nothing was sent", file=sys.stderr)
        return 1
    try:
        sent = send(state["kafka"], arguments.topic, records)
    except NotSent as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"Sent {sent} record{'' if sent == 1 else 's'} to {arguments.topic} ({state['kafka']}).")
    return 0


def seed(arguments: argparse.Namespace) -> int:
    """Demo data: notifications of every type from many actors over the last weeks, some read."""
    from tqdm import tqdm

    state = running_stack(arguments.state_dir)
    os.environ.update(state["functions"]["ApiFunction"])
    from inbox import wiring
    from inbox.ingest.grouping import group_entry_id, group_key
    from inbox.models import Actor, NotificationEvent, NotificationType, Resource
    from inbox.store.notifications import Stored

    from inbox_dev.devserver import DEMO_USERS
    from inbox_dev.samples import POST_TEXTS, avatar, display_name

    store = wiring.store()
    rng = random.Random(arguments.random_seed)  # noqa: S311 - demo data
    generated = (f"user-{index:03d}" for index in range(arguments.users))
    recipients = [*DEMO_USERS, *generated][: arguments.users]
    actors = [*recipients, *(f"fan-{index:03d}" for index in range(40))]
    now = datetime.now(UTC)

    def sample(recipient: str) -> tuple[NotificationEvent, bool]:
        kind = rng.choice(list(NotificationType))
        actor = rng.choice([actor for actor in actors if actor != recipient])
        # A few posts per recipient, so that their likes and reposts group.
        post = Resource(type="post", id=f"post-{rng.randrange(20):02d}", excerpt=rng.choice(POST_TEXTS))
        event = NotificationEvent(
            type=kind,
            recipient_id=recipient,
            actor=Actor(id=actor, username=display_name(actor), avatar=avatar(actor)),
            resource=Resource(type="user", id=recipient) if kind is NotificationType.FOLLOW else post,
            occurred_at=now - timedelta(seconds=rng.randrange(30 * 86_400)),
        )
        return event, rng.random() < arguments.read_share

    def put(sampled: tuple[NotificationEvent, bool]) -> None:
        event, read = sampled
        at_ms = int(event.occurred_at.timestamp() * 1000)
        group = group_key(event)
        if group is None:
            entry_id = event.notification_id
            stored = store.notifications.put(event, at_ms=at_ms)
        else:
            entry_id = group_entry_id(event.recipient_id, group, at_ms // DAY_MS)
            stored = store.notifications.add_to_group(event, entry_id, at_ms=at_ms)
        if stored is Stored.CREATED and read:
            store.entries.mark_read(event.recipient_id, entry_id)

    samples = [sample(recipient) for _ in range(arguments.per_user) for recipient in recipients]
    with ThreadPoolExecutor(max_workers=16) as pool, tqdm(total=len(samples), unit="notification") as bar:
        for _ in pool.map(put, samples):
            bar.update()
    print(f"Stored {len(samples)} notifications for {', '.join(recipients)} in {state['table']}.")
    return 0


# -- export, import: backups of one user (inbox_dev.backup) -------------------------------------


def _backup_table(arguments: argparse.Namespace) -> tuple[Any, str]:
    """The table of `--table` (boto3's credential chain), else the running stack's table."""
    import boto3
    from inbox.aws_clients import RETRIES

    if arguments.table:
        name = arguments.table
        resource = boto3.resource(
            "dynamodb", endpoint_url=arguments.endpoint_url, region_name=arguments.region, config=RETRIES
        )
    else:
        state = running_stack(arguments.state_dir)
        os.environ.update(state["functions"]["ApiFunction"])
        name = os.environ["TABLE_NAME"]
        resource = boto3.resource("dynamodb", config=RETRIES)
    return resource.Table(name), name


def _endpoint_without_table(arguments: argparse.Namespace) -> bool:
    if not arguments.table and (arguments.endpoint_url or arguments.region):
        print("error: --endpoint-url and --region go with --table", file=sys.stderr)
        return True
    return False


def export_backup(arguments: argparse.Namespace) -> int:
    """One user's entries (read and archived state, tombstones), group members, watermarks, preferences
    and devices as JSON Lines."""
    from botocore.exceptions import BotoCoreError, ClientError
    from tqdm import tqdm

    from inbox_dev import backup
    from inbox_dev.table_backup import export_items

    if _endpoint_without_table(arguments):
        return 2
    user = arguments.user
    output = arguments.output or backup.default_file_name(user)
    to_stdout = output == "-"
    if not to_stdout and Path(output).exists() and not arguments.force:
        print(f"error: {output} exists; --force replaces it", file=sys.stderr)
        return 1
    try:
        table, name = _backup_table(arguments)
        stored = export_items(table, user)
        with tqdm(stored, desc=f"export {user}", unit=" items", file=sys.stderr, disable=None) as items:
            if to_stdout:
                counts = backup.write_backup(user, items, sys.stdout, exported_at=datetime.now(UTC))
                sys.stdout.flush()
            else:
                # Written aside and renamed when complete: a failed export leaves no half file behind.
                partial = Path(f"{output}.partial")
                try:
                    with partial.open("w", encoding="utf-8") as out:
                        counts = backup.write_backup(user, items, out, exported_at=datetime.now(UTC))
                    partial.replace(output)
                finally:
                    partial.unlink(missing_ok=True)
    except (backup.BackupError, OSError, BotoCoreError, ClientError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    report = sys.stderr if to_stdout else sys.stdout
    if not counts:
        print(f"warning: {name} holds nothing for user {user!r}", file=sys.stderr)
    where = "stdout" if to_stdout else output
    print(f"Exported {backup.describe(counts)} of {user} from {name} to {where}.", file=report)
    return 0


def import_backup(arguments: argparse.Namespace) -> int:
    """Validate a whole backup file, then write its items (overwriting; items not in the file stay)."""
    from botocore.exceptions import BotoCoreError, ClientError
    from tqdm import tqdm

    from inbox_dev import backup
    from inbox_dev.table_backup import import_items

    if _endpoint_without_table(arguments):
        return 2
    now_s = int(datetime.now(UTC).timestamp())
    try:
        if arguments.file == "-":
            parsed = backup.read_backup(sys.stdin.buffer, now_s=now_s, user=arguments.user)
        else:
            with Path(arguments.file).open("rb") as lines:
                parsed = backup.read_backup(lines, now_s=now_s, user=arguments.user)
    except OSError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except backup.BackupError as error:
        print(f"error: {arguments.file}: {error}; nothing was written", file=sys.stderr)
        return 1
    moved = f" (exported as {parsed.header.user})" if parsed.user != parsed.header.user else ""
    notes = _left_out(parsed.header.user, parsed.expired, parsed.left_out)
    if arguments.dry_run:
        would = backup.describe(parsed.counts)
        print(f"{arguments.file} is valid: it would write {would} for {parsed.user}{moved}{notes}.")
        return 0
    try:
        table, name = _backup_table(arguments)
        with tqdm(parsed.items, desc=f"import {parsed.user}", unit=" items", file=sys.stderr, disable=None) as items:
            import_items(table, items)
    except (BotoCoreError, ClientError) as error:
        print(f"error: {error}; part of the file may be written: importing it again is safe", file=sys.stderr)
        return 1
    print(f"Imported {backup.describe(parsed.counts)} for {parsed.user}{moved} into {name}{notes}.")
    return 0


def _left_out(original: str, expired: int, left_out: dict[str, int]) -> str:
    """What an import leaves out of a file exported from `original`, and why, for its summary."""
    from inbox_dev.backup import describe

    reasons = {
        "device": f"their push endpoints belong to {original}",
        "member": f"their ids are those of actions addressed to {original}",
        "tombstone": "they name no action whose id could be recomputed",
    }
    notes = f"; {expired} expired items left out" if expired else ""
    for kind, reason in reasons.items():
        if left_out.get(kind):
            notes += f"; {describe({kind: left_out[kind]})} left out ({reason})"
    return notes


def bench(arguments: argparse.Namespace) -> int:
    from inbox_dev.bench import suite

    return suite.main()


def load(arguments: argparse.Namespace) -> int:
    from inbox_dev import load as loads

    return loads.main(events=arguments.events, faults=arguments.faults)


def cost(arguments: argparse.Namespace) -> int:
    from inbox_dev.bench.suite import RESULTS_DIR
    from inbox_dev.cost.command import run

    return run(arguments, RESULTS_DIR / "results.json")


# -- entry point --------------------------------------------------------------------------------


def _positive(text: str) -> int:
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return number


def _parameter(text: str) -> tuple[str, str]:
    name, separator, value = text.partition("=")
    if not separator or not name:
        raise argparse.ArgumentTypeError(f"{text} is not NAME=VALUE")
    return name, value


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="inbox_dev", description=__doc__)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--state-dir", type=Path, default=STATE_DIR, help="where the stack keeps its state and logs")
    commands = root.add_subparsers(dest="command", required=True)

    start = commands.add_parser("dev", parents=[common], help="run the whole pipeline on loopback")
    defaults = StackConfig()
    for flag, default in (
        ("--page-port", defaults.page_port),
        ("--http-port", defaults.http_port),
        ("--websocket-port", defaults.websocket_port),
        ("--dynamodb-port", defaults.dynamodb_port),
        ("--kafka-port", defaults.kafka_port),
        ("--sns-port", defaults.sns_port),
    ):
        start.add_argument(flag, type=int, default=default)
    start.add_argument(
        "--kafka-bootstrap-servers",
        default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", ""),
        help="use this Kafka cluster instead of the local broker (default: $KAFKA_BOOTSTRAP_SERVERS)",
    )
    start.add_argument("--persist", action="store_true", help="keep DynamoDB's data on disk between runs")
    start.add_argument("--quiet", action="store_true", help="function logs to files only, not the console")
    start.add_argument(
        "--parameter-overrides",
        nargs="+",
        type=_parameter,
        default=[],
        metavar="NAME=VALUE",
        help="template parameters for the functions and the APIs, as sam deploy takes them "
        "(HttpWriteThrottlingBurstLimit=2 HttpWriteThrottlingRateLimit=1 to try 429s); the table keeps its defaults",
    )
    start.set_defaults(run=dev)

    mint = commands.add_parser("token", parents=[common], help="mint a token for a user of the running stack")
    mint.add_argument("user")
    mint.set_defaults(run=token)

    call = commands.add_parser("invoke", parents=[common], help="run one function of template.yaml with an event file")
    call.add_argument("function", help="logical id, e.g. ApiFunction")
    call.add_argument("event", help="e.g. events/api-list-notifications.json")
    call.set_defaults(run=invoke)

    mail = commands.add_parser("digest", parents=[common], help="send email digests from the running stack")
    mail.add_argument("--user", action="append", help="send this user's digest now (repeatable); default: this hour's")
    mail.set_defaults(run=digest)

    send = commands.add_parser("produce", parents=[common], help="send each JSON line of a file to a topic")
    send.add_argument("topic", help="e.g. message-liked")
    send.add_argument("file", help="JSON Lines, - for stdin")
    send.set_defaults(run=produce)

    fill = commands.add_parser("seed", parents=[common], help="fill the running stack's table with demo data")
    fill.add_argument("--users", type=int, default=6, help="recipients: alice, bob, carol, dave, then user-NNN")
    fill.add_argument("--per-user", type=int, default=1000)
    fill.add_argument("--read-share", type=float, default=0.3, help="share of notifications marked read")
    fill.add_argument("--random-seed", type=int, default=7)
    fill.set_defaults(run=seed)

    target = argparse.ArgumentParser(add_help=False)
    target.add_argument("--table", help="this table, with boto3's usual credentials (default: the running stack's)")
    target.add_argument("--endpoint-url", help="with --table: the DynamoDB endpoint (default: boto3's)")
    target.add_argument("--region", help="with --table: the table's region (default: boto3's)")
    dump = commands.add_parser("export", parents=[common, target], help="write one user's items as JSON Lines")
    dump.add_argument("user")
    dump.add_argument("--output", "-o", help="the file, - for stdout (default: <user>.jsonl in this directory)")
    dump.add_argument("--force", action="store_true", help="replace the output file if it exists")
    dump.set_defaults(run=export_backup)
    restore = commands.add_parser("import", parents=[common, target], help="write a backup's items to the table")
    restore.add_argument("file", help="a file written by export, - for stdin")
    restore.add_argument("--user", help="restore under this user id instead of the file's")
    restore.add_argument("--dry-run", action="store_true", help="validate the file only; write nothing")
    restore.set_defaults(run=import_backup)
    measure = commands.add_parser("bench", help="every benchmark, each next to its floor (figures, not tests)")
    measure.set_defaults(run=bench)

    stress = commands.add_parser("load", help="20,000 events through a private local stack, with HTTP readers")
    stress.add_argument("--events", type=_positive, help="events to produce (default: 20,000)")
    stress.add_argument(
        "--faults",
        action="store_true",
        help="5 %% of Management API posts answer 500 and 10 %% of the functions' DynamoDB calls are throttled",
    )
    stress.set_defaults(run=load)

    price = commands.add_parser("cost", help="the monthly AWS bill for a usage, from measured units and list prices")
    add_cost_arguments(price)
    price.set_defaults(run=cost)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    try:
        status: int = arguments.run(arguments)
    except StackNotRunning as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return status
