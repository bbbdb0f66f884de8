"""`docker compose logs` / `docker-compose up` prefixes: `web-1  | msg`, `web_1     | msg`.

docker-compose 1.x (compose/cli/log_printer.py) prints `name.ljust(width) + ' |' + ' ' + line`,
the name being the container name without the project (`web_1`), coloured as a whole with
`color_func(prefix + ' |')`. Compose v2 (cmd/formatter/logs.go) prints
`fmt.Sprintf("%-<width>s | ", name)` coloured as a whole, then the line; the name is the container
name (`web-1`, or `app-web-1` in early v2). Width is the longest name + 1 (v2) or + 3 (v1), so a
prefix always has at least one space of padding before `|`.

To stay strict (`a | b` and table rows are not prefixes), the name must end in the replica index
compose gives every container (`_1`, `-1`), be wrapped in an ANSI colour code, or be a lower-case
container name that is not a log level padded by 3+ spaces: a service with `container_name:` set
(common in self-hosted stacks: `grafana     | ...`, `grafana exited with code 1`) has no index, and its
padding, to the width of the longest name, is what a shell pipe (`web | grep`) or a two-column table
(`name  | value`) does not have. (The longest name of a v2 paste, padded by one space, stays unread.)

Docker Desktop's log view, copied with timestamps on, puts the local time first:
`2023-02-06 10:17:05 app-web-1  | msg`; the time is read (as UTC: the view prints no zone).
"""

from __future__ import annotations

import re

from diagnoser.parse.base import Rec, ymd_hms

# optional Docker Desktop time, optional colour (ESC may be lost in a paste: `[36m`), name, padding, `|`,
# optional colour reset
PREFIX = re.compile(
    r"(?:(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) )?"
    r"(?:(\x1b?\[[0-9;]*m))?([A-Za-z0-9][\w.\-]*?)( +)\|(?:\x1b?\[0?m)?(?: |$)(?:\x1b?\[0?m)?"
)
_INDEX = re.compile(r"[\w.\-]*[-_]\d+")
_CONTAINER_NAME = re.compile(r"[a-z][a-z0-9_.\-]*")
_LEVELS = frozenset({"trace", "debug", "info", "notice", "warn", "warning", "error", "critical", "fatal"})


def deframe(text: str, rec: Rec) -> str | None:
    """Strip a compose service prefix into `rec` and return the inner line; None when `text` has none.

    Callers check first that `" |"` occurs near the start of the line (cheap).
    """
    m = PREFIX.match(text)
    if m is None:
        return None
    name = m[3]
    if (
        m[2] is None
        and _INDEX.fullmatch(name) is None
        and (len(m[4]) < 3 or _CONTAINER_NAME.fullmatch(name) is None or name in _LEVELS)
    ):
        return None
    if m[1] is not None:
        rec.timestamp = ymd_hms(m[1])
    rec.format = "compose"
    rec.fields["service"] = name
    rec.key = name
    return text[m.end() :]
