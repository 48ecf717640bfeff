"""The walkthrough (docs/walkthrough.md), run top to bottom with bash against `python -m devstack`
on free ports.

The page is the specification here: each command's trailing comment (`# 200 at once,
"degraded": [...]`) and each JSON example under a block of commands is checked against
what the command really printed, so the text cannot drift from the stack it describes.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from devstack.stack import REPO_ROOT
from devstack.topology import DEFAULT_PORTS, MODULES
from tests.supervisor import Supervisor

pytestmark = pytest.mark.integration

WALKTHROUGH = REPO_ROOT / "docs" / "walkthrough.md"
TRAILING_COMMENT = re.compile(r"(.*?)(?:\s+#\s+(.*))?", re.DOTALL)
# The walkthrough's `api` helper ends its output with "200 in 0.021s".
TRAILER = re.compile(r"^(\d{3}) in ([\d.]+)s$")
# What the test's `step` shell function prints after each command: number, exit status, time.
STEP_FUNCTION = """step() { printf '\\n@@step %d %d %s@@\\n' "$1" "$2" "$EPOCHREALTIME"; }"""
MARKER = re.compile(r"\n?@@step (\d+) (\d+) ([\d.]+)@@\n")
# "At once" on two busy shared cores, against budgets of seconds.
AT_ONCE_S = 2.0


@dataclass(frozen=True)
class Command:
    text: str
    claim: str  # its trailing comment: the documented result
    example: str | None = None  # the JSON block that documents its output

    @property
    def is_request(self) -> bool:
        return self.text.startswith(("api ", "curl "))


@dataclass(frozen=True)
class Step:
    command: Command
    exit_status: int
    output: str
    elapsed_s: float


def walkthrough_section() -> str:
    return WALKTHROUGH.read_text()


def fenced_blocks(section: str) -> list[tuple[str, str]]:
    return re.findall(r"^```(\w*)\n(.*?)^```$", section, flags=re.MULTILINE | re.DOTALL)


def logical_lines(body: str) -> Iterator[str]:
    """Lines joined across trailing backslashes, blank ones skipped."""
    pending = ""
    for line in body.splitlines():
        pending += line
        if line.endswith("\\"):
            pending += "\n"
            continue
        if pending.strip():
            yield pending
        pending = ""


def readme_commands(section: str) -> list[Command]:
    """The sh blocks' commands in order; each JSON block after an sh block documents the
    next of that block's requests that have no comment of their own."""
    found: list[Command] = []
    undocumented: list[int] = []
    for lang, body in fenced_blocks(section):
        if lang == "json" and undocumented:
            index = undocumented.pop(0)
            found[index] = Command(found[index].text, found[index].claim, body)
        elif lang == "sh":
            undocumented = []
            for line in logical_lines(body):
                split = TRAILING_COMMENT.fullmatch(line)
                assert split is not None  # the pattern matches any text
                text, claim = split.groups()
                found.append(Command(text.strip(), (claim or "").strip()))
                if found[-1].is_request and not found[-1].claim:
                    undocumented.append(len(found) - 1)
    return found


@pytest.fixture(scope="module")
def supervisor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Supervisor]:
    running = Supervisor(tmp_path_factory.mktemp("walkthrough"))
    try:
        yield running
    finally:
        running.stop()


def normalised(line: str) -> str:
    """A banner line with its paths and numbers blanked, to compare with the walkthrough's copy."""
    line = re.sub(r"(?<=CA=)\S+|\S+ca\.pem", "<ca>", line)
    line = re.sub(r"(?<=\S) +", " ", line)  # columns as wide as the ports' digits
    return re.sub(r"\d+", "<n>", line).rstrip()


def run_in_bash(variables: str, commands: list[Command]) -> list[Step]:
    """One bash for all, so that variables and functions carry from command to command."""
    script = [STEP_FUNCTION, variables, "step 0 0"]
    for number, command in enumerate(commands, start=1):
        script += [command.text, f'step {number} "$?"']
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()} | {"LC_ALL": "C"}
    done = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    # [before, number, status, time, output, number, status, time, output, ...]
    parts = MARKER.split(done.stdout)
    statuses, times, outputs = parts[2::4], [float(t) for t in parts[3::4]], parts[4::4]
    assert len(times) == len(commands) + 1, done.stdout + done.stderr
    return [
        Step(command, int(statuses[i + 1]), outputs[i].strip("\n"), times[i + 1] - times[i])
        for i, command in enumerate(commands)
    ]


def every_key(value: object) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {key for item in value.values() for key in every_key(item)}
    if isinstance(value, list):
        return {key for item in value for key in every_key(item)}
    return set()


def check_request(step: Step) -> int:
    """Assert every documented result of one request; return how many there were."""
    claim = step.command.claim
    where = f"walkthrough: {step.command.text}  # {claim}\nprinted: {step.output}"
    lines = step.output.splitlines()
    trailer = TRAILER.match(lines[-1]) if lines else None
    body = json.loads("\n".join(lines[:-1] if trailer else lines))
    documented = f"{claim} {step.command.example or ''}"
    checked = 0

    if status := re.search(r"\b([1-5]\d\d)\b", claim):
        assert (int(trailer[1]) if trailer else body["status"]) == int(status[1]), where
        checked += 1
    if "problem" in claim:
        assert {"status", "title", "detail", "request_id"} <= body.keys(), where
        checked += 1
    if degraded := re.search(r'"degraded": (\[[^\]]*\])', documented):
        assert body["degraded"] == json.loads(degraded[1]), where
        checked += 1
    for circuit, state in re.findall(r'"(circuit:\w+)": "(\w+)"', documented):
        assert body["info"][circuit] == state, where
        checked += 1
    if "at once" in claim:
        assert step.elapsed_s < AT_ONCE_S, f"took {step.elapsed_s:.2f}s\n{where}"
        checked += 1
    if budget := re.search(r"after the (\d+) s budget", claim):
        took = step.elapsed_s
        assert int(budget[1]) <= took < int(budget[1]) + AT_ONCE_S, f"took {took:.2f}s\n{where}"
        checked += 1
    if step.command.example is not None:
        check_example(step.command.example, body, where)
        checked += 1
    return checked


def check_example(example: str, body: dict[str, object], where: str) -> None:
    """A whole example must be the real body but for its request id; one shortened
    with `…` may name only fields the real body has."""
    if "…" in example:
        named = set(re.findall(r'"(\w+)":', example))
        assert named <= every_key(body), f"{named - every_key(body)} not in the body\n{where}"
        return
    expected = json.loads(example)
    assert isinstance(expected, dict)
    assert body.keys() == expected.keys(), where
    assert {k: v for k, v in body.items() if k != "request_id"} == {
        k: v for k, v in expected.items() if k != "request_id"
    }, where
    assert re.fullmatch(r"[0-9a-f]{32}", str(body["request_id"])), where


def test_walkthrough_shows_the_real_banner(supervisor: Supervisor) -> None:
    banner = [normalised(line) for line in supervisor.wait_up()]
    example = next(body for lang, body in fenced_blocks(walkthrough_section()) if lang == "")

    shown = [normalised(line) for line in example.splitlines() if line.strip() != "…"]

    missing = [line for line in shown if line not in banner]
    assert not missing, "\n".join(["walkthrough lines not in the banner:", *missing, "", *banner])
    assert [line for line in banner if line in shown] == shown, "in another order"


def test_walkthrough_holds_top_to_bottom(supervisor: Supervisor) -> None:
    banner = supervisor.wait_up()
    children = {module: pid for pid, module in supervisor.children().items()}
    # The pids the banner prints are this stack's own processes, so that the freeze
    # example stops nothing else on the machine.
    for name in DEFAULT_PORTS:
        row = next(line for line in banner if line.split()[:1] == [name])
        assert row.split()[-1] == str(children[MODULES[name]]), row
    variables = next(line.strip() for line in banner if line.strip().startswith("CA="))
    assert f"ORDERS_PID={children['services.orders']}" in variables.split()
    commands = readme_commands(walkthrough_section())
    assert [c.text for c in commands if c.text.startswith("kill ")] == [
        'kill -STOP "$ORDERS_PID"',
        'kill -CONT "$ORDERS_PID"',
    ], "the freeze example must name the banner's pid"

    try:
        steps = run_in_bash(variables, commands)
    finally:
        os.kill(children["services.orders"], signal.SIGCONT)  # whatever happened midway

    for step in steps:
        assert step.exit_status == 0, f"{step.command.text} exited {step.exit_status}"
        if step.command.is_request:
            assert check_request(step), f"the walkthrough says nothing of: {step.command.text}"
    # "orders is not called": while its circuit was open, the BFF answered without it.
    metrics = httpx.get(f"http://127.0.0.1:{supervisor.ports['bff_web']}/metrics", timeout=5)
    refused = re.search(
        r'frontdoor_bff_upstream_calls_total\{outcome="circuit_open",upstream="orders"\} (\S+)',
        metrics.text,
    )
    assert refused is not None and float(refused[1]) >= 3, metrics.text
    assert supervisor.popen.poll() is None, "the stack stopped midway"
