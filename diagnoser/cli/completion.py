"""Shell completion scripts for `diagnose` (argparse) and `diagnoser` (typer).

    eval "$(diagnose --completion bash)"      # or zsh; fish: diagnose --completion fish | source
    eval "$(diagnoser completion bash)"

`diagnose`'s script is written from its parser, so it offers exactly the options the command has,
the values of its choice options, and files where a path goes. `diagnoser`'s script is typer's own,
which asks the command itself at each TAB.
"""

from __future__ import annotations

import argparse

SHELLS = ("bash", "zsh", "fish")
# Options whose value is a path: the shell offers files there.
_PATH_OPTIONS = frozenset({"--rules", "--journal", "--save-bundle"})


def _options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions if a.option_strings]


def _choices(action: argparse.Action) -> list[str]:
    """Return the values an option accepts, read from its metavar `{a,b,c}` (our enum options)."""
    metavar = action.metavar if isinstance(action.metavar, str) else ""
    if metavar.startswith("{") and metavar.endswith("}"):
        return metavar[1:-1].split(",")
    return [str(c) for c in action.choices] if action.choices else []


def _bash(parser: argparse.ArgumentParser, prog: str) -> str:
    import shlex  # here: `diagnose` imports this module for SHELLS on every run

    cases = []
    flags: list[str] = []
    for action in _options(parser):
        flags += action.option_strings
        if action.nargs == 0:
            continue
        pattern = "|".join(action.option_strings)
        if choices := _choices(action):
            words = shlex.quote(" ".join(choices))
            cases.append(f'    {pattern}) COMPREPLY=($(compgen -W {words} -- "$cur")); return;;')
        elif _PATH_OPTIONS & set(action.option_strings):
            cases.append(f'    {pattern}) COMPREPLY=($(compgen -f -- "$cur")); return;;')
        else:
            cases.append(f"    {pattern}) return;;  # a value of the user's own")
    func = "_" + prog.replace("-", "_")
    return "\n".join(
        [
            f'# bash completion for {prog}: eval "$({prog} --completion bash)"',
            f"{func}() {{",
            '  local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"',
            '  case "$prev" in',
            *cases,
            "  esac",
            '  if [[ "$cur" == -* ]]; then',
            f'    COMPREPLY=($(compgen -W {shlex.quote(" ".join(flags))} -- "$cur"))',
            "  else",
            '    COMPREPLY=($(compgen -f -- "$cur"))',
            "  fi",
            "}",
            f"complete -o filenames -F {func} {prog}",
            "",
        ]
    )


def _fish(parser: argparse.ArgumentParser, prog: str) -> str:
    import shlex

    lines = [f"# fish completion for {prog}: {prog} --completion fish | source", f"complete -c {prog} -F"]
    for action in _options(parser):
        parts = [f"complete -c {prog}"]
        for flag in action.option_strings:
            parts.append(f"-l {flag[2:]}" if flag.startswith("--") else f"-s {flag[1:]}")
        if action.nargs != 0:
            parts.append("-r")
            if choices := _choices(action):
                parts.append(f"-f -a {shlex.quote(' '.join(choices))}")
            elif not _PATH_OPTIONS & set(action.option_strings):
                parts.append("-f")
        if action.help and action.help != argparse.SUPPRESS:
            parts.append(f"-d {shlex.quote(action.help.split('. ')[0].rstrip('.'))}")
        lines.append(" ".join(parts))
    return "\n".join(lines) + "\n"


def diagnose_script(parser: argparse.ArgumentParser, shell: str) -> str:
    """Return the completion script of the `diagnose` parser for `shell` (bash, zsh or fish)."""
    prog = parser.prog
    if shell == "fish":
        return _fish(parser, prog)
    script = _bash(parser, prog)
    if shell == "zsh":  # zsh runs bash completion functions through bashcompinit
        return "autoload -U +X bashcompinit && bashcompinit\n" + script
    return script


def toolbox_script(prog: str, shell: str) -> str:
    """Return the completion script of the typer toolbox (`diagnoser`): typer's own, whose completion
    requests (`_DIAGNOSER_COMPLETE=complete_bash`) the command answers itself."""
    from typer.completion import get_completion_script

    var = f"_{prog.replace('-', '_').upper()}_COMPLETE"
    return str(get_completion_script(prog_name=prog, complete_var=var, shell=shell)).rstrip("\n") + "\n"
