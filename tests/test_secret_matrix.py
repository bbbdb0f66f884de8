"""The secret matrix: every secret shape, through every way a text leaves diagnoser.

Shapes: the ones tests/test_redaction.py plants in single log lines, plus the shapes a pasted
manifest, `docker inspect`, `kubectl describe` or a Docker config carries, where the secret is known
by its structure (an env entry's name on the line before its value, a Secret's data block) rather
than by its look. Outputs: the text, JSON and Markdown reports, `diagnoser parse` as text and JSON, a
saved bundle and the report of its replay.

Each shape proves it reaches the output when nothing redacts it (`--no-redact` into a bundle, which
keeps every line), so every "not in the output" below is a real check.
"""

from __future__ import annotations

import json

import pytest

from tests.test_redaction import SECRETS, suspicious_log

# (id, secret, a log line holding it): single lines, planted among a log's error lines.
LINE_SHAPES = [
    *SECRETS,
    (
        "env-key-suffix",
        "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2Rl",
        "AZURE_STORAGE_KEY=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2Rl",
    ),
    (
        "azureml-key",
        "q7Rt2LmN8pXv4ZkW9sB3cD6fH1jK5gQy",
        "env AZUREML_KEY=q7Rt2LmN8pXv4ZkW9sB3cD6fH1jK5gQy loaded",
    ),
    (
        "hf-token-bare",
        "hf_AbCdEfGhIjKlMnOpQrStUvWxYz01234567",
        "401 for hf_AbCdEfGhIjKlMnOpQrStUvWxYz01234567",
    ),
    (
        "slack-webhook",
        "xYz123AbC456dEf789GhI012",
        "alert post to https://hooks.slack.com/services/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 failed",
    ),
    ("curl-user", "Curl-P4ssw0rd!", "health check: curl -sf -u mluser:Curl-P4ssw0rd! http://localhost:5001/"),
    ("docker-login", "D0ckerL0ginPw99", "docker login myreg.azurecr.io -u admin -p D0ckerL0ginPw99 failed"),
    ("query-pass", "QueryPass1234", "GET /download?user=bob&pass=QueryPass1234 HTTP/1.1 500"),
    ("query-pw", "QueryPw5678x", "GET /fetch?pw=QueryPw5678x HTTP/1.1 500"),
    ("query-auth", "QueryAuth9012y", "GET /metrics?auth=QueryAuth9012y HTTP/1.1 500"),
    (
        "url-password-slash",
        "Sl4sh/Pa55w0rd",
        "cannot connect to postgresql://ml:Sl4sh/Pa55w0rd@db.internal:5432/f",
    ),
    ("url-password-at", "At@Pa55w0rdX", "cannot connect to redis://:At@Pa55w0rdX@cache:6379/0"),
    (
        "google-oauth-secret",
        "GOCSPX-AbCdEfGhIjKlMnOpQrStUvWxYz12",
        "oauth failed with GOCSPX-AbCdEfGhIjKlMnOpQrStUvWxYz12",
    ),
    (
        "databricks",
        "dapi0123456789abcdef0123456789abcdef",
        "mlflow: 403 using dapi0123456789abcdef0123456789abcdef",
    ),
    (
        "sendgrid",
        "SG.AbCdEfGhIjKlMnOpQrStUv.AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfG",
        "mail failed SG.AbCdEfGhIjKlMnOpQrStUv.AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfG",
    ),
    (
        "stripe-restricted",
        "rk_live_51AbCdEfGhIjKlMnOpQrStUvWx",
        "stripe error key rk_live_51AbCdEfGhIjKlMnOpQrStUvWx",
    ),
    (
        "docker-auth-json",
        "bXl1c2VyOm15cGFzc3dvcmQxMjM=",
        'config {"auths": {"myreg.azurecr.io": {"auth": "bXl1c2VyOm15cGFzc3dvcmQxMjM="}}}',
    ),
    ("describe-env", "D3scr1bePa55", "      DB_PASS:                 D3scr1bePa55"),
    (
        "inspect-env",
        "Insp3ctPa55w0rd",
        '"Env": ["PATH=/usr/local/bin", "DB_PASS=Insp3ctPa55w0rd", "WORKERS=2"],',
    ),
    (
        "json-secret-access-key",
        "wJalrXUtnFEMIK7MDENGbPxRfiCYzEXAMPLE",
        '{"level": "error", "SecretAccessKey": "wJalrXUtnFEMIK7MDENGbPxRfiCYzEXAMPLE", "msg": "s3 denied"}',
    ),
    (
        "json-private-key-id",
        "0123456789abcdef0123456789abcdef01234567",
        '{"level": "error", "private_key_id": "0123456789abcdef0123456789abcdef01234567", "msg": "gcs"}',
    ),
    ("json-args-flag", "ArgsPa55word9", 'args: ["--port", "5001", "--db-pass", "ArgsPa55word9"]'),
]

# (id, secrets, a whole input): shapes known by their structure, over several lines.
DOCUMENT_SHAPES = [
    (
        "pod-yaml-env",
        ["PlainOpenAiValue123456", "HfT0kenInYaml987"],
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-1\nspec:\n  containers:\n  - name: web\n"
        "    env:\n    - name: OPENAI_API_KEY\n      value: PlainOpenAiValue123456\n"
        '    - name: WORKER_COUNT\n      value: "2"\n    - name: HF_TOKEN\n      value: HfT0kenInYaml987\n',
    ),
    (
        "pod-json-env",
        ["JsonEnvPa55word1"],
        '{\n    "apiVersion": "v1",\n    "kind": "Pod",\n    "spec": {\n        "containers": [\n'
        '            {\n                "env": [\n                    {\n'
        '                        "name": "DB_PASS",\n                        "value": "JsonEnvPa55word1"\n'
        "                    }\n                ],\n"
        '                "name": "web"\n            }\n        ]\n    }\n}\n',
    ),
    (
        "secret-yaml-data",
        ["c2VjcmV0LXRva2VuLXZhbHVl", "YWRtaW51c2VyMQ=="],
        "apiVersion: v1\ndata:\n  api-token: c2VjcmV0LXRva2VuLXZhbHVl\n  username: YWRtaW51c2VyMQ==\n"
        "kind: Secret\nmetadata:\n  name: model-creds\ntype: Opaque\n",
    ),
    (
        "secret-json-data",
        ["bW9kZWwtdXNlcg=="],
        '{\n    "apiVersion": "v1",\n    "data": {\n        "user": "bW9kZWwtdXNlcg=="\n    },\n'
        '    "kind": "Secret"\n}\n',
    ),
    (
        "secret-string-data",
        ["Str1ngDataValue", "multiLineSecretBody42"],
        "apiVersion: v1\nkind: Secret\nstringData:\n  conn: Str1ngDataValue\n  config.ini: |\n"
        "    [db]\n    multiLineSecretBody42\nmetadata:\n  name: s\n",
    ),
    (
        "docker-config-pretty",
        ["cHJldHR5OnByaW50ZWRhdXRo"],
        '{\n\t"auths": {\n\t\t"myreg.azurecr.io": {\n\t\t\t"auth": "cHJldHR5OnByaW50ZWRhdXRo"\n'
        "\t\t}\n\t}\n}\n",
    ),
    (
        "docker-inspect-env-pretty",
        ["Pr3ttyInspectPw"],
        '[\n    {\n        "Config": {\n            "Env": [\n                "PATH=/usr/bin",\n'
        '                "DB_PASSWORD=Pr3ttyInspectPw"\n            ]\n        }\n    }\n]\n',
    ),
    (  # a pod as the Kubernetes collector writes it: compact JSON, one line
        "collected-pod-json",
        ["C0llect3dDbPa55", "Ann0tat10nPa55", "ArgP4ssValue"],
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "web-1", "annotations": {"example.com/db-password": "Ann0tat10nPa55"}},
                "spec": {
                    "containers": [
                        {
                            "name": "web",
                            "args": ["--port", "5001", "--db-pass", "ArgP4ssValue"],
                            "env": [
                                {"name": "WORKERS", "value": "2"},
                                {"name": "DB_PASS", "value": "C0llect3dDbPa55"},
                            ],
                        }
                    ]
                },
            },
            separators=(",", ":"),
        )
        + "\n",
    ),
    (
        "pem-body",
        ["MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj"],
        "2024-03-05 10:00:01,000 ERROR app - key follows\n-----BEGIN PRIVATE KEY-----\n"
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n-----END PRIVATE KEY-----\n",
    ),
]

SHAPES = [(name, [secret], suspicious_log(line)) for name, secret, line in LINE_SHAPES] + [
    (name, secrets, text.encode()) for name, secrets, text in DOCUMENT_SHAPES
]
OUTPUTS = ["text", "json", "markdown", "parse-text", "parse-json", "bundle", "replay"]


def _leave(cli, tmp_path, output: str, log: bytes, *flags: str) -> str:
    """Return everything `output` lets out of diagnoser for `log`."""
    path = tmp_path / "in.log"
    path.write_bytes(log)
    if output.startswith("parse-"):
        r = cli("diagnoser", "parse", "-o", output.removeprefix("parse-"), str(path))
        assert r.code == 0, r.err
        return r.out + r.err
    if output in ("bundle", "replay"):
        bundle = tmp_path / "bundle"
        r = cli("diagnose", "--json", "--save-bundle", str(bundle), *flags, str(path))
        assert r.code in (0, 1), r.err
        if output == "replay":
            r = cli("diagnose", "--json", *flags, str(bundle))
            return r.out + r.err
        return "".join(p.read_text() for p in sorted(bundle.iterdir()))
    r = cli("diagnose", "-o", output, "--no-color", *flags, str(path))
    assert r.code in (0, 1), r.err
    return r.out + r.err


@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize(("name", "secrets", "log"), SHAPES, ids=[s[0] for s in SHAPES])
def test_no_secret_leaves(cli, tmp_path, name, secrets, log, output):
    out = _leave(cli, tmp_path, output, log)
    for secret in secrets:
        assert secret not in out
    if output == "bundle":  # it keeps every line whole: the mask shows
        assert "<redacted" in out


@pytest.mark.parametrize(("name", "secrets", "log"), SHAPES, ids=[s[0] for s in SHAPES])
def test_each_shape_reaches_the_output_unredacted(cli, tmp_path, name, secrets, log):
    kept = _leave(cli, tmp_path, "bundle", log, "--no-redact")
    for secret in secrets:
        assert secret in kept


@pytest.mark.parametrize(
    "line",
    [
        "  - name: TOKENIZER\n    value: bert-base-uncased",
        "metadata:\n  name: api-key-rotator\nspec:\n  replicas: 3",
        'data:\n  enabled: true\n  workers: "1024"\n  log_level: debug',
        "secretName: model-creds",
        "PASSWORD_FILE=/run/secrets/db",
        "docker run -u 1000:1000 image",
        "max_tokens=1024 num_tokens: 77",
        "KeyError: 'n_features'",
        "pull https://registry.npmjs.org:443/@scope/pkg",
        "tokenizer_name=bert-base-uncased",
    ],
)
def test_structure_and_names_leave_ordinary_values(line):
    from diagnoser.redact import redact

    assert redact(line) == line


def test_a_token_across_the_clip_is_masked_whole(cli):
    token = "ghp_Zq8vK2mN4pR7sT1uW3xY5aB6cD8eF0gH2iJ4"
    line = "x" * 440 + " " + token + " tail"  # the record's 500th character falls inside the token
    r = cli("diagnose", "--json", stdin=suspicious_log(line))
    text = r.json()["suspicious"][0]["text"]
    assert "ghp_" not in text and "Zq8vK2mN4pR7" not in text


@pytest.mark.parametrize("fmt", ["json", "text", "markdown"])
def test_a_token_across_the_summary_cut_is_masked_whole(cli, fmt):
    """The summary quotes the exception's message cut short: the cut never halves a token, which
    would no longer look like one to the redaction at the exit."""
    from pathlib import Path

    token = "ghp_Zq8vK2mN4pR7sT1uW3xY5aB6cD8eF0gH2iJ4"
    message = "bad config " + "x" * 130 + " " + token + " end"  # the 160th character is in the token
    log = (Path(__file__).parent.parent / "examples" / "init-exception-azmlinfsrv.log").read_text()
    log = log.replace("model config is missing required key 'n_features'", message)
    r = cli("diagnose", "-o", fmt, "--no-color", stdin=log.encode())
    assert r.code == 1
    shown = cli("diagnose", "-o", fmt, "--no-color", "--no-redact", stdin=log.encode())
    assert "bad config xxx" in r.out and "bad config xxx" in shown.out  # the summary quotes the message
    assert "Zq8vK2mN4pR7" not in r.out


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        # Found by the structure fuzzer: a name=value match ran across the line end, took the next
        # line's key for its value, and hid the secret after it.
        (
            'serviceAccountToken:\n    "auth": "Zq9PlantedS3cretValue"',
            'serviceAccountToken:\n    "auth": "<redacted>"',
        ),
        # A name that is not a secret's (`tokenizer`) refused its match, and the secret inside the
        # refused value was never looked at.
        ("tokenizer: password=hunter2x", "tokenizer: password=<redacted>"),
        ("sourpwts:\n      DB_PASS:   Zq9PlantedS3cretValue", "sourpwts:\n      DB_PASS:   <redacted>"),
    ],
)
def test_a_refused_name_does_not_hide_the_secret_after_it(text, kept):
    from diagnoser.redact import redact

    assert redact(text) == kept
