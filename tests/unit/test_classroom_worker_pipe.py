"""The service's side of a worker (v6lab.classroom.pool.Worker): a worker
that takes too long or answers too much is stopped with an error that is
not a socket timeout (which the service takes for a client gone). Pure: a
pipe and a socketpair, no zygote."""

from __future__ import annotations

import os
import socket

import pytest

from v6lab.classroom import pool


def _worker() -> tuple[pool.Worker, int, socket.socket]:
    r, w = os.pipe()
    mine, theirs = socket.socketpair()
    return pool.Worker(mine, r), w, theirs


def test_a_worker_that_takes_too_long_is_a_worker_timeout() -> None:
    worker, w, theirs = _worker()
    try:
        with pytest.raises(pool.WorkerTimeout) as e:
            worker.read_answer(0.1, 1000)
        assert not isinstance(e.value, OSError)
        with pytest.raises(pool.WorkerTimeout):
            worker.wait(0.1)  # the zygote says nothing either
    finally:
        worker.close()
        os.close(w)
        theirs.close()


def test_an_answer_too_large_is_refused_not_cut() -> None:
    worker, w, theirs = _worker()
    try:
        os.write(w, b"x" * 5000)
        with pytest.raises(pool.WorkerFailed, match="more than 1000 bytes"):
            worker.read_answer(1.0, 1000)
    finally:
        worker.close()
        os.close(w)
        theirs.close()


def test_an_answer_is_read_to_its_end() -> None:
    worker, w, theirs = _worker()
    try:
        os.write(w, b'{"v": 2, "ok": true}\n')
        os.close(w)
        w = -1
        assert worker.read_answer(1.0, 1000) == b'{"v": 2, "ok": true}\n'
        theirs.sendall(b'{"pid": 1}\n{"exit": 3}\n')
        assert worker.wait(1.0) == 3 and worker.pid == 1
    finally:
        worker.close()
        if w >= 0:
            os.close(w)
        theirs.close()


def test_the_lazy_facades_list_their_names() -> None:
    import v6lab
    import v6lab.grading
    assert {"Lab", "Topo", "SpecError"} <= set(dir(v6lab))
    assert {"Grader", "Step", "checks", "Report"} <= set(dir(v6lab.grading))
    assert v6lab.grading.Grader.__name__ == "Grader"
