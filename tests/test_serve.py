"""The HTTP server, tested through a real uvicorn server on an ephemeral loopback port."""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")

from app_host import app_host  # noqa: E402
from sklearn.dummy import DummyClassifier  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

from mlcicd.deploy import HealthCheck, ModelVersion, Router  # noqa: E402
from mlcicd.deploy.serve import create_app  # noqa: E402
from mlcicd.testing import ServerProcess  # noqa: E402

# More wall time than CPU (a loopback server, slow models): started early (conftest).
pytestmark = pytest.mark.waits

TOKEN = "test-token-123"  # noqa: S105
AUTH = {"Authorization": f"Bearer {TOKEN}"}


#: The ``data`` fixture (tests/conftest.py): y = x0 + x3 > 0 on 600 seeded rows.
LINEAR_DATA = (5, 600, (1.0, 0.0, 0.0, 1.0))


@pytest.fixture(scope="module")
def versions(data):
    X, y = data
    return (ModelVersion(LogisticRegression(C=0.01).fit(X, y), "v1"),
            ModelVersion(LogisticRegression(C=1.0).fit(X, y), "v2"))


@pytest.fixture(scope="module")
def host():
    """One loopback server for the module; each test mounts a fresh app on it."""
    with app_host() as shared:
        yield shared


@pytest.fixture()
def server(host, versions, data):
    """A fresh app: blue serves v1, green holds v2 warm."""
    X, y = data
    router = Router({"blue": versions[0], "green": versions[1]})
    app = create_app(router, admin_token=TOKEN,
                     health_check=HealthCheck(X[:100], y[:100], min_accuracy=0.7))
    with host.mount(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        yield client, router


def test_a_prediction_names_the_version_that_answered(server, data):
    client, _ = server
    X, _ = data
    r = client.post("/predict", json={"features": X[0].tolist(), "key": "user-1"})
    assert r.status_code == 200
    assert r.headers["x-model-version"] == r.json()["version"] == "v1"
    assert r.json()["prediction"] in (0, 1)
    for path in ("/healthz", "/metrics", "/no-such-page"):
        assert client.get(path).headers["x-model-version"] == "v1"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"{}",
        b'{"features": "1,2,3,4"}',
        b'{"features": ["a", "b", "c", "d"]}',
        b'{"features": []}',
        b'{"features": [1, 2, 3]}',
        b'{"features": [NaN, 1, 2, 3]}',
        b'{"features": [1e999, 1, 2, 3]}',
        b'{"features": [1, 2, 3, 4], "extra": true}',
        b'{"features": [1, 2, 3, 4], "key": {"nested": 1}}',
    ],
)
def test_bad_input_gets_a_422_with_a_message_never_a_500(server, body):
    client, router = server
    r = client.post("/predict", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert r.json()["detail"]
    assert r.headers["x-model-version"] == "v1"
    assert router.n_requests == 0


def test_missing_values_are_accepted_as_null(server):
    client, _ = server
    r = client.post("/predict", json={"features": [0.1, None, 0.2, 0.3]})
    # LogisticRegression cannot take NaN: the model's error is reported, not hidden.
    assert r.status_code in (200, 503)
    assert r.headers["x-model-version"] == "v1"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"},
                                     {"Authorization": f"Bearer {TOKEN}x"},
                                     {"Authorization": TOKEN}])
def test_admin_endpoints_refuse_a_missing_or_wrong_token(server, headers):
    client, router = server
    r = client.post("/admin/switch", json={"slot": "green"}, headers=headers)
    assert r.status_code == 401
    assert r.headers["x-model-version"] == "v1"
    assert router.live_versions() == {"blue": "v1"}


def test_admin_token_comes_from_the_environment(monkeypatch, host, versions):
    monkeypatch.setenv("MLCICD_ADMIN_TOKEN", "from-env")
    router = Router({"blue": versions[0], "green": versions[1]})
    with host.mount(create_app(router)) as url:
        ok = httpx.post(f"{url}/admin/switch", json={"slot": "green"},
                        headers={"Authorization": "Bearer from-env"})
    assert ok.status_code == 200 and router.live_versions() == {"green": "v2"}
    monkeypatch.delenv("MLCICD_ADMIN_TOKEN")
    with host.mount(create_app(router)) as url:
        assert httpx.post(f"{url}/admin/rollback", headers=AUTH).status_code == 401


def test_metrics_count_requests_errors_latency_and_accuracy_per_version(server, data):
    client, _ = server
    X, y = data
    ids = [client.post("/predict", json={"features": X[i].tolist(), "key": f"u{i}"}).json()
           ["request_id"] for i in range(20)]
    client.post("/admin/switch", json={"slot": "green"}, headers=AUTH)
    for i in range(20, 30):
        client.post("/predict", json={"features": X[i].tolist(), "key": f"u{i}"})
    for rid, label in zip(ids[:10], y[:10], strict=True):
        assert client.post("/feedback", json={"request_id": rid, "label": int(label)}).is_success
    assert client.post("/feedback", json={"request_id": 999, "label": 1}).status_code == 422
    rows = {row["version"]: row for row in client.get("/metrics").json()["versions"]}
    assert rows["v1"]["requests"] == 20 and rows["v2"]["requests"] == 10
    assert rows["v1"]["errors"] == 0 and rows["v1"]["p99_ms"] >= rows["v1"]["p50_ms"] > 0
    assert rows["v1"]["labelled"] == 10 and 0 <= rows["v1"]["accuracy"] <= 1
    assert rows["v2"]["accuracy"] is None


def test_rollback_returns_to_the_version_before_the_last_release(server):
    client, router = server
    assert client.post("/admin/switch", json={"slot": "green"}, headers=AUTH).is_success
    assert client.post("/admin/rollback", headers=AUTH).json()["live"] == {"blue": "v1"}
    start = client.post("/admin/canary/start", json={"slot": "green", "steps": [0.2, 1.0]},
                        headers=AUTH)
    assert start.json()["weights"] == {"green": 0.2, "blue": 0.8}
    assert client.post("/admin/canary/abort", headers=AUTH).json()["live"] == {"blue": "v1"}
    # After an abort there is nothing earlier to go back to: users stay on stable.
    r = client.post("/admin/rollback", headers=AUTH)
    assert r.status_code == 422 and "nothing to roll back" in r.json()["detail"]
    assert router.live_versions() == {"blue": "v1"}
    client.post("/admin/canary/start", json={"slot": "green", "steps": [0.5, 1.0]},
                headers=AUTH)
    advanced = client.post("/admin/canary/advance", json={"force": True}, headers=AUTH).json()
    assert advanced["weights"] == {"green": 1.0}
    promoted = client.post("/admin/canary/advance", json={"force": True}, headers=AUTH).json()
    assert promoted["status"] == "promoted"
    assert client.post("/admin/rollback", headers=AUTH).json()["live"] == {"blue": "v1"}


def test_a_switch_can_name_the_version_instead_of_the_slot(server):
    client, router = server
    r = client.post("/admin/switch", json={"version": "v2"}, headers=AUTH)
    assert r.status_code == 200 and r.json()["live"] == {"green": "v2"}
    r = client.post("/admin/switch", json={"version": "v7"}, headers=AUTH)
    assert r.status_code == 422 and "unknown version" in r.json()["detail"]
    r = client.post("/admin/switch", json={"slot": "blue", "version": "v1"}, headers=AUTH)
    assert r.status_code == 422
    assert router.live_versions() == {"green": "v2"}


def test_a_switch_to_a_slot_failing_its_health_check_is_refused(server, data):
    client, router = server
    X, y = data
    router.deploy("green", ModelVersion(DummyClassifier(strategy="constant", constant=0)
                                        .fit(X, y), "bad"))
    r = client.post("/admin/switch", json={"slot": "green"}, headers=AUTH)
    assert r.status_code == 409 and "accuracy" in r.json()["detail"]
    assert router.live_versions() == {"blue": "v1"}


def test_a_tampered_artifact_is_refused_and_state_is_unchanged(server, data, tmp_path):
    from mlcicd import artifacts
    client, router = server
    X, y = data
    artifacts.save_model(LogisticRegression().fit(X, y), tmp_path / "good")
    r = client.post("/admin/deploy", json={"slot": "green", "artifact": str(tmp_path / "good")},
                    headers=AUTH)
    assert r.status_code == 200 and r.json()["version"].startswith("sha-")
    good_version = router.version_of("green")
    model_file = next((tmp_path / "good").glob("model-*.skops"))
    model_file.write_bytes(model_file.read_bytes() + b"\0")
    r = client.post("/admin/deploy", json={"slot": "green", "artifact": str(tmp_path / "good")},
                    headers=AUTH)
    assert r.status_code == 422 and "size" in r.json()["detail"]
    assert router.version_of("green") == good_version
    r = client.post("/admin/deploy", json={"slot": "blue", "artifact": str(tmp_path / "x")},
                    headers=AUTH)
    assert r.status_code == 422


def test_admin_mistakes_are_422_and_change_nothing(server):
    client, router = server
    for path, body in [("/admin/switch", {"slot": "purple"}),
                       ("/admin/canary/advance", {}),
                       ("/admin/canary/abort", None),
                       ("/admin/canary/start", {"slot": "green", "steps": [0.5, 0.2]}),
                       ("/admin/canary/start", {"slot": "green", "steps": [0.5, 1.5]}),
                       ("/admin/rollback", None)]:
        r = client.post(path, json=body, headers=AUTH)
        assert r.status_code == 422, (path, r.text)
        assert r.json()["detail"]
    assert router.live_versions() == {"blue": "v1"}


@pytest.fixture(scope="module")
def artifact_dirs(tmp_path_factory, data):
    from mlcicd import artifacts
    X, y = data
    root = tmp_path_factory.mktemp("serve-artifacts")
    artifacts.save_model(LogisticRegression(C=0.01).fit(X, y), root / "v1")
    artifacts.save_model(LogisticRegression(C=1.0).fit(X, y), root / "v2")
    versions = {name: ModelVersion.from_artifact(root / name).version for name in ("v1", "v2")}
    return root, versions


@pytest.mark.slow
def test_no_request_fails_while_switching_rolling_back_and_aborting_a_canary(artifact_dirs,
                                                                             data):
    X, _ = data
    root, versions = artifact_dirs
    v1, v2 = versions["v1"], versions["v2"]
    # Every action lands with `concurrency` requests in flight; 100 answers between two
    # actions let each routing table serve a few rounds of them (2,000 in all cost 3x
    # the CPU for the same moments of change).
    n_requests, concurrency, every = 600, 32, 100
    actions = [  # (endpoint, body, live versions expected after), one per `every` answers
        ("/admin/switch", {"slot": "green"}, {"green": v2}),
        ("/admin/rollback", None, {"blue": v1}),
        # min_requests out of reach: the server's own analysis waits, the operator acts
        ("/admin/canary/start", {"slot": "green", "steps": [0.1, 0.5, 1.0],
                                 "min_requests": 100_000}, None),
        ("/admin/canary/advance", {"force": True}, None),
        ("/admin/canary/abort", None, {"blue": v1}),
    ]

    async def load(url: str) -> tuple[list, list]:
        done: list = []
        admin_log: list = []
        sem = asyncio.Semaphore(concurrency)
        limits = httpx.Limits(max_connections=concurrency + 4)
        due = {every * (k + 1): asyncio.Event() for k in range(len(actions))}
        async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:

            async def one(i: int) -> None:
                async with sem:
                    r = await client.post("/predict", json={"features": X[i % len(X)].tolist(),
                                                            "key": f"user-{i % 700}"})
                done.append((r.status_code, r.headers.get("x-model-version"),
                             r.json().get("version")))
                if len(done) in due:
                    due[len(done)].set()

            async def operator() -> None:
                for after, (path, body, expected) in zip(due, actions, strict=True):
                    await due[after].wait()
                    r = await client.post(path, json=body, headers=AUTH)
                    admin_log.append((path, r.status_code, r.json(), expected))

            await asyncio.gather(operator(), *(one(i) for i in range(n_requests)))
            health = (await client.get("/healthz")).json()
            metrics = (await client.get("/metrics")).json()
        return done, admin_log, health, metrics

    with ServerProcess(root / "v1", root / "v2", admin_token=TOKEN) as url:
        done, admin_log, health, metrics = asyncio.run(load(url))
    assert len(done) == n_requests and len(admin_log) == len(actions)
    assert [status for status, _, _ in done] == [200] * n_requests
    assert all(header == body for _, header, body in done)
    assert {header for _, header, _ in done} == {v1, v2}
    for path, status, body, expected in admin_log:
        assert status == 200, (path, body)
        if expected is not None:
            assert body["live"] == expected, path
    assert health["live"] == {"blue": v1}
    assert metrics["requests"] == n_requests
    assert sum(row["errors"] for row in metrics["versions"]) == 0
