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
    """Two changes to how gradio stores files, before it serves any. It names the folders of uploads and outputs by a
    hash of their content seeded once per installation, so the same photo always landed at the same path: seed it
    anew for each run. And it wrote output pictures in place, so two sessions showing the same picture at once
    wrote one file together and a download could be cut short: write them atomically."""
    from gradio import processing_utils
    processing_utils.hash_seed = secrets.token_bytes(32)

    def save_pil_to_cache(image, cache_dir, name='image', format='webp'):
        data = processing_utils.encode_pil_to_bytes(image, format)
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
