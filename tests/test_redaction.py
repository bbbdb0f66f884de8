"""Redaction: no secret of the test set leaves in JSON, text or Markdown output, nor in a saved bundle.

The secrets are fake but have the real shapes. Each is planted in lines that become evidence of a
diagnosis and in lines shown as suspicious; `--no-redact` shows that the planted secret does reach
the output when redaction is off, so every check below is a real one.
"""

from __future__ import annotations

import json

import pytest

from diagnoser.errors import ConfigError
from diagnoser.redact import make_redactor, redact

JWT = (
    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6Ijc4YjRjZjIzNjU2ZGMzOTUzNjRmMWI2YzAyOTA3NjkxZjJjZGZmZTEifQ"
    ".eyJpc3MiOiJodHRwczovL3N0cy53aW5kb3dzLm5ldC8iLCJzdWIiOiIxMjM0NTY3ODkwIiwiZXhwIjoxNzA5NjMyODAwfQ"
    ".POstGetfAytaZS82wHcjoTyoqhMyxXiWdR7Nn7A29DNSl0EiXLdwJ6xC6AfgZWF1bOsS_TuYI3OG85AmiExREkrS6tDfTQ2B3WXlrr-wp5AokiRbz3"
)
# (name, secret value, how it appears in a log line)
SECRETS = [
    ("jwt", JWT, f"token validation failed for {JWT}"),
    (
        "bearer",
        "ya29.a0AfH6SMBx3kQ9Zp7FAKEtokenVALUE1234567890abcdef",
        "Authorization: Bearer ya29.a0AfH6SMBx3kQ9Zp7FAKEtokenVALUE1234567890abcdef",
    ),
    (
        "basic",
        "bWxhZG1pbjpTdXAzci1TM2NyZXQ=",
        "headers={'Authorization': 'Basic bWxhZG1pbjpTdXAzci1TM2NyZXQ='}",
    ),
    (
        "storage-connection-string",
        "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6QUJDREVGRw==",
        "AZURE_STORAGE_CONNECTION_STRING is DefaultEndpointsProtocol=https;AccountName=mlstore01;"
        "AccountKey=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6QUJDREVGRw==;EndpointSuffix=core.windows.net",
    ),
    (
        "servicebus-connection-string",
        "q1w2e3r4t5y6u7i8o9p0aSdFgHjKlZxCvBnM1234567=",
        "Endpoint=sb://ml-events.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;"
        "SharedAccessKey=q1w2e3r4t5y6u7i8o9p0aSdFgHjKlZxCvBnM1234567=",
    ),
    ("aws-access-key-id", "AKIAIOSFODNN7EXAMPLE", "using credentials AKIAIOSFODNN7EXAMPLE from env"),
    (
        "aws-secret-key",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ),
    (
        "sas-url",
        "3Zx%2Bq9Lk0PfAkEsIgNaTuRe%2FvAlUe1234567890abc%3D",
        "GET https://mlstore01.blob.core.windows.net/models/model.pkl?sv=2022-11-02&ss=b&srt=o&sp=r"
        "&se=2024-12-31T00:00:00Z&spr=https&sig=3Zx%2Bq9Lk0PfAkEsIgNaTuRe%2FvAlUe1234567890abc%3D failed",
    ),
    (
        "s3-presigned-url",
        "fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024",
        "download https://models.s3.amazonaws.com/m.tar.gz?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20240305%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20240305T100000Z"
        "&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024",
    ),
    (
        "gcs-signed-url",
        "8a9f3c2b1d0e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e",
        "https://storage.googleapis.com/b/o?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Signature=8a9f3c2b1d0e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e",
    ),
    (
        "postgres-url",
        "Sup3r-S3cret-P4ss",
        "sqlalchemy: could not connect to postgresql://mladmin:Sup3r-S3cret-P4ss@db.internal:5432/features",
    ),
    (
        "redis-url",
        "redisPassw0rdXYZ",
        "redis.exceptions.ConnectionError: redis://:redisPassw0rdXYZ@cache:6379/0",
    ),
    ("password-assignment", "Tr0ub4dor&3", "config: DB_PASSWORD=Tr0ub4dor&3 DB_HOST=db"),
    (
        "password-json",
        "correct horse battery",
        'settings {"user": "ml", "password": "correct horse battery"}',
    ),
    (
        "api-key-header",
        "0123456789abcdef0123456789abcdef",
        "Ocp-Apim-Subscription-Key: 0123456789abcdef0123456789abcdef",
    ),
    (
        "aml-endpoint-key",
        "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCd",
        '"primaryKey": "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCd"',
    ),
    (
        "github-token",
        "ghp_R4nd0mT0k3nV4lu3F0rT3st1ngPurp0s3s12",
        "git clone https://ghp_R4nd0mT0k3nV4lu3F0rT3st1ngPurp0s3s12@github.com/org/repo",
    ),
    (
        "openai-key",
        "sk-proj-abcDEF123456ghiJKL789012mnoPQR345678",
        "openai.AuthenticationError: Incorrect API key provided: "
        "sk-proj-abcDEF123456ghiJKL789012mnoPQR345678",
    ),
    ("cli-flag", "hunter2hunter2", "exec: azmlinfsrv --client-secret hunter2hunter2 --port 5001"),
]
IDS = [s[0] for s in SECRETS]

PEM_BODY = [
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj",
    "MZeBd0kQWvhm1aBvP6ARpvaQ5Ks2zDzVVpN7BM3PzyW4H1mHkWkp5J3oC5pOcR0t",
    "kDt5J9U7qQbfeQWTzm0sL7AyHpTqG6Ck1zU7yT0sGv4hbXnY1Nd3ZmLpE6c2VrA8",
]
PEM_LINES = ["-----BEGIN PRIVATE KEY-----", *PEM_BODY, "-----END PRIVATE KEY-----"]


def oom_log(context: str) -> bytes:
    """Return a gunicorn OOM loop whose kill lines carry `context`."""
    return (
        "[2024-03-05 10:00:00 +0000] [1] [INFO] Booting worker with pid: 7\n"
        "[2024-03-05 10:00:09 +0000] [1] [ERROR] Worker (pid:7) was sent SIGKILL! Perhaps out of memory?"
        f" {context}\n"
        "[2024-03-05 10:00:09 +0000] [1] [INFO] Booting worker with pid: 12\n"
        "[2024-03-05 10:00:19 +0000] [1] [ERROR] Worker (pid:12) was sent SIGKILL! Perhaps out of memory?"
        f" {context}\n"
        "[2024-03-05 10:00:19 +0000] [1] [INFO] Booting worker with pid: 15\n"
    ).encode()


def suspicious_log(context: str) -> bytes:
    """Return a log no rule explains with an error line carrying `context`."""
    return (
        f"2024-03-05 10:00:00,000 INFO app - starting\n2024-03-05 10:00:01,000 ERROR app - {context}\n"
    ).encode()


@pytest.mark.parametrize("fmt", ["json", "text", "markdown"])
@pytest.mark.parametrize(("name", "secret", "line"), SECRETS, ids=IDS)
def test_secret_never_in_evidence(cli, fmt, name, secret, line):
    redacted = cli("diagnose", "-o", fmt, "--no-color", stdin=oom_log(line))
    assert redacted.code == 1, redacted.err
    assert secret[:12] not in redacted.out  # not even the head of it (text output cuts long lines)
    assert "<redacted" in redacted.out or fmt == "text"  # text quotes only the first 200 characters
    shown = cli("diagnose", "--json", "--no-redact", stdin=oom_log(line))
    assert secret in shown.out  # the planted secret does reach the output when redaction is off


# Lines that are themselves a diagnosis (quoted as evidence, not as suspicious lines): the secret stays
# out all the same.
DIAGNOSED = {"postgres-url": "dependency_unreachable"}


@pytest.mark.parametrize("fmt", ["json", "text", "markdown"])
@pytest.mark.parametrize(("name", "secret", "line"), SECRETS, ids=IDS)
def test_secret_never_in_suspicious_lines(cli, fmt, name, secret, line):
    redacted = cli("diagnose", "-o", fmt, "--no-color", stdin=suspicious_log(line))
    assert redacted.code == (1 if name in DIAGNOSED else 0), redacted.err
    if name in DIAGNOSED:
        assert DIAGNOSED[name] in redacted.out
    assert secret[:12] not in redacted.out
    shown = cli("diagnose", "--json", "--no-redact", stdin=suspicious_log(line))
    assert secret in shown.out


def test_private_key_in_a_traceback_never_leaves(cli, tmp_path):
    log = (
        "2024-03-05 10:00:00,120 I [7] azmlinfsrv.user_script - Invoking user's init function\n"
        "Traceback (most recent call last):\n"
        '  File "/var/azureml-app/score.py", line 12, in init\n'
        "    key = load_key()\n"
        "ValueError: could not parse key " + "\\n".join(PEM_LINES) + "\n"
        "2024-03-05 10:00:01,000 ERROR app - bad key material follows\n" + "\n".join(PEM_LINES) + "\n"
    )
    bundle = tmp_path / "bundle"
    for fmt in ("json", "text", "markdown"):
        r = cli("diagnose", "-o", fmt, "--no-color", "--save-bundle", str(bundle), stdin=log.encode())
        assert r.code in (0, 1), r.err
        for body in PEM_BODY:
            assert body not in r.out
    saved = "".join(p.read_text() for p in bundle.iterdir())
    for body in PEM_BODY:
        assert body not in saved
    assert "<redacted-private-key>" in saved


def test_bundle_and_its_replay_hold_no_secret(cli, tmp_path):
    bundle = tmp_path / "bundle"
    log = b"".join(oom_log(line) for _, _, line in SECRETS) + b"".join(
        suspicious_log(line) for _, _, line in SECRETS
    )
    r = cli("diagnose", "--json", "--save-bundle", str(bundle), stdin=log)
    assert r.code == 1, r.err
    saved = "".join(p.read_text() for p in sorted(bundle.iterdir()))
    replay = cli("diagnose", "--json", str(bundle))
    assert replay.code == 1
    for _, secret, _ in SECRETS:
        assert secret not in saved
        assert secret not in r.out
        assert secret not in replay.out


def test_warnings_are_redacted(cli, tmp_path):
    bundle = tmp_path / "bundle"
    cli("diagnose", "--save-bundle", str(bundle), stdin=oom_log("x"))
    manifest = bundle / "diagnoser-bundle.json"
    data = json.loads(manifest.read_text())
    data["warnings"] = [f"kubernetes: GET failed: {SECRETS[1][2]}"]
    manifest.write_text(json.dumps(data))
    for fmt in ("json", "text", "markdown"):
        r = cli("diagnose", "-o", fmt, str(bundle))
        mask = r"\<redacted\>" if fmt == "markdown" else "<redacted>"  # Markdown shows it as text
        assert f"kubernetes: GET failed: Authorization: Bearer {mask}" in r.out
        assert SECRETS[1][1] not in r.out


def test_extra_patterns(cli):
    line = "order 1 for customer CUST-998877 card 4111-1111-1111-1111"
    r = cli(
        "diagnose",
        "--json",
        "--redact-pattern",
        r"CUST-\d+",
        "--redact-pattern",
        r"card (?P<secret>[\d-]{19})",
        stdin=suspicious_log(line),
    )
    text = r.json()["suspicious"][0]["text"]
    assert text.endswith("ERROR app - order 1 for customer <redacted> card <redacted>")


def test_bad_extra_patterns_are_usage_errors(cli):
    r = cli("diagnose", "--redact-pattern", "(a+)+$", stdin=b"x\n")
    assert r.code == 2
    assert r.err == (
        "error: --redact-pattern: regular expression '(a+)+$' nests unbounded quantifiers and can backtrack "
        "catastrophically; rewrite it without a repeated group of repeats\n"
    )
    r = cli("diagnose", "--redact-pattern", "x*", stdin=b"x\n")
    assert (r.code, r.err) == (
        2,
        "error: --redact-pattern: regular expression 'x*' matches the empty string"
        " (make it match the secret itself)\n",
    )
    r = cli("diagnose", "--redact-pattern", "(", stdin=b"x\n")
    assert r.code == 2 and r.err.startswith(
        "error: --redact-pattern: bad regular expression '(': missing ), unterminated subpattern"
    )
    with pytest.raises(ConfigError):
        make_redactor(["(?P<secret>"])


@pytest.mark.parametrize(
    "text",
    [
        "Booting worker with pid: 7",
        "max_tokens=1024 temperature=0.7",
        "Invalid token provided",
        "exit code 137, signal 9",
        'File "/var/azureml-app/score.py", line 12, in init',
        "GET /score?api-version=2023-10-01 HTTP/1.1 504",
        "sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945",
    ],
)
def test_ordinary_lines_are_left_alone(text):
    assert redact(text) == text


def test_parse_command_output_is_redacted_too(cli):
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
    r = cli("diagnoser", "parse", "-o", "json", stdin=f"Authorization: Bearer {token}\n".encode())
    assert r.code == 0
    assert token not in r.out and "<redacted" in r.out


def test_every_text_a_fix_step_took_from_the_logs_is_redacted():
    from diagnoser.model import (
        Action,
        Diagnosis,
        Evidence,
        FixStep,
        InputStats,
        Origin,
        Platform,
        Report,
        Severity,
    )
    from diagnoser.redact import redact_and_clip

    leak = "password=hunter2secret"
    step = FixStep(
        Action.FIX,
        f"code {leak}",
        Platform.GENERIC,
        f"at {leak}",
        f"because {leak}",
        "https://x",
        text=f"Fix {leak}",
        snippet=f"run {leak}",
        current=leak,
        suggested=leak,
    )
    d = Diagnosis(
        "init_exception",
        "t",
        Severity.HIGH,
        0.9,
        Origin.RULE,
        "r",
        leak,
        (Evidence("f", 1, leak, ()),),
        (step,),
    )
    out = redact_and_clip(Report((d,), InputStats(("f",), 1, 1, {})))
    fixed = out.diagnoses[0].fixes[0]
    for text in (
        fixed.knob,
        fixed.where,
        fixed.why,
        fixed.text,
        fixed.snippet,
        fixed.current,
        fixed.suggested,
    ):
        assert "hunter2secret" not in text and "<redacted>" in text
