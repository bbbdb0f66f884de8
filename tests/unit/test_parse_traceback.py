from __future__ import annotations

from test_parse_helpers import kinds, parse_text

from diagnoser.model import Level

SIMPLE = """Traceback (most recent call last):
  File "/var/azureml-app/score.py", line 3, in <module>
    import joblib
ModuleNotFoundError: No module named 'joblib'
next line
"""

CHAINED = """Traceback (most recent call last):
  File "/app/a.py", line 2, in load
    open(p)
FileNotFoundError: [Errno 2] No such file or directory: 'model.pkl'

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/app/a.py", line 5, in init
    load()
  File "/app/a.py", line 4, in load
    raise azureml.exceptions.WebserviceException("model missing")
azureml.exceptions.WebserviceException: model missing
"""


def test_simple_traceback_is_one_event():
    tb, nxt = parse_text(SIMPLE)
    assert tb.fields["kind"] == "traceback" and tb.format == "traceback" and tb.level == Level.ERROR
    assert (
        tb.fields["exception"] == "ModuleNotFoundError"
        and tb.fields["exception_full"] == "ModuleNotFoundError"
    )
    assert tb.fields["exception_message"] == "No module named 'joblib'"
    assert tb.fields["functions"] == ["<module>"] and tb.fields["files"] == ["/var/azureml-app/score.py"]
    assert tb.message == SIMPLE.split("\nnext")[0]
    assert (tb.line, tb.end_line) == (1, 4) and nxt.message == "next line"


def test_chained_traceback_during_handling():
    (tb,) = parse_text(CHAINED)
    assert tb.fields["exceptions"] == ["FileNotFoundError", "azureml.exceptions.WebserviceException"]
    assert tb.fields["exception"] == "WebserviceException"
    assert tb.fields["exception_full"] == "azureml.exceptions.WebserviceException"
    assert tb.fields["functions"] == ["load", "init", "load"]
    assert "During handling of the above exception" in tb.message and tb.end_line == 13


def test_traceback_without_final_line_ends_at_next_log_line():
    text = (
        'Traceback (most recent call last):\n  File "x.py", line 1, in f\n'
        "[2024-01-01 00:00:00 +0000] [1] [INFO] Booting worker with pid: 2\n"
    )
    tb, boot = parse_text(text)
    assert tb.fields["kind"] == "traceback" and "exception" not in tb.fields
    assert boot.fields["kind"] == "worker_boot"


def test_traceback_open_at_end_of_input_is_flushed():
    (tb,) = parse_text('Traceback (most recent call last):\n  File "x.py", line 1, in f\n')
    assert tb.fields["files"] == ["x.py"]


def test_trailing_blank_line_is_absorbed_and_bounded():
    body = "".join(f'  File "f{i}.py", line {i}, in g{i}\n    x()\n' for i in range(6000))
    evs = parse_text("Traceback (most recent call last):\n" + body + "RecursionError: deep\n\nok\n")
    assert len(evs[0].text) <= 20000 and len(evs[0].fields["files"]) <= 200
    assert evs[-1].message == "ok"
    assert sum(1 for e in kinds(evs, "traceback")) >= 1


def test_the_phase_comes_from_the_innermost_frame_that_says_when_it_was_raised():
    (startup,) = parse_text(
        "Traceback (most recent call last):\n"
        '  File "/src/cog/server/worker.py", line 120, in _run\n'
        "    self._predictor.setup()\n"
        '  File "/src/predict.py", line 12, in setup\n'
        "    self.model = load(self.weights)\n"
        '  File "/src/helpers.py", line 3, in normalise\n'
        "    raise ValueError('bad weights')\n"
        "ValueError: bad weights\n"
    )
    assert startup.fields["phase"] == "startup"  # normalise says nothing; setup does
    (request,) = parse_text(
        "Traceback (most recent call last):\n"
        '  File "/app/main.py", line 40, in predict\n'
        "    return model(x)\n"
        "RuntimeError: shape mismatch\n"
    )
    assert request.fields["phase"] == "request"
    (silent,) = parse_text(
        "Traceback (most recent call last):\n"
        '  File "/app/x.py", line 4, in helper\n'
        "    f()\n"
        "RuntimeError: x\n"
    )
    assert "phase" not in silent.fields


def test_a_traceback_relayed_with_a_blank_after_each_line_stays_one_event():
    # TGI's launcher relays a shard's stderr with a blank line after each line
    (tb, rank) = parse_text(
        "Traceback (most recent call last):\n\n"
        '  File "/opt/conda/lib/python3.9/site-packages/tgi/server.py", line 137, in serve_inner\n'
        "    model = get_model(\n\n"
        '  File "/opt/conda/lib/python3.9/site-packages/tgi/models/__init__.py", line 193, in get_model\n'
        "    raise NotImplementedError(FLASH_ATT_ERROR_MESSAGE)\n\n"
        "NotImplementedError: Sharded Llama requires Flash Attention enabled models.\n\n\n"
        "Shard 0 failed to start\n"
    )
    assert tb.fields["exception"] == "NotImplementedError"
    assert tb.fields["functions"] == ["serve_inner", "get_model"]
    assert rank.message == "Shard 0 failed to start"
    # two blanks in a row end a traceback cut in its frames
    cut = parse_text('Traceback (most recent call last):\n  File "a.py", line 1, in f\n\n\nValueError: x\n')
    assert cut[0].fields.get("exception") is None and cut[-1].message == "ValueError: x"


def test_an_exception_that_reached_the_top_level_is_marked_uncaught():
    (top,) = parse_text(
        "Traceback (most recent call last):\n"
        '  File "/app/serve.py", line 8, in <module>\n'
        "    model = build()\n"
        '  File "/app/models.py", line 3, in build\n'
        "    raise ValueError('bad kind')\n"
        "ValueError: bad kind\n"
    )
    assert top.fields["uncaught"] is True
    (runpy,) = parse_text(
        "Traceback (most recent call last):\n"
        '  File "/usr/lib/python3.11/runpy.py", line 198, in _run_module_as_main\n'
        "    return _run_code(code, main_globals, None,\n"
        "RuntimeError: x\n"
    )
    assert runpy.fields["uncaught"] is True
    (caught,) = parse_text(
        "Traceback (most recent call last):\n"
        '  File "/app/serve.py", line 20, in load\n'
        "    self.model = build()\n"
        "ValueError: bad kind\n"
    )
    assert "uncaught" not in caught.fields


def test_an_exception_raised_inside_an_installed_package_says_so():
    (lib,) = parse_text(
        "Traceback (most recent call last):\n"
        '  File "/app/entry.py", line 14, in <module>\n'
        "    client = make_client()\n"
        '  File "/usr/local/lib/python3.7/site-packages/minio/helpers.py", line 301, in is_valid_endpoint\n'
        "    if hostname[-1] == '.':\n"
        "IndexError: string index out of range\n"
    )
    assert lib.fields["raised_in_package"] is True and lib.fields["uncaught"] is True
    (own,) = parse_text(
        "Traceback (most recent call last):\n"
        '  File "/app/entry.py", line 14, in <module>\n'
        "    raise ValueError('x')\n"
        "ValueError: x\n"
    )
    assert "raised_in_package" not in own.fields


def test_frames_pasted_without_their_indent_stay_one_traceback():
    # a log viewer that strips leading blanks and double-spaces the lines (Railway)
    (tb,) = parse_text(
        "Traceback (most recent call last):\n\n"
        'File "/app/app.py", line 13, in <module>\n\n'
        "embedchain_app = Pipeline()\n\n"
        "^^^^^^^^^^\n\n"
        'File "/usr/lib/python3.11/site-packages/embedchain/openai.py", line 19, in __init__\n\n'
        'api_key = os.environ["OPENAI_API_KEY"]\n\n'
        'File "<frozen os>", line 679, in __getitem__\n\n'
        "KeyError: 'OPENAI_API_KEY'\n"
    )
    assert tb.fields["exception"] == "KeyError"
    assert tb.fields["functions"] == ["<module>", "__init__", "__getitem__"]
