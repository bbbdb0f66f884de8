"""Ray worker output on the driver: the `(Name pid=N, ip=A)` prefix, and a worker's traceback carried in
the exception of the actor that saw it (format: ray-project/ray python/ray/_private/worker.py)."""

from __future__ import annotations

from test_parse_helpers import kinds, parse_text

ESC = "\x1b"
CTRL = f"{ESC}[36m(ServeController pid=13097){ESC}[0m "


def test_prefix_is_stripped_into_the_worker_and_its_line_read_as_usual():
    evs = parse_text(
        f"{CTRL}ERROR 2026-12-07 06:54:07,261 controller 13097 -- Exception in Replica(id='p6').\n"
        "(ServeReplica:default:Model pid=13177, ip=10.0.0.7) INFO 2026-12-07 06:54:08,000 replica -- ready\n"
        "[36m(raylet)[0m [2026-12-07 06:54:09,000 E 12 12] worker_pool.cc:1 -- lost\n"
    )
    ctrl, rep, raylet = evs
    assert ctrl.fields["ray_worker"] == "ServeController:13097"
    assert ctrl.message == "controller 13097 -- Exception in Replica(id='p6')."
    assert ctrl.level is not None and ctrl.level.name == "ERROR"
    assert rep.fields == {"ray_worker": "ServeReplica:default:Model:13177", "node_ip": "10.0.0.7"}
    assert rep.pid == 13177
    assert raylet.fields["ray_worker"] == "raylet"
    (core,) = parse_text("2026-12-07 06:53:59,423\tWARNING scripts.py:489 -- Running config file\n")
    assert core.level is not None and core.level.name == "WARNING" and core.message.startswith("scripts.py")
    assert not parse_text("(see below) the model failed\n")[0].fields  # an aside is not a prefix


def test_remote_traceback_in_a_ray_task_error_assembles_to_the_innermost_exception():
    lines = [
        "Traceback (most recent call last):",
        '  File "/ray/serve/_private/deployment_state.py", line 1, in check_ready',
        "    ) = ray.get(self._ready_obj_ref)",
        "ray.exceptions.RayTaskError(RuntimeError): ray::ServeReplica:default:Model.initialize() (pid=13177)",
        '  File "/ray/serve/_private/replica.py", line 3521, in initialize',
        "    raise RuntimeError(traceback.format_exc()) from None",
        "RuntimeError: Traceback (most recent call last):",
        '  File "/app/score.py", line 12, in init',
        '    model_path = os.path.join(os.getenv("AZUREML_MODEL_DIR"), "model.pkl")',
        "TypeError: expected str, bytes or os.PathLike object, not NoneType",
    ]
    other = "(ProxyActor pid=13098) INFO 2026-12-07 06:54:08,000 proxy -- Got updated endpoints: {}.\n"
    text = "".join(f"{CTRL}{line}\n" + (other if i == 4 else "") for i, line in enumerate(lines))
    evs = parse_text(text + f"{CTRL}INFO 2026-12-07 06:54:08,333 controller 13097 -- Adding 1 replica.\n")
    (tb,) = kinds(evs, "traceback")
    chain = ["ray.exceptions.RayTaskError(RuntimeError)", "RuntimeError", "TypeError"]
    assert tb.fields["exceptions"] == chain
    assert tb.fields["exception"] == "TypeError" and tb.fields["functions"][-1] == "init"
    assert "AZUREML_MODEL_DIR" in tb.message  # one event: the rules see the path and the error together
    assert len(evs) == 3  # the traceback, the proxy's line between its lines, the controller's next line


def test_an_indented_traceback_keeps_the_remote_frames_after_its_exception_line():
    lines = [
        "    Traceback (most recent call last):",
        '      File "/ray/serve/_private/deployment_state.py", line 1, in check_ready',
        "        ) = ray.get(self._ready_obj_ref)",
        "    ray.exceptions.RayTaskError(RuntimeError): ray::ServeReplica:default:Model.initialize()",
        '      File "/app/score.py", line 12, in init',
        "        model = load()",
        "    TypeError: expected str, bytes or os.PathLike object, not NoneType",
    ]
    evs = parse_text("[E 2017-11-30 13:27:51.212 Hub app:1527]\n" + "\n".join(lines) + "\n")
    (tb,) = kinds(evs, "traceback")
    assert tb.fields["exceptions"] == ["ray.exceptions.RayTaskError(RuntimeError)", "TypeError"]
    assert tb.fields["functions"] == ["check_ready", "init"]
