"""Progress of long calls: tqdm bars when tqdm is installed, else plain lines on stderr."""
import sys
import time

_UNITS = {"forward": "prompt", "tokenize": "doc", "induction": "batch", "eigenvalues": "head",
          "frac_copy_argmax": "head"}


class Progress:
    """update(stage, done, total): one bar per stage. Never raises from a missing tqdm."""

    def __init__(self, file=None):
        self.file = file or sys.stderr
        self.stage = None
        self.bar = None
        self.last = 0.0
        try:
            from tqdm.auto import tqdm
        except ImportError:
            tqdm = None
        self.tqdm = tqdm

    def update(self, stage, done, total):
        if stage != self.stage:
            self.close()
            self.stage = stage
            self.t0 = time.monotonic()
            if self.tqdm is not None:
                self.bar = self.tqdm(total=total, desc=stage, unit=_UNITS.get(stage, "it"), file=self.file,
                                     leave=True, dynamic_ncols=True)
        if self.bar is not None:
            self.bar.total = total
            self.bar.update(done - self.bar.n)
            return
        now = time.monotonic()
        if done < total and now - self.last < 2.0:
            return
        self.last = now
        el = now - self.t0
        eta = el / done * (total - done) if done else 0.0
        print(f"{stage}: {done}/{total}, {el:.1f}s elapsed, ETA {eta:.1f}s", file=self.file, flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        self.stage = None
