"""Command line: ``nnaudio-fast demo | show FILE.wav | stream FILE.wav | bench | info`` (also ``python -m nnaudio_fast``)."""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import torch

KINDS = ("stft", "mel", "mfcc", "gammatone", "cqt")


#: ``show``'s defaults for ``--n-fft``, ``--hop`` and ``--n-mels`` (``--fmin`` and ``--n-bins`` depend on the kind).
DEFAULTS = dict(n_fft=2048, hop=256, n_mels=128)


def _layer(kind: str, sr: int, backend: str | None, exact_stream: bool = False, n_fft: int = 2048, hop: int = 256,
           fmin: float | None = None, n_bins: int | None = None, n_mels: int = 128):
    """The layer ``show``, ``demo`` and ``stream`` compute feature ``kind`` with (``exact_stream``: MFCC without
    its top_db clip, which a stream can only approximate)."""
    import nnaudio_fast as nf

    common = dict(backend=backend, verbose=False)
    if kind == "stft":
        return nf.STFT(n_fft=n_fft, hop_length=hop, sr=sr, output_format="Magnitude", **common)
    if kind == "mel":
        return nf.MelSpectrogram(sr=sr, n_fft=n_fft, hop_length=hop, n_mels=n_mels, fmin=fmin or 0.0, **common)
    if kind == "mfcc":
        return nf.MFCC(sr=sr, n_mfcc=20, n_fft=n_fft, hop_length=hop, n_mels=n_mels, fmin=fmin or 0.0, **common,
                       **({"top_db": None} if exact_stream else {}))
    if kind == "gammatone":
        return nf.Gammatonegram(sr=sr, n_fft=n_fft, hop_length=hop, n_bins=n_bins or 64, fmin=fmin or 0.0, **common)
    if kind == "cqt":
        return nf.CQT(sr=sr, hop_length=hop, fmin=fmin or 32.70, n_bins=n_bins or 84, bins_per_octave=12,
                      output_format="Magnitude", **common)
    raise ValueError(f"kind={kind!r} is not supported; use one of {KINDS}.")


def _row_frequencies(kind: str, layer, sr: int):
    """The centre frequency (Hz) of each output row, or None (MFCC coefficients)."""
    from nnaudio_fast import bases

    if kind == "stft":
        return np.linspace(0.0, sr / 2.0, layer.n_fft // 2 + 1)
    if kind == "mel":
        fb = layer.mel_basis.detach().numpy()
        return fb.argmax(axis=1) * sr / layer.n_fft
    if kind == "gammatone":
        return layer.gammatone_basis.detach().numpy().argmax(axis=1) * sr / layer.n_fft
    if kind == "cqt":
        return bases.cqt_frequencies(layer.n_bins, layer.fmin, layer.bins_per_octave)
    return None


def _feature(kind: str, x: torch.Tensor, sr: int, backend: str | None, **settings):
    """``(rows, frames)`` image of feature ``kind`` (dB except MFCC), its axis label and the rows' frequencies."""
    from nnaudio_fast.functional import power_to_db

    layer = _layer(kind, sr, backend, **settings)
    out = layer(x)
    if kind in ("stft", "cqt"):
        out = out**2
    img = out[0].numpy() if kind == "mfcc" else power_to_db(out, top_db=90.0)[0].numpy()
    label = {"stft": "frequency (Hz)", "mel": "mel band (Hz)", "mfcc": "MFCC", "gammatone": "gammatone band (Hz)",
             "cqt": "CQT bin (Hz)"}[kind]
    return img, label, _row_frequencies(kind, layer, sr)


def _plot(panels, sr: int, hop: int, title: str, out: str) -> None:
    """``panels``: ``(name, image, y label, row frequencies or None, colour-bar label)``."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SystemExit("writing a figure needs matplotlib: pip install 'nnaudio-fast[plot]'") from None
    fig, axes = plt.subplots(len(panels), 1, figsize=(10, 3.2 * len(panels)), squeeze=False)
    for ax, (name, img, ylabel, freqs, unit) in zip(axes[:, 0], panels):
        extent = (0.0, img.shape[1] * hop / sr, 0, img.shape[0])
        im = ax.imshow(img, origin="lower", aspect="auto", extent=extent, cmap="magma")
        if freqs is not None:  # rows labelled with their frequencies
            rows = np.linspace(0, img.shape[0] - 1, min(6, img.shape[0])).round().astype(int)
            ax.set_yticks(rows + 0.5)
            ax.set_yticklabels([f"{freqs[r]:.0f}" for r in rows])
        ax.set_title(name)
        ax.set_ylabel(ylabel)
        fig.colorbar(im, ax=ax, pad=0.01).set_label(unit)
    axes[-1, 0].set_xlabel("time (s)")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)


def _read_audio(path: str, channel: int | None = None) -> tuple[np.ndarray, int]:
    """``(mono float32 samples, rate)`` of an audio file (soundfile: WAV, FLAC, OGG, MP3; scipy for WAV without
    it): channel ``channel``, or every channel mixed down (said on stderr when there are several)."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path!r} is not a file; pass the path of an audio file (WAV, FLAC, OGG, MP3).")
    try:
        import soundfile

        try:
            y, sr = soundfile.read(path, dtype="float32", always_2d=True)
        except RuntimeError as exc:  # libsndfile cannot decode it
            raise ValueError(f"cannot read {path!r} as audio: {exc}") from None
    except ImportError:
        from scipy.io import wavfile

        try:
            sr, y = wavfile.read(path)
        except ValueError as exc:
            raise ValueError(f"cannot read {path!r} as a WAV file ({exc}); install soundfile for other formats.") \
                from None
        if y.dtype.kind == "i":
            y = y.astype(np.float32) / float(np.iinfo(y.dtype).max)
        elif y.dtype.kind == "u":
            y = (y.astype(np.float32) - 128.0) / 128.0
        y = y.reshape(y.shape[0], -1)
    if channel is not None:
        if not 0 <= channel < y.shape[1]:
            raise ValueError(f"--channel={channel} does not exist: {path!r} has {y.shape[1]} channel(s), 0 … "
                             f"{y.shape[1] - 1}.")
        return y[:, channel].astype(np.float32), int(sr)
    if y.shape[1] > 1:
        print(f"{path}: mixing {y.shape[1]} channels down to mono (--channel N picks one)", file=sys.stderr)
    return y.mean(axis=1).astype(np.float32), int(sr)


def cmd_demo(args) -> int:
    import nnaudio_fast as nf
    from nnaudio_fast.signals import demo_signal

    sr = 22050
    x = torch.from_numpy(demo_signal(sr))
    kinds = ["stft", "mel"] + (["cqt"] if hasattr(nf, "CQT") else ["gammatone"])
    panels = []
    for kind in kinds:
        img, ylabel, freqs = _feature(kind, x, sr, args.backend)
        panels.append((kind.upper(), img, ylabel, freqs, "dB"))
        print(f"{kind:>9}: {img.shape[0]} x {img.shape[1]}, range {img.min():.1f} .. {img.max():.1f} dB")
    _plot(panels, sr, 256, "nnaudio_fast demo: embedded test signal (chirp, vibrato tone, arpeggio, clicks)", args.output)
    print(f"wrote {args.output}")
    return 0


def cmd_show(args) -> int:
    y, sr = _read_audio(args.file, args.channel)
    settings = dict(n_fft=args.n_fft, hop=args.hop, fmin=args.fmin, n_bins=args.n_bins, n_mels=args.n_mels)
    img, ylabel, freqs = _feature(args.kind, torch.from_numpy(y), sr, args.backend, **settings)
    _plot([(args.kind.upper(), img, ylabel, freqs, "coefficient" if args.kind == "mfcc" else "dB")], sr, args.hop,
          args.file, args.output)
    print(f"wrote {args.output}")
    return 0


def cmd_stream(args) -> int:
    """Replay FILE in blocks of ``--block-ms`` through a stream of ``--kind`` (nnaudio_fast.streaming): time per
    block, real-time factor, latency; ``--check``: the frames equal the layer's output on the whole file."""
    import time

    from nnaudio_fast.streaming import BOUND_FLOAT32

    y, sr = _read_audio(args.file, args.channel)
    if args.block_ms <= 0:
        raise ValueError(f"--block-ms={args.block_ms} must be positive (e.g. 10).")
    block = max(1, round(sr * args.block_ms / 1000.0))
    layer = _layer(args.kind, sr, args.backend, exact_stream=True)
    stream = layer.streaming()
    x = torch.from_numpy(y)[None]
    outs, times = [], []
    with torch.inference_mode():
        for start in range(0, x.shape[-1], block):
            t0 = time.perf_counter()
            outs.append(stream(x[:, start: start + block]))
            times.append(time.perf_counter() - t0)
        outs.append(stream.flush())
        frames = torch.cat(outs, stream.time_axis)
    seconds = x.shape[-1] / sr
    compute = sum(times)
    print(f"{args.file}: {seconds:.2f} s at {sr} Hz, {len(times)} blocks of {block} samples ({block / sr * 1e3:.1f} ms), "
          f"{frames.shape[stream.time_axis]} frames of {args.kind}")
    print(f"  per block: median {np.median(times) * 1e3:.3f} ms, max {max(times) * 1e3:.3f} ms; "
          f"real-time factor {seconds / compute:.0f}x (audio seconds per compute second)")
    print(f"  latency: {stream.latency} samples ({stream.latency / sr * 1e3:.1f} ms) from a sample to the last frame "
          f"reading it, plus up to one block ({block / sr * 1e3:.1f} ms)")
    if args.check:
        with torch.inference_mode():
            want = layer(x)
        err = float((frames - want).norm() / want.norm())
        ok = frames.shape == want.shape and err <= BOUND_FLOAT32
        print(f"  check: {'equal' if ok else 'DIFFERENT'} to the offline call (relative error {err:.2e}, "
              f"bound {BOUND_FLOAT32:g})")
        return 0 if ok else 1
    return 0


def cmd_info(args) -> int:
    import nnaudio_fast as nf

    print(f"nnaudio_fast {nf.__version__}, torch {torch.__version__}")
    for name, status in nf.backends().items():
        print(f"  backend {name}: {status}")
    info = nf.build_info()
    ext = f"built ({info['compiler']})" if info["multirate_extension"] else f"not built: {info['reason']}"
    print(f"  C++ multirate extension: {ext}")
    return 0


def cmd_bench(argv) -> int:
    from nnaudio_fast.benchmarks.__main__ import main as bench_main

    return bench_main(argv)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:  # everything after it belongs to the benchmark suite's own parser
        return cmd_bench(argv[1:])
    parser = argparse.ArgumentParser(prog="nnaudio-fast", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("demo", help="spectrograms of the embedded test signal, written to a PNG")
    p.add_argument("-o", "--output", default="demo.png")
    p.add_argument("--backend", default=None)
    p.set_defaults(func=cmd_demo)
    p = sub.add_parser("show", help="a spectrogram of an audio file (WAV, FLAC, OGG, MP3), written to a PNG")
    p.add_argument("file", help="the audio file")
    p.add_argument("--kind", choices=KINDS, default="mel", help="the feature (default mel)")
    p.add_argument("-o", "--output", default="out.png", help="the PNG to write (default out.png)")
    p.add_argument("--n-fft", type=int, default=DEFAULTS["n_fft"], help="FFT size (default 2048; not for cqt)")
    p.add_argument("--hop", type=int, default=DEFAULTS["hop"], help="hop length in samples (default 256)")
    p.add_argument("--fmin", type=float, default=None, help="lowest frequency in Hz (default 0; cqt 32.70)")
    p.add_argument("--n-bins", type=int, default=None, help="bins of cqt (default 84) or gammatone (default 64)")
    p.add_argument("--n-mels", type=int, default=DEFAULTS["n_mels"], help="mel bands of mel/mfcc (default 128)")
    p.add_argument("--channel", type=int, default=None, help="channel to show (default: all, mixed down)")
    p.add_argument("--backend", default=None, help="reference, cpp or triton (default: automatic)")
    p.set_defaults(func=cmd_show)
    p = sub.add_parser("stream", help="replay a WAV file through a stream in real-time-sized blocks")
    p.add_argument("file")
    p.add_argument("--kind", choices=KINDS, default="mel")
    p.add_argument("--block-ms", type=float, default=10.0, help="block duration in milliseconds (default 10)")
    p.add_argument("--check", action="store_true", help="confirm the frames equal the offline call's")
    p.add_argument("--channel", type=int, default=None, help="channel to replay (default: all, mixed down)")
    p.add_argument("--backend", default=None, help="reference, cpp or triton (default: automatic)")
    p.set_defaults(func=cmd_stream)
    sub.add_parser("bench", help="the benchmark suite: nnaudio-fast bench --help")
    p = sub.add_parser("info", help="version and backend availability")
    p.set_defaults(func=cmd_info)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, OSError) as exc:
        print(f"nnaudio-fast: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
