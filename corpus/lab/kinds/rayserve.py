"""Ray Serve: one deployment around score.py (corpus/lab/apps/serve_app.py), started with
`serve run serve_config.yaml` (a local Ray instance is started by `serve run` itself).

The Serve config file is how a port, a request timeout and a replica count are given to `serve run`
(the CLI has no port flag): https://docs.ray.io/en/latest/serve/production-guide/config.html
(`http_options.host` / `port`, default 8000; `http_options.request_timeout_s`, default: none, "End-to-end
timeout for HTTP requests"; per deployment `num_replicas`, default 1:
https://docs.ray.io/en/latest/serve/configure-serve-deployment.html). The lab writes it into the
scenario folder: host 127.0.0.1, the lab's port, `num_replicas` = the scenario's workers, and
`request_timeout_s` only when the scenario sets a timeout. `PYTHONPATH` is the scenario folder, so
the replicas (Ray worker processes, which inherit the environment of the local Ray instance) import
serve_app and score from it as the `serve run` process does. Health: `GET /` (answered by the
deployment, so 200 only once the application is running; the proxy answers 404 before); scoring:
`POST /` with the lab's JSON body.
"""

from __future__ import annotations

from pathlib import Path

from . import Kind, Server


def command(server: Server, sc, port: int, workdir: Path) -> tuple[list[str], dict[str, str]]:
    http = ["http_options:", "  host: 127.0.0.1", f"  port: {port}"]
    if sc.timeout is not None:
        http.append(f"  request_timeout_s: {sc.timeout}")
    app = [
        "applications:",
        "- name: default",
        "  route_prefix: /",
        "  import_path: serve_app:app",
        "  deployments:",
        "  - name: DiabetesModel",
        f"    num_replicas: {sc.workers}",
    ]
    (workdir / "serve_config.yaml").write_text("\n".join(http + app) + "\n")
    cmd = [str(server.bin / "serve"), "run", str(workdir / "serve_config.yaml")]
    return cmd, {"PYTHONUNBUFFERED": "1", "PYTHONPATH": str(workdir)}


KIND = Kind(
    "rayserve",
    command,
    app_files=("serve_app.py",),
    health_path="/",
    score_path="/",
    skip=frozenset(
        {
            # Nothing fails: a second `serve run` starts a second local Ray instance (its dashboard
            # moves to 8266) whose proxy binds the same HTTP port as the first, because Serve's
            # proxy sets SO_REUSEPORT (ray/serve/_private/http_util.py set_socket_reuse_port); the
            # two then share the port. Tried: no bind error in 25 s, so no port_in_use to record.
            "port-in-use",
        }
    ),
    worker_class="ray serve replicas",
    # `serve run` starts a local Ray instance first: 15-20 s here before the application answers
    boot_extra_s=30,
    # A Ray instance (GCS, raylet, dashboard, `serve run` driver, controller, proxy, replica) peaks at
    # ~920 MiB here before any model code runs (cgroup max_usage_in_bytes of a healthy run): under the
    # oom-* scenarios' bare 256 MiB the kernel kills `serve` itself during ray.init(). With this
    # headroom the limit is 1280 MiB and it is the replica's 1 GiB allocation that is killed.
    memory_headroom_mb=1024,
)
SERVERS = [Server("rayserve-2.60.0", "rayserve", "2.60.0", "3.11", ("ray[serve]==2.60.0", "joblib"))]
