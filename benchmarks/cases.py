"""What is measured: feature configurations users run, at batch sizes they train with."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Case:
    """One feature configuration. ``family``: stft (magnitude), mel, logmel (dB), mfcc, transforms (torchaudio's
    MelSpectrogram through nnaudio_fast.transforms: HTK mels, no norm), cqt, icqt (the inverse of a
    complex CQT: a waveform), griffinlim (``n_iter`` fast Griffin-Lim iterations from a magnitude STFT). ``band``: if set, the input noise is band-limited to ``(low, high)`` Hz (an inverse
    can only recover what the transform sees)."""

    family: str
    config: str  # a short human label: "speech", "whisper", "music", ...
    sr: int
    n_fft: int
    hop: int
    batch: int
    seconds: float
    n_mels: int = 128
    n_mfcc: int = 20
    band: tuple | None = None
    n_iter: int = 32

    @property
    def metric(self) -> str:
        """The accuracy column: ``rel_err`` (features against float64) or ``snr_db`` (a reconstruction against
        the input waveform)."""
        return "snr_db" if self.family == "icqt" else "rel_err"

    @property
    def label(self) -> str:
        if self.family in ("cqt", "icqt"):
            return f"{self.family} {self.config} sr{self.sr} hop{self.hop} B{self.batch}x{self.seconds:g}s"
        if self.family == "griffinlim":
            return (f"griffinlim {self.config} sr{self.sr} n{self.n_fft}/{self.hop} {self.n_iter} it. "
                    f"B{self.batch}x{self.seconds:g}s")
        extra = f" m{self.n_mels}" if self.family in ("mel", "logmel", "mfcc", "transforms") else ""
        return f"{self.family} {self.config} sr{self.sr} n{self.n_fft}/{self.hop}{extra} B{self.batch}x{self.seconds:g}s"

    @property
    def samples(self) -> int:
        return int(self.sr * self.seconds)


def _grid(batches, seconds):
    base = [
        Case("stft", "speech", 16000, 512, 128, 1, 1.0),
        Case("mel", "speech", 16000, 400, 100, 1, 1.0, n_mels=80),
        Case("mel", "speech", 16000, 512, 128, 1, 1.0, n_mels=80),
        Case("logmel", "whisper", 16000, 400, 160, 1, 1.0, n_mels=80),
        Case("logmel", "whisper-v3", 16000, 400, 160, 1, 1.0, n_mels=128),
        Case("mfcc", "speech", 16000, 512, 128, 1, 1.0, n_mels=40, n_mfcc=13),
        Case("mel", "music", 22050, 1024, 256, 1, 1.0),
        Case("mel", "music", 22050, 2048, 512, 1, 1.0),
        Case("stft", "music", 44100, 4096, 1024, 1, 1.0),
        Case("cqt", "music", 22050, 0, 512, 1, 1.0),
        Case("icqt", "noise 60-1500 Hz", 22050, 0, 128, 1, 1.0, band=(60.0, 1500.0)),
        Case("icqt", "noise 60-1500 Hz", 22050, 0, 512, 1, 1.0, band=(60.0, 1500.0)),
        Case("griffinlim", "music", 22050, 1024, 256, 1, 1.0),
        Case("transforms", "torchaudio MelSpectrogram", 16000, 400, 160, 1, 1.0, n_mels=80),
    ]
    import nnaudio_fast as nf

    if not hasattr(nf, "CQT2010v2"):  # a build without the CQT family
        base = [c for c in base if c.family != "cqt"]
    if not hasattr(nf, "iCQT"):
        base = [c for c in base if c.family != "icqt"]
    return [replace(c, batch=b, seconds=seconds) for c in base for b in batches]


def full_cases(device: str) -> list[Case]:
    """The full grid: batch 1/16/64 × 10 s on a GPU; batch 1/16 × 10 s on a CPU (64 adds little but minutes)."""
    return _grid((1, 16, 64) if device == "cuda" else (1, 16), 10.0)


def quick_cases(device: str) -> list[Case]:
    """One small configuration per family, to check that every case and peer runs (< 1 minute on 2 CPU cores)."""
    picked, seen = [], set()
    for c in _grid((2,), 1.0):
        if c.family not in seen:
            seen.add(c.family)
            picked.append(c)
    return picked
