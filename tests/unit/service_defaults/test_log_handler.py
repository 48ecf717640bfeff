"""The log handler: lines in batches, in order; a warning at once; nothing lost on a clean stop."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from service_defaults.log_handler import BatchingStreamHandler

NEVER_S = 3600.0  # a timer that does not fire while a test runs


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    """A logger of its own at INFO, whose records reach only the handlers a test adds."""
    alone = logging.getLogger("frontdoor.test.batches")
    alone.propagate = False
    alone.setLevel(logging.INFO)
    yield alone
    for handler in list(alone.handlers):
        alone.removeHandler(handler)
        handler.close()


def attach(
    logger: logging.Logger, *, interval_s: float, max_pending: int = 64 * 1024
) -> tuple[BatchingStreamHandler, io.StringIO]:
    out = io.StringIO()
    handler = BatchingStreamHandler(out, interval_s=interval_s, max_pending=max_pending)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger.addHandler(handler)
    return handler, out


def wait_for_lines(out: io.StringIO, count: int, timeout_s: float = 5.0) -> list[str]:
    deadline = time.monotonic() + timeout_s
    while len(lines := out.getvalue().splitlines()) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return lines


def test_info_lines_wait_for_the_next_batch(logger: logging.Logger) -> None:
    _, out = attach(logger, interval_s=NEVER_S)

    logger.info("one")
    logger.info("two")

    assert out.getvalue() == ""


def test_the_timer_writes_waiting_lines_in_order(logger: logging.Logger) -> None:
    _, out = attach(logger, interval_s=0.02)

    for n in range(3):
        logger.info("line %d", n)

    assert wait_for_lines(out, 3) == ["INFO line 0", "INFO line 1", "INFO line 2"]


def test_a_warning_is_written_at_once_after_the_lines_before_it(logger: logging.Logger) -> None:
    _, out = attach(logger, interval_s=NEVER_S)

    logger.info("request one")
    logger.info("request two")
    logger.error("the crash")

    assert out.getvalue().splitlines() == [
        "INFO request one",
        "INFO request two",
        "ERROR the crash",
    ]


def test_lines_past_the_size_limit_are_written_without_waiting(logger: logging.Logger) -> None:
    _, out = attach(logger, interval_s=NEVER_S, max_pending=100)

    for n in range(4):
        logger.info("a line of forty characters, give or take %d", n)

    # 3 lines pass the 100 characters; the 4th waits for the next batch.
    assert out.getvalue().splitlines() == [
        f"INFO a line of forty characters, give or take {n}" for n in range(3)
    ]


def test_closing_writes_what_waits(logger: logging.Logger) -> None:
    handler, out = attach(logger, interval_s=NEVER_S)
    logger.info("the last request")

    handler.close()

    assert out.getvalue() == "INFO the last request\n"


def test_lines_from_many_threads_come_out_whole_and_each_threads_in_order(
    logger: logging.Logger,
) -> None:
    handler, out = attach(logger, interval_s=0.001, max_pending=4096)

    def write(name: str) -> None:
        for n in range(500):
            logger.info("%s %d", name, n)

    threads = [threading.Thread(target=write, args=(f"t{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    handler.flush()

    lines = out.getvalue().splitlines()
    assert len(lines) == 2000
    for i in range(4):
        assert [line for line in lines if line.startswith(f"INFO t{i} ")] == [
            f"INFO t{i} {n}" for n in range(500)
        ]


class BrokenStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.broken = True

    def write(self, text: str) -> int:
        if self.broken:
            raise OSError("the pipe is gone")
        return super().write(text)


def test_lines_a_failing_stream_refused_are_reported_and_not_retried(
    logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    out = BrokenStream()
    handler = BatchingStreamHandler(out, interval_s=NEVER_S)
    logger.addHandler(handler)

    logger.warning("lost")
    out.broken = False
    logger.warning("kept")

    assert "--- Logging error ---" in capsys.readouterr().err
    assert out.getvalue() == "kept\n"


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )


CONFIGURED = """
import logging
from service_defaults.serve import configure_logging
configure_logging("sample", {"FRONTDOOR_LOG_FORMAT": "text"})
"""
LAST_LINE = """
logging.getLogger("frontdoor.test").info("the last request")
"""


def test_a_clean_exit_writes_every_line() -> None:
    result = run_python(CONFIGURED + LAST_LINE)

    assert result.returncode == 0
    assert result.stderr.endswith("INFO frontdoor.test: the last request\n"), result.stderr


def test_a_sigterm_that_uvicorn_stopped_on_writes_every_line_then_ends_the_process() -> None:
    # uvicorn stops on SIGTERM, then raises it again under the handler it found.
    # The line is logged just before: no batch is due in between.
    result = run_python(
        CONFIGURED
        + """
import signal, uvicorn
server = uvicorn.Server(uvicorn.Config(app=None))
"""
        + LAST_LINE
        + """
with server.capture_signals():
    signal.raise_signal(signal.SIGTERM)
"""
    )

    assert result.returncode == -15
    assert result.stderr.endswith("INFO frontdoor.test: the last request\n"), result.stderr
