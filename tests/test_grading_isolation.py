"""The sandbox against hostile submissions (tests/grading_fixtures/hostile/): each attack is graded exactly right and
leaves nothing behind: no process, no changed file outside the sandbox, no connection to a listener of ours."""
from __future__ import annotations

import csv
import hashlib
import os
import pathlib
import socket
import threading
import time

import jupytext
import pytest

import dlcourse
from dlcourse.grading import isolation
from dlcourse.grading.__main__ import main

HOSTILE = pathlib.Path(__file__).parent / "grading_fixtures" / "hostile"
QUESTIONS = ["expressivity.dense_params", "training.momentum_step"]
MARKER = "dlcourse-lingering"

pytestmark = pytest.mark.skipif(isolation.unavailable() is not None,
                                reason=f"no sandbox can run here: {isolation.unavailable()}")

# submission: (dense_params, momentum_step, error)
EXPECTED = {
    "classmate.ipynb": (1, 1, ""),
    "copy_answer.ipynb": (1, 0, "training.momentum_step: not implemented"),
    "forge_reply.ipynb": (1, 0, "crashed in cell 2 (sent an unreadable reply); training.momentum_step: not reached"),
    "lingering.ipynb": (1, 1, ""),
    "network.ipynb": (1, 1, ""),
    "patch_guard.ipynb": (0, 0, "expressivity.dense_params: forbidden call; training.momentum_step: forbidden call"),
    "replay.ipynb": (1, 0, "training.momentum_step: wrong answer"),
    "thread_oracle.ipynb": (0, 0, "expressivity.dense_params: error; training.momentum_step: error"),
    "write_package.ipynb": (1, 1, ""),
}


def _tree(folder: pathlib.Path) -> dict[str, str]:
    """Path -> sha256 of every file under ``folder`` (caches excluded)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


def _processes_with(marker: str) -> list[int]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if marker.encode() in pathlib.Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(int(pid))
        except OSError:
            pass
    return found


class _Listener:
    """A TCP and a UDP socket on one port of 127.0.0.1, recording whatever reaches them."""

    def __init__(self):
        self.tcp = socket.create_server(("127.0.0.1", 0))
        self.port = self.tcp.getsockname()[1]
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", self.port))
        self.received: list[str] = []
        self.stop = False
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self):
        import select

        while not self.stop:
            ready, _, _ = select.select([self.tcp, self.udp], [], [], 0.1)
            for s in ready:
                if s is self.tcp:
                    conn, addr = s.accept()
                    self.received.append(f"tcp from {addr}")
                    conn.close()
                else:
                    data, addr = s.recvfrom(4096)
                    self.received.append(f"udp {data!r} from {addr}")

    def close(self):
        self.stop = True
        self.thread.join(2)
        self.tcp.close()
        self.udp.close()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """Grade every hostile fixture once in sandboxes (2 jobs), with a listener open and the package watched."""
    root = tmp_path_factory.mktemp("hostile")
    subs, out = root / "submissions", root / "results" / "grades.csv"
    subs.mkdir()
    listener = _Listener()
    try:
        for path in sorted(HOSTILE.glob("*.py")):
            if path.name != "conftest.py":
                text = path.read_text().replace("__PORT__", str(listener.port)).replace("__OUT__", str(out))
                jupytext.write(jupytext.reads(text, fmt="py:percent"), subs / f"{path.stem}.ipynb")
        package = pathlib.Path(dlcourse.__file__).parent
        before = {"package": _tree(package), "submissions": _tree(subs)}
        code = main([str(subs), "--out", str(out), "--seed", "7", "--timeout", "10", "--jobs", "2",
                     "--isolation", "sandbox", "--questions", *QUESTIONS])
        written = out.read_text()
        time.sleep(3)  # the lingering scripts would write 2 s after they start
        after = {"package": _tree(package), "submissions": _tree(subs)}
    finally:
        listener.close()
    return {"code": code, "out": out, "written": written, "before": before, "after": after,
            "received": list(listener.received), "lingering": _processes_with(MARKER)}


def test_every_hostile_fixture_has_an_expected_row():
    assert {f"{p.stem}.ipynb" for p in HOSTILE.glob("*.py") if p.name != "conftest.py"} == set(EXPECTED)


def test_hostile_rows_are_exactly_right(hostile):
    assert hostile["code"] == 0
    with open(hostile["out"], newline="") as f:
        rows = list(csv.reader(f))
    want = [[name, str(d), str(m), str(d + m), "2", err] for name, (d, m, err) in sorted(EXPECTED.items())]
    assert rows[1:] == want


def test_nothing_reaches_the_network(hostile):
    assert hostile["received"] == []


def test_package_and_submissions_are_unchanged(hostile):
    assert hostile["after"] == hostile["before"]
    assert not (pathlib.Path(dlcourse.__file__).parent / "grading" / "questions" / "zz_backdoor.py").exists()


def test_no_process_survives_and_the_grades_stay(hostile):
    assert hostile["lingering"] == []
    assert hostile["out"].read_text() == hostile["written"] and "1000" not in hostile["written"]
    assert sorted(p.name for p in hostile["out"].parent.iterdir()) == ["grades.csv"]


def test_a_sandboxed_process_sees_little(tmp_path):
    """Inside a sandbox: an empty folder of its own, nothing of the hidden folders (here the working folder, which
    holds these tests) nor of /tmp, the package readable but not writable, loopback as the only network interface,
    no capability."""
    (tmp_path / "answers.txt").write_text("42")
    package = os.path.dirname(dlcourse.__file__)
    with isolation.Jail(hide=[os.getcwd()], keep=[package]) as jail:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child reports through the pipe
            try:
                isolation.enter(jail.pid)
                inner = os.fork()
                if inner == 0:
                    try:
                        facts = [isolation.confined(), os.listdir(".") == [], not HOSTILE.exists(),
                                 not tmp_path.exists(), os.path.exists(os.path.join(package, "grading", "grade.py")),
                                 not os.access(package, os.W_OK), [n for _, n in socket.if_nameindex()] == ["lo"]]
                        os.write(w, "".join("1" if f else "0" for f in facts).encode())
                    finally:
                        os._exit(0)
                os.waitpid(inner, 0)
            finally:
                os._exit(0)
        os.close(w)
        os.waitpid(pid, 0)
        facts = os.read(r, 100).decode()
        os.close(r)
    assert facts == "1111111", facts


def test_isolation_line_and_process_warning(tmp_path, capsys):
    nb = tmp_path / "one.ipynb"
    jupytext.write(jupytext.reads((HOSTILE / "classmate.py").read_text(), fmt="py:percent"), nb)
    assert main([str(nb), "--out", str(tmp_path / "g.csv"), "--seed", "1", "--isolation", "process"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("isolation: process only") and "WARNING" in first
    assert main([str(nb), "--out", str(tmp_path / "g.csv"), "--seed", "1"]) == 0
    assert capsys.readouterr().out.splitlines()[0].startswith("isolation: sandbox (bubblewrap")


def test_sandbox_refused_where_none_runs(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(isolation._PROBE, "reason", "a kernel without user namespaces")
    code = main([str(tmp_path / "x.ipynb"), "--out", str(tmp_path / "g.csv"), "--isolation", "sandbox"])
    err = capsys.readouterr().err
    assert code == 2 and "no sandbox can run here: a kernel without user namespaces" in err
    assert not (tmp_path / "g.csv").exists()
