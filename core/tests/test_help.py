"""Every command's --help: each option says what it does, and no help repeats the command list."""

from __future__ import annotations

import argparse
import contextlib
import io

import pytest

from action_core.cli.main import COMMANDS, main

# Commands that take a mode before their options (not argparse subparsers).
MODES = {"bench": ["data", "train", "infer"]}


class _Recorder:
    """Collects, while --help runs, every argparse option created without a help text, and the sub-commands
    of parsers with subparsers (walked in turn)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.missing: list[str] = []
        self.subcommands: list[str] = []
        real_add = argparse.ArgumentParser.add_argument
        real_subparsers = argparse.ArgumentParser.add_subparsers
        recorder = self

        def add_argument(parser: argparse.ArgumentParser, *args, **kwargs):
            action = real_add(parser, *args, **kwargs)
            if action.help is None and not isinstance(action, argparse._HelpAction):
                recorder.missing.append(f"{parser.prog}: {'/'.join(action.option_strings) or action.dest}")
            return action

        def add_subparsers(parser: argparse.ArgumentParser, *args, **kwargs):
            action = real_subparsers(parser, *args, **kwargs)
            real_add_parser = action.add_parser

            def add_parser(name: str, **kw):
                recorder.subcommands.append(name)
                return real_add_parser(name, **kw)

            action.add_parser = add_parser  # type: ignore[method-assign]
            return action

        monkeypatch.setattr(argparse.ArgumentParser, "add_argument", add_argument)
        monkeypatch.setattr(argparse.ArgumentParser, "add_subparsers", add_subparsers)


def _help(*argv: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        main([*argv, "--help"])
    return out.getvalue()


def _commands() -> list[str]:
    from action_core.plugins.host import get_host

    host = get_host()
    host.load_all()
    return [*COMMANDS, *host.registry.names("command")]


def test_every_option_of_every_command_has_a_help_text(monkeypatch):
    recorder = _Recorder(monkeypatch)
    walked = []
    for command in _commands():
        recorder.subcommands.clear()
        _help(command)
        walked.append(command)
        for sub in [*list(recorder.subcommands), *MODES.get(command, [])]:
            _help(command, sub)
            walked.append(f"{command} {sub}")
    assert len(walked) >= len(COMMANDS)
    assert recorder.missing == [], "options without a help text:\n" + "\n".join(sorted(set(recorder.missing)))


def test_top_level_help_lists_each_command_once():
    text = _help()
    for command in COMMANDS:
        assert text.count(f"\n  {command} ") + text.count(f"\n  {command}\n") == 1, command
    assert "positional arguments" not in text or "one of:" not in text


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_no_command_help_repeats_the_command_list(command):
    text = _help(command)
    others = [c for c in COMMANDS if c != command and f"\n  {c} " in text]
    assert len(others) < 3, f"{command} --help lists other commands: {others}"
