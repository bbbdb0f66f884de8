"""What a process's exit code says about how it ended, in words a user reads in a summary.

Shells and container runtimes report a process killed by signal N as exit code 128 + N (POSIX
shells, Docker, Kubernetes' `Exit Code`); 126 and 127 are the shell's "found but not executable" and
"not found" (POSIX, "Exit Status for Commands"); the rest are the program's own choice, of which a
few are conventions worth naming (Go exits 2 after an unrecovered panic; gunicorn's master exits 3
when a worker fails to boot). Explain templates use it as `{capture:exit}` (detect/templates.py).
"""

from __future__ import annotations

# Signals that end a serving process, with what usually sends them (signal(7)).
SIGNAL_MEANINGS: dict[int, tuple[str, str]] = {
    1: ("SIGHUP", "hang-up"),
    2: ("SIGINT", "interrupted"),
    4: ("SIGILL", "illegal instruction: the binary uses a CPU instruction this machine lacks"),
    6: (
        "SIGABRT",
        "aborted: the program called abort(), e.g. a failed assertion or an uncaught C++ exception",
    ),
    7: ("SIGBUS", "bus error"),
    8: ("SIGFPE", "arithmetic error"),
    9: ("SIGKILL", "killed: the out-of-memory killer, a memory limit or kill -9"),
    11: ("SIGSEGV", "segmentation fault: a crash in native code"),
    13: ("SIGPIPE", "broken pipe"),
    15: ("SIGTERM", "terminated: stopped by the platform or an operator"),
}
CODE_MEANINGS: dict[int, str] = {
    0: "success",
    1: "a general error reported by the program",
    2: "a usage error, or a Go program's unrecovered panic",
    3: "gunicorn: a worker failed to boot",
    126: "the command was found but could not be executed (permission or wrong format)",
    127: "the command was not found",
    255: "exit(-1) or an error the program reported as 255",
}


def describe_exit(code: int | str) -> str:
    """Return `code` with what it means, e.g. "139 (SIGSEGV, segmentation fault: a crash in native code)"."""
    try:
        value = int(code)
    except (TypeError, ValueError):
        return str(code)
    # 128 + N from a shell or a container runtime; -N from Python's multiprocessing / subprocess, which
    # report a child killed by signal N as a negative exit code.
    signal = value - 128 if value > 128 else -value if value < 0 else 0
    if signal in SIGNAL_MEANINGS:
        name, meaning = SIGNAL_MEANINGS[signal]
        return f"{value} ({name}, {meaning})"
    if value in CODE_MEANINGS:
        return f"{value} ({CODE_MEANINGS[value]})"
    return str(value)
