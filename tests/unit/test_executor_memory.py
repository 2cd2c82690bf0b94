"""The local executor's memory limit (tools/localstack_host memory.py) on real processes."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from fileflow_localstack_host.memory import MemoryWatch, supported

pytestmark = pytest.mark.skipif(not supported(), reason="needs /proc (Linux)")

# Touches every page (bytes * n writes them), then holds the memory until killed or told to go.
HOLD = "import sys, time; data = b'x' * ({mb} * 1024 * 1024); print('ready', flush=True); time.sleep(30)"
SPAWNS_CHILD = "import subprocess, sys; subprocess.run([sys.executable, '-c', {child!r}]); "


@contextmanager
def process(code: str) -> Iterator[subprocess.Popen[str]]:
    child = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        yield child
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=10)


def test_a_process_past_its_limit_is_killed_and_reported():
    # Given an environment of 64 MB whose handler holds 200 MB
    with process(HOLD.format(mb=200)) as child:
        watch = MemoryWatch(child.pid, 64).start()
        # When the watch samples it
        code = child.wait(timeout=20)
    # Then its process group was killed, and the watch says why
    assert code == -signal.SIGKILL
    assert watch.exceeded
    assert watch.peak_mb() > 64


def test_a_subprocess_counts_towards_the_limit():
    # Given a handler that starts a process holding 200 MB (as ffmpeg would), in a 96 MB environment
    with process(SPAWNS_CHILD.format(child=HOLD.format(mb=200))) as parent:
        watch = MemoryWatch(parent.pid, 96).start()
        code = parent.wait(timeout=20)
    # Then the whole group is killed
    assert code == -signal.SIGKILL
    assert watch.exceeded


def test_a_process_within_its_limit_runs_on():
    # Given an environment of 512 MB holding 50 MB
    with process(HOLD.format(mb=50)) as child:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        watch = MemoryWatch(child.pid, 512)
        # When it is sampled
        exceeded = watch.check()
        # Then it is left alone, and its peak is reported
        assert not exceeded
        assert child.poll() is None
        assert 50 <= watch.peak_mb() < 512


def test_a_paused_watch_leaves_the_environment_alone_until_resumed():
    # Given an environment of 64 MB holding 200 MB, whose watch is paused (between invocations)
    with process(HOLD.format(mb=200)) as child:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        watch = MemoryWatch(child.pid, 64)
        watch.pause()
        watch.start()
        # When several sampling periods pass, then it is not sampled, nor killed
        with pytest.raises(subprocess.TimeoutExpired):
            child.wait(timeout=0.5)
        assert not watch.exceeded
        # When the watch resumes (an invocation starts), then the group is killed
        watch.resume()
        assert child.wait(timeout=20) == -signal.SIGKILL
        assert watch.exceeded
