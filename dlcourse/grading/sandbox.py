"""Run a submission's code in a separate process, one cell at a time, and its functions on inputs we send.

The child process (:func:`child_main`) starts in an empty temporary directory, in its own session, with a memory
limit (``RLIMIT_AS``) and its output thrown away. It answers two requests over a private pipe:

* ``cell``: execute one code cell (IPython magics become no-ops); reply which graded functions it (re)defined;
* ``run``: call the submission's function of a question on the cases sent (plain data), under the question's ban
  list, and reply with the outcomes serialised by ``torch.save``.

The parent (:class:`Sandbox`) reads replies as raw bytes, loaded with ``torch.load(weights_only=True)`` or ``json``
only, never an arbitrary pickle from the child; it enforces the time limit of every request and kills the child's
whole process group at the end.
Scoring happens in the parent; nothing the child does can change the reference or the verdict.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import multiprocessing
import sys
import tempfile
import threading
from multiprocessing.connection import Connection
from typing import Any

__all__ = ["Sandbox", "SandboxTimeout", "SandboxCrash"]

MAX_REPLY = 64 * 2**20  # bytes: a reply larger than this counts as a crash


class SandboxTimeout(Exception):
    """The child did not answer within the time limit."""


class SandboxCrash(Exception):
    """The child died (or sent something unreadable); the message says how."""


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


class Sandbox:
    """A child process that runs one submission. Use as a context manager; every request has a time limit.

    Children are forked by a ``multiprocessing`` fork server that has imported torch and the questions once, so a
    submission starts in milliseconds; each child then moves to an empty temporary directory, its own session (so
    that everything it starts can be killed) and a memory limit.
    """

    def __init__(self, timeout: float = 30.0, memory_mb: int = 2048, startup_timeout: float = 120.0):
        self.timeout = timeout
        self.workdir = tempfile.mkdtemp(prefix="dlcourse-grading-")
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["dlcourse.grading._preload"])
        self.conn, child_conn = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(target=child_main, args=(child_conn, int(memory_mb), self.workdir), daemon=True)
        with _START_LOCK, _main_hidden():
            self.proc.start()
        child_conn.close()
        self._receive(startup_timeout)  # the child says when it is ready

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Kill the child and everything it started, and remove its working directory."""
        for kill in (lambda: os.killpg(self.proc.pid, signal.SIGKILL), self.proc.kill):
            try:
                kill()
            except (ProcessLookupError, PermissionError, OSError):
                pass
        self.proc.join(5)
        self.conn.close()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def _crash(self) -> SandboxCrash:
        self.proc.join(5)
        code = self.proc.exitcode
        if code is None:
            return SandboxCrash("sent an unreadable reply")
        return SandboxCrash(f"killed by signal {-code}" if code < 0 else f"exit code {code}")

    def _receive(self, timeout: float) -> tuple[dict, bytes]:
        if not self.conn.poll(timeout):
            raise SandboxTimeout()
        try:
            message = self.conn.recv_bytes(MAX_REPLY)
            header, _, payload = message.partition(b"\n")
            reply = json.loads(header)
            if not isinstance(reply, dict):
                raise ValueError
        except (EOFError, OSError, ValueError):
            raise self._crash() from None
        return reply, payload

    def _request(self, header: dict, payload: bytes = b"") -> tuple[dict, bytes]:
        try:
            self.conn.send_bytes(json.dumps(header).encode() + b"\n" + payload)
        except OSError:
            raise self._crash() from None
        return self._receive(self.timeout)

    def run_cell(self, source: str, index: int, watch: list[str]) -> tuple[str | None, list[str]]:
        """Execute one cell; return ``(error or None, names in watch that the cell (re)defined as callables)``."""
        reply, _ = self._request({"op": "cell", "source": source, "index": index, "watch": watch})
        changed = [n for n in reply.get("changed", []) if n in watch]
        error = reply.get("error")
        return (str(error)[:200] if error else None), changed

    def run_question(self, qid: str, cases: bytes) -> list[dict]:
        """Outcomes of the submission's function of question ``qid`` on the serialised ``cases``."""
        import torch

        reply, payload = self._request({"op": "run", "qid": qid}, cases)
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


class _Shell:
    """Stands in for ``get_ipython()``: magics and shell commands do nothing while grading."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


def child_main(conn: Connection, memory_mb: int, workdir: str) -> None:  # pragma: no cover - runs in the child
    """Entry point of the child process (see the module docstring)."""
    import resource

    os.setsid()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.chdir(workdir)
    os.environ.update({"HOME": workdir, "TMPDIR": workdir, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1",
                       "DLCOURSE_DEVICE": "cpu"})
    tempfile.tempdir = workdir

    import dlcourse.grading._preload  # noqa: F401 (already imported by the fork server)
    import torch
    from IPython.core.inputtransformer2 import TransformerManager

    import dlcourse.grading as grading
    from dlcourse.grading import registry, student, verdict

    # Everything the loop needs is bound here, before any submitted code runs.
    get_question, Case, run_cases = registry.get_question, registry.Case, verdict.run_cases
    transform, dumps, loads = TransformerManager().transform_cell, json.dumps, json.loads
    save, load, BytesIO, send, recv = torch.save, torch.load, io.BytesIO, conn.send_bytes, conn.recv_bytes

    namespace: dict = {"__name__": "__main__", "__builtins__": __builtins__, "get_ipython": _Shell,
                       "display": lambda *a, **k: None}

    def quiet_check(qid, candidate, seed=0):
        """The grader checks later, from outside. A function checked under another name is graded too."""
        name = str(qid).partition(".")[2]
        if name.isidentifier() and callable(candidate) and not callable(namespace.get(name)):
            namespace[name] = candidate
        return verdict.Result(str(qid), False, 0, 0, "", "graded by the grader")

    grading.check = student.check = quiet_check
    grading.score = student.score = lambda *qids: (0, 0)
    try:
        with open("/proc/self/status") as f:
            vm = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
        limit = vm + memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (OSError, ValueError, StopIteration):
        pass  # no /proc or no RLIMIT_AS (macOS): time limits still apply

    seen: dict = {}
    send(b'{"ready": true}\n')
    while True:
        try:
            header, _, payload = recv().partition(b"\n")
        except (EOFError, OSError):
            return
        request = loads(header)
        if request.get("op") == "cell":
            reply: dict = {}
            try:
                code = compile(transform(request["source"]), f"<cell {request['index']}>", "exec")
                exec(code, namespace)
            except BaseException as err:  # SystemExit and KeyboardInterrupt included
                reply["error"] = f"{type(err).__name__}: {err}"[:200]
            changed = []
            for name in request.get("watch", []):
                obj = namespace.get(name)
                if callable(obj) and seen.get(name) is not obj:
                    seen[name] = obj
                    changed.append(name)
            reply["changed"] = changed
            send(dumps(reply).encode() + b"\n")
        elif request.get("op") == "run":
            try:
                question = get_question(request["qid"])
                cases = [Case(*a, **k) for a, k in load(BytesIO(payload), weights_only=True)]
                outcomes = run_cases(question, namespace[question.function_name], cases)
                buf = BytesIO()
                save(outcomes, buf)
                send(b"{}\n" + buf.getvalue())
            except BaseException as err:
                send(dumps({"error": f"{type(err).__name__}: {err}"[:300]}).encode() + b"\n")
