"""What the web page's process does to stay well under load, apart from the page itself: gradio's file store made
safe (a seed of its own for the hashes that name upload folders, output pictures written atomically), glibc's
malloc arenas capped, and freed memory given back once the page is idle (BENCHMARKS.md, "The web page")."""
import contextlib
import ctypes
import secrets
import threading
import time
from pathlib import Path

from checkpoints import atomic_path


def harden_gradio():
    """Two changes to how gradio (6.31) stores files, made before it serves any; gradio has no public setting for
    either (GRADIO_TEMP_DIR, which app.serve sets, only moves the folder). tests/test_app.py pins both.

    - gradio names the folder of each upload and output by sha256(processing_utils.hash_seed + its content), and
      reads that seed once from gradio/hash_seed.txt, written at an installation's first run and kept: the same
      photo landed at the same path in every run (and in every copy of an image built with that file). Here the
      run draws a seed of its own.
    - processing_utils.save_pil_to_cache, which stores every picture a component shows, writes the bytes in place
      (Path.write_bytes; its save_file_to_cache, for files, already writes a copy and renames it): two sessions
      showing the same picture at once wrote one file together and a download could be cut short. Here it writes
      atomically (checkpoints.atomic_path), with gradio's parameters, so every caller's module lookup finds it."""
    from gradio import processing_utils
    processing_utils.hash_seed = secrets.token_bytes(32)

    def save_pil_to_cache(img, cache_dir, name='image', format='webp'):
        data = processing_utils.encode_pil_to_bytes(img, format)
        path = Path(cache_dir) / processing_utils.hash_bytes(data) / f'{name}.{format}'
        with atomic_path(path) as tmp:
            Path(tmp).write_bytes(data)
        return str(path.resolve())
    processing_utils.save_pil_to_cache = save_pil_to_cache


def glibc():
    """The C library when it is glibc (its malloc tuning calls), else None."""
    try:
        libc = ctypes.CDLL('libc.so.6')
        return libc if hasattr(libc, 'mallopt') and hasattr(libc, 'malloc_trim') else None
    except OSError:
        return None


def limit_malloc_arenas(count=2):
    """Cap glibc's malloc arenas. glibc gives threads their own arenas and keeps freed memory in each; with gradio's
    worker threads running torch, resident memory crept up by about 10 MiB every 100 requests (BENCHMARKS.md,
    "The web page"). With two arenas it stays flat. A no-op where the C library is not glibc."""
    libc = glibc()
    if libc:
        libc.mallopt(-8, count)  # -8: M_ARENA_MAX


class IdleMemoryTrim:
    """Gives the memory that requests freed back to the system once the page has been idle for `idle_s` seconds.
    glibc keeps freed buffers for reuse, so after a burst of slider moves the page's resident memory sat 50-100 MiB
    above what it uses, by chance; trimming after every request instead slows a slider move from 32 to 55 ms."""

    def __init__(self, idle_s=1.0, trim=None):
        libc = glibc()
        self.trim = trim or (libc.malloc_trim if libc else None)
        self.idle_s, self.busy, self.last_done, self.trimmed = idle_s, 0, time.monotonic(), True
        self.lock = threading.Lock()

    @contextlib.contextmanager
    def serving(self):
        """Around each request: no trim while one runs."""
        with self.lock:
            self.busy += 1
        try:
            yield
        finally:
            with self.lock:
                self.busy, self.last_done, self.trimmed = self.busy - 1, time.monotonic(), False

    def trim_if_idle(self):
        with self.lock:
            due = not self.busy and not self.trimmed and time.monotonic() - self.last_done >= self.idle_s
            self.trimmed |= due
        if due and self.trim:
            self.trim(0)
        return due

    def start(self):
        def loop():
            while True:
                time.sleep(self.idle_s / 4)
                self.trim_if_idle()
        threading.Thread(target=loop, name='idle-memory-trim', daemon=True).start()
        return self
