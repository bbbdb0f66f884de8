"""Fix plans: the replica formula, suggested values and platform selection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from diagnoser.model import Event, Platform, ValueSource
from diagnoser.options import ReplicaInputs
from diagnoser.plan import select_platforms
from diagnoser.plan.observe import Observations, parse_memory
from diagnoser.plan.suggest import (
    replicas_needed,
    suggest_memory,
    suggest_replicas,
    suggest_timeout,
    suggest_workers,
)


def _event(message: str, **fields) -> Event:
    return Event(source="t", line=1, text=message, message=message, format="plain", fields=dict(fields))


def test_seed_page_replica_example_gives_286():
    # 20 rps, 10 s per request, 1 request per container, 70 % utilisation (seed page, HTTP 503).
    assert replicas_needed(20, 10, 0.7, 1) == 286
    s = suggest_replicas(Observations(), ReplicaInputs(target_rps=20, request_seconds=10))
    assert s.suggested == "286"
    assert "ceil(20 rps x 10 s / 0.7 / 1 per container) = 286" in s.reasoning


def _access_at(obs: Observations, *times: datetime | None) -> None:
    for i, ts in enumerate(times):
        obs.feed(Event("t", i + 1, "x", "x", "nginx", timestamp=ts, fields={"kind": "access", "status": 200}))


def test_peak_rps_counts_each_second_wherever_its_lines_are():
    utc = UTC
    a, b = datetime(2024, 1, 1, 0, 0, 1, tzinfo=utc), datetime(2024, 1, 1, 0, 0, 2, tzinfo=utc)
    obs = Observations()
    _access_at(obs, *(a + timedelta(microseconds=i) for i in range(5)), b, b, b)
    _access_at(obs, a + timedelta(milliseconds=999), a, None)  # second a again, after b; an untimed line
    assert obs.peak_rps == 7
    assert obs.peak_rps == 7  # reading it twice changes nothing
    # The same instant in another offset is the same second; a naive time is its own.
    plus_one = timezone(timedelta(hours=1))
    _access_at(obs, *(b.astimezone(plus_one) for _ in range(5)), datetime(2024, 1, 1, 0, 0, 2))
    assert obs.peak_rps == 8
    assert Observations().peak_rps is None


def test_peak_rps_memory_stays_bounded_and_keeps_the_busiest_second():
    obs = Observations()
    start = datetime(2024, 1, 1, tzinfo=UTC)
    busy = start + timedelta(seconds=100)
    _access_at(obs, *(busy for _ in range(9)))
    _access_at(obs, *(start + timedelta(seconds=200 + i) for i in range(10_000)))
    assert obs.peak_rps == 9
    assert len(obs.per_second) <= 4097


def test_replicas_from_access_lines_when_flags_absent():
    obs = Observations()
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for i in range(30):  # 10 requests in each of 3 seconds, 2 s each
        ts = start + timedelta(seconds=i // 10)
        obs.feed(
            Event(
                "t",
                i + 1,
                "x",
                "x",
                "nginx",
                timestamp=ts,
                fields={"kind": "access", "status": 200, "duration_ms": 2000.0},
            )
        )
    s = suggest_replicas(obs, ReplicaInputs())
    assert s.suggested == str(replicas_needed(10, 2, 0.7, 1))


def test_replicas_say_which_inputs_are_missing():
    s = suggest_replicas(Observations(), ReplicaInputs())
    assert s.suggested is None
    assert "--target-rps and --request-seconds" in s.reasoning


def test_memory_suggestions_per_knob():
    obs = Observations()
    obs.feed(_event("memory: usage 1048576kB, limit 1048576kB, failcnt 14"))
    assert obs.memory_limit_bytes == 2**30
    assert suggest_memory("resources.limits.memory", obs).suggested == "2Gi"
    assert suggest_memory("--memory", obs).suggested == "2g"
    s = suggest_memory("memory_gb", obs)
    assert (s.current, s.suggested) == ("1", "2")
    assert suggest_memory("memory_gb", Observations()).suggested is None


def test_parse_memory_units():
    assert parse_memory("1Gi") == 2**30
    assert parse_memory("512Mi") == 512 * 2**20
    assert parse_memory("2g") == 2 * 10**9
    assert parse_memory("lots") is None


def test_timeout_current_from_azmlinfsrv_banner_and_suggestion_from_durations():
    obs = Observations()
    obs.feed(_event("Worker Timeout (seconds): 300"))
    obs.feed(_event("Scoring timeout is found from os.environ: 60000 ms"))
    obs.feed(
        Event("t", 3, "x", "x", "gunicorn", fields={"kind": "access", "status": 200, "duration_ms": 400000.0})
    )
    assert obs.worker_timeout_s == 300
    assert obs.scoring_timeout_ms == 60000
    s = suggest_timeout("WORKER_TIMEOUT", obs)
    assert (s.current, s.suggested) == ("300", "600")
    s = suggest_timeout("SCORING_TIMEOUT_MS", obs)
    assert (s.current, s.suggested) == ("60000", "600000")


def test_timeout_defaults_are_marked_as_defaults_with_their_docs():
    s = suggest_timeout("--timeout", Observations(), Platform.GUNICORN)
    assert (s.current, s.current_source, s.suggested) == ("30", ValueSource.DEFAULT, "60")
    assert s.current_docs == "https://docs.gunicorn.org/en/stable/settings.html#timeout"
    assert "does not log its timeout" in s.reasoning
    s = suggest_timeout("request_settings.request_timeout_ms", Observations(), Platform.AZUREML_V2_KUBERNETES)
    assert (s.current, s.current_source, s.suggested) == ("5000", ValueSource.DEFAULT, "10000")
    s = suggest_timeout("scoring_timeout_ms", Observations(), Platform.AZUREML_V1_AKS)
    assert (s.current, s.current_source, s.suggested) == ("60000", ValueSource.DEFAULT, "120000")
    assert "AKS web services" in s.reasoning


def test_timeouts_read_from_deployment_settings_are_observed():
    obs = Observations()
    obs.feed(
        _event(
            "deployment_config = AksWebservice.deploy_configuration(scoring_timeout_ms=90000, memory_gb=2)"
        )
    )
    obs.feed(_event("  request_timeout_ms: 15000"))
    obs.feed(_event('    nginx.ingress.kubernetes.io/proxy-read-timeout: "120"'))
    assert (obs.aks_scoring_timeout_ms, obs.request_timeout_ms, obs.proxy_read_timeout_s) == (
        90000,
        15000,
        120,
    )
    s = suggest_timeout("scoring_timeout_ms", obs, Platform.AZUREML_V1_AKS)
    assert (s.current, s.current_source, s.suggested) == ("90000", ValueSource.OBSERVED, "180000")
    obs = Observations()
    obs.feed(_event('"requestSettings": {"requestTimeout": "PT2.5S", "maxConcurrentRequestsPerInstance": 1}'))
    assert obs.request_timeout_ms == 2500


def test_timed_out_requests_are_lower_bounds_not_the_slowest_request():
    # azmlinfsrv logs a request cut at SCORING_TIMEOUT_MS=1000 as "POST /score 500 1001.090ms":
    # that duration is the timeout, so the suggestion doubles instead of taking 1.5x of it.
    obs = Observations()
    obs.feed(_event("Scoring timeout is set to 1000"))
    obs.feed(
        Event(
            "t", 2, "x", "x", "azmlinfsrv", fields={"kind": "access", "status": 500, "duration_ms": 1001.09}
        )
    )
    obs.feed(
        Event("t", 3, "x", "x", "azmlinfsrv", fields={"kind": "access", "status": 200, "duration_ms": 300.0})
    )
    s = suggest_timeout("SCORING_TIMEOUT_MS", obs)
    assert (s.current, s.suggested) == ("1000", "2000")
    assert s.suggested != s.current


def test_workers_halved():
    obs = Observations()
    obs.feed(_event("Worker Count: 4"))
    assert suggest_workers(obs).suggested == "2"


def test_platforms_are_those_shown_never_guessed():
    # azmlinfsrv runs locally and under SDK v1 and v2 deployments: its log alone names none of them
    assert select_platforms((Platform.AZMLINFSRV,), None) == (Platform.AZMLINFSRV,)
    assert select_platforms((Platform.AZMLINFSRV, Platform.GUNICORN), None) == (Platform.AZMLINFSRV,)
    assert select_platforms((), None) == ()
    assert select_platforms((Platform.KUBERNETES,), Platform.DOCKER) == (Platform.DOCKER,)
