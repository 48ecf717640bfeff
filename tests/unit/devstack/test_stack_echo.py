"""`make run` shows the processes' JSON log lines to a person, and keeps them as written."""

from __future__ import annotations

import datetime
import json
import threading

import pytest

from devstack.stack import ManagedProcess, human_lines
from devstack.topology import ProcessSpec
from tests.unit.devstack.log_writer import LINES


def local_clock(stamp: str) -> str:
    moment = datetime.datetime.fromisoformat(stamp).astimezone()
    return f"{moment:%H:%M:%S}.{moment.microsecond // 1000:03d}"


def test_an_access_line_reads_as_method_path_status_and_duration() -> None:
    [shown] = human_lines(json.dumps(LINES[0]))

    clock = local_clock("2026-12-01T10:05:21.123Z")
    assert shown == f"{clock} INFO  GET /api/web/dashboard 200 12.3 ms  rid=rid-1"


def test_another_line_reads_as_level_logger_and_message_with_its_traceback_below() -> None:
    shown = human_lines(json.dumps(LINES[1]))

    clock = local_clock("2026-12-01T10:05:22.000Z")
    assert shown == [
        f"{clock} ERROR frontdoor.edge: upstream failed",
        "Traceback (most recent call last):",
        "  ValueError: bad",
    ]


@pytest.mark.parametrize("line", ["plain text", "{not json", "[1, 2]", '"a string"', ""])
def test_a_line_that_is_not_a_json_object_is_shown_as_it_is(line: str) -> None:
    assert human_lines(line) == [line]


def test_control_characters_from_a_log_never_reach_the_terminal() -> None:
    record = {"level": "WARNING", "logger": "x", "message": "\x1b[2Jcleared\r\nforged line"}

    [shown] = human_lines(json.dumps(record))

    assert "\x1b" not in shown
    assert "\r" not in shown
    assert "\n" not in shown
    assert shown.endswith("WARNING x: \\x1b[2Jcleared\\x0d\\x0aforged line")


@pytest.mark.parametrize("raw_logs", [False, True])
def test_the_echo_is_readable_and_the_kept_lines_are_raw(
    raw_logs: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = ProcessSpec("edge", "tests.unit.devstack.log_writer", {}, "http://unused/readyz")

    process = ManagedProcess(spec, echo=True, print_lock=threading.Lock(), raw_logs=raw_logs)
    process.popen.wait(10)
    process.stop()

    kept = list(process.lines)
    assert [json.loads(line) for line in kept[:2]] == LINES
    assert kept[2] == "a line that is not JSON"
    echoed = capsys.readouterr().out.splitlines()
    if raw_logs:
        assert echoed == [f"      edge | {line}" for line in kept]
    else:
        assert echoed[0].endswith("INFO  GET /api/web/dashboard 200 12.3 ms  rid=rid-1")
        assert echoed[2] == "      edge | Traceback (most recent call last):"
        assert echoed[-1] == "      edge | a line that is not JSON"
