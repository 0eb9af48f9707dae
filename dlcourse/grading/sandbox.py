"""Run a submission's code in a separate process, one cell at a time, and its functions on inputs we send.

:class:`Sandbox` is the grader's side of one submission. Its process is forked by a ``multiprocessing`` fork server
that has imported torch and the questions once (a submission starts in milliseconds), then isolates itself
(:mod:`dlcourse.grading.worker`): with ``isolation="sandbox"`` it joins a bubblewrap sandbox of its own
(:mod:`dlcourse.grading.isolation`); with ``"process"`` it only gets a session, a temporary directory and limits.

Replies are read as raw bytes, checked against the reply key (:mod:`dlcourse.grading.wire`), and loaded with
``torch.load(weights_only=True)`` or ``json`` only, never an arbitrary pickle from the child. Every request has a
time limit; :meth:`Sandbox.close` kills the child and everything it started. Scoring happens in the grader's process;
nothing the child does can change the reference or the verdict.
"""
from __future__ import annotations

import contextlib
import io
import multiprocessing
import os
import secrets
import shutil
import signal
import sys
import tempfile
import threading
from typing import Sequence

from . import isolation, wire

__all__ = ["Sandbox", "SandboxTimeout", "SandboxCrash", "encode_cases", "choose_isolation", "MODES"]

MAX_REPLY = 64 * 2**20  # bytes: a reply larger than this counts as a crash
MODES = ("auto", "sandbox", "process")


class SandboxTimeout(Exception):
    """The child did not answer within the time limit."""


class SandboxCrash(Exception):
    """The child died (or sent something unreadable); the message says how."""


def choose_isolation(mode: str = "auto") -> tuple[str, str]:
    """``(isolation, line)``: the isolation that ``mode`` gives here (``"sandbox"`` or ``"process"``) and one line
    that says so. ``mode="sandbox"`` raises ``RuntimeError`` with the reason where no sandbox can run."""
    if mode not in MODES:
        raise ValueError(f"isolation is one of {', '.join(MODES)}, got {mode!r}")
    reason = isolation.unavailable() if mode != "process" else "--isolation process was chosen"
    if reason is None:
        return "sandbox", (f"isolation: sandbox (bubblewrap {isolation.bwrap()}): each submission sees a read-only "
                           "system, an empty private folder, no network, no other submission")
    if mode == "sandbox":
        raise RuntimeError(f"--isolation sandbox: no sandbox can run here: {reason}")
    return "process", (f"isolation: process only ({reason}). WARNING: submissions run with your rights: they can "
                       "read other submissions and your files, use the network and change files you can change; "
                       "grade untrusted work where a sandbox runs (Linux with user namespaces)")


_START_LOCK = threading.Lock()


@contextlib.contextmanager
def _main_hidden():
    """Hide the caller's ``__main__`` while a child starts: multiprocessing would otherwise re-run the caller's
    script (or fail on ``python -``) in every child."""
    main = sys.modules.get("__main__")
    saved = {k: main.__dict__[k] for k in ("__file__", "__spec__") if main is not None and k in main.__dict__}
    try:
        for k in saved:
            if k == "__spec__":
                main.__spec__ = None
            else:
                del main.__dict__[k]
        yield
    finally:
        main.__dict__.update(saved) if main is not None else None


def visible_folders() -> list[str]:
    """Folders a sandbox keeps visible (read-only) even inside a hidden one: the package and Python's own."""
    import dlcourse

    keep = [os.path.dirname(os.path.abspath(dlcourse.__file__)), sys.prefix, sys.base_prefix, sys.exec_prefix]
    keep += [p for p in sys.path if p and os.path.isdir(p)]
    return keep


class Sandbox:
    """A child process that runs one submission. Use as a context manager; every request has a time limit.

    Args:
        timeout: seconds allowed per request (a cell, a question's cases).
        memory_mb: memory limit of the child (``RLIMIT_AS`` above what it uses at the start).
        questions: ids of the questions it may be asked to run (their bans are set up before any cell runs).
        isolation: ``"sandbox"`` (a bubblewrap sandbox) or ``"process"`` (see :func:`choose_isolation`).
        hide: folders the submission must not see in a sandbox (the submissions, the output, $HOME, the cwd).
    """

    def __init__(self, timeout: float = 30.0, memory_mb: int = 2048, questions: Sequence[str] = (),
                 isolation: str = "process", hide: Sequence[str] = (), startup_timeout: float = 120.0):
        self.timeout = timeout
        self.jail = self.workdir = None
        self.proc = self.conn = None
        self.key, self.seq = secrets.token_bytes(32), 0
        try:
            if isolation == "sandbox":
                from .isolation import Jail

                self.jail = Jail(hide=hide, keep=visible_folders())
            else:
                self.workdir = tempfile.mkdtemp(prefix="dlcourse-grading-")
            self._start(memory_mb, startup_timeout, list(questions))
        except BaseException:
            self.close()
            raise

    def _start(self, memory_mb: int, startup_timeout: float, questions: list[str]) -> None:
        from .worker import child_main

        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["dlcourse.grading._preload"])
        self.conn, child_conn = ctx.Pipe(duplex=True)
        jail_pid = self.jail.pid if self.jail is not None else None
        self.proc = ctx.Process(target=child_main, args=(child_conn, int(memory_mb), jail_pid, self.workdir),
                                daemon=True)
        with _START_LOCK, _main_hidden():
            self.proc.start()
        child_conn.close()
        try:
            self.conn.send_bytes(wire.pack({"questions": questions}, self.key))
        except OSError:
            raise self._crash() from None
        self._receive(startup_timeout)  # the child says when it is ready

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Kill the child and everything it started, and remove its working directory."""
        if self.jail is not None:
            self.jail.close()  # its PID namespace ends: the kernel kills every process in it
        if self.proc is not None:
            for kill in (lambda: os.killpg(self.proc.pid, signal.SIGKILL), self.proc.kill):
                try:
                    kill()
                except (ProcessLookupError, PermissionError, OSError, ValueError):
                    pass
            self.proc.join(5)
        if self.conn is not None:
            self.conn.close()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _crash(self) -> SandboxCrash:
        self.proc.join(5)
        code = self.proc.exitcode
        if code is None:
            return SandboxCrash("sent an unreadable reply")
        return SandboxCrash(f"killed by signal {-code}" if code < 0 else f"exit code {code}")

    def _receive(self, timeout: float) -> tuple[dict, bytes]:
        if not self.conn.poll(max(timeout, 0)):
            raise SandboxTimeout()
        try:
            message = self.conn.recv_bytes(MAX_REPLY)
        except (EOFError, OSError):
            raise self._crash() from None
        try:
            return wire.unpack(wire.unseal(self.key, self.seq, message))
        except ValueError:  # forged by the submission, or garbled
            raise SandboxCrash("sent an unreadable reply") from None

    def _request(self, header: dict, payload: bytes = b"", timeout: float | None = None) -> tuple[dict, bytes]:
        self.seq += 1
        try:
            self.conn.send_bytes(wire.pack(header, payload))
        except OSError:
            raise self._crash() from None
        return self._receive(self.timeout if timeout is None else timeout)

    def run_cell(self, source: str, index: int, watch: list[str],
                 timeout: float | None = None) -> tuple[str | None, list[str]]:
        """Execute one cell; return ``(error or None, names in watch that the cell (re)defined as callables)``."""
        reply, _ = self._request({"op": "cell", "source": source, "index": index, "watch": watch}, timeout=timeout)
        changed = [n for n in reply.get("changed", []) if n in watch]
        error = reply.get("error")
        return (str(error)[:200] if error else None), changed

    def run_question(self, qid: str, cases: bytes, timeout: float | None = None) -> list[dict]:
        """Outcomes of the submission's function of question ``qid`` on the serialised ``cases``."""
        import torch

        reply, payload = self._request({"op": "run", "qid": qid}, cases, timeout=timeout)
        if reply.get("forbidden"):
            return [{"status": "forbidden", "message": str(reply["forbidden"])[:200]}]
        if reply.get("error"):
            return [{"status": "error", "message": str(reply["error"])[:300]}]
        try:
            outcomes = torch.load(io.BytesIO(payload), weights_only=True)
        except Exception:
            raise SandboxCrash("sent an unreadable reply") from None
        if not isinstance(outcomes, list) or not all(isinstance(o, dict) for o in outcomes):
            raise SandboxCrash("sent an unreadable reply")
        return outcomes


def encode_cases(cases) -> bytes:
    """Serialise the (data-only) arguments of ``cases`` for the child."""
    import torch

    buf = io.BytesIO()
    torch.save([[list(c.args), dict(c.kwargs)] for c in cases], buf)
    return buf.getvalue()

