"""The command line: the README's demo and ``show``."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import scipy.io.wavfile


def _run(*args, cwd):
    return subprocess.run([sys.executable, "-m", "nnaudio_fast", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def _is_png(path):
    data = path.read_bytes()
    return len(data) > 10_000 and data[:8] == b"\x89PNG\r\n\x1a\n"


def test_demo_writes_png(tmp_path):
    r = _run("demo", "-o", "demo.png", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert _is_png(tmp_path / "demo.png")


def test_show_a_wav_file(tmp_path, rng):
    sr = 16000
    t = np.arange(sr) / sr
    y = (0.5 * np.sin(2 * np.pi * 440 * t) + 0.01 * rng.standard_normal(sr)) * 32767
    scipy.io.wavfile.write(tmp_path / "tone.wav", sr, y.astype(np.int16))
    r = _run("show", "tone.wav", "--kind", "mfcc", "-o", "mfcc.png", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert _is_png(tmp_path / "mfcc.png")


def test_info_and_bad_kind(tmp_path, capsys):
    r = _run("info", cwd=tmp_path)  # the installed entry point, in a fresh process
    assert r.returncode == 0 and "backend reference: available" in r.stdout
    from nnaudio_fast.cli import main

    with pytest.raises(SystemExit) as exit_info:  # argparse's refusal, in process
        main(["show", str(tmp_path / "missing.wav"), "--kind", "nope"])
    assert exit_info.value.code != 0 and "nope" in capsys.readouterr().err


def test_stream_replays_a_file_and_checks_the_frames(tmp_path, rng, capsys):
    """``stream FILE --check``: real-time-sized blocks through a stream, the frames equal the offline call's; a
    missing file or a bad block size exits 2 with a message."""
    from nnaudio_fast.cli import main

    sr = 16000
    y = (0.3 * np.sin(2 * np.pi * 300 * np.arange(sr) / sr) + 0.05 * rng.standard_normal(sr)) * 32767
    scipy.io.wavfile.write(tmp_path / "tone.wav", sr, y.astype(np.int16))
    for kind in ("mel", "mfcc"):
        assert main(["stream", str(tmp_path / "tone.wav"), "--kind", kind, "--check"]) == 0
        out = capsys.readouterr().out
        assert "equal to the offline call" in out and "real-time factor" in out and "latency" in out
    assert main(["stream", str(tmp_path / "missing.wav")]) == 2
    assert main(["stream", str(tmp_path / "tone.wav"), "--block-ms", "0"]) == 2


def test_show_options_channels_and_errors(tmp_path, rng, capsys):
    """``show`` takes the analysis settings and a channel, says when it mixes channels down, and a missing or
    unreadable file exits 2 with a one-line message (no traceback); ``--help`` documents every option. In process
    (the demo and show tests above run the installed command)."""
    from nnaudio_fast.cli import main

    sr = 16000
    t = np.arange(sr) / sr
    stereo = np.stack([np.sin(2 * np.pi * 440 * t), 0.3 * rng.standard_normal(sr)], 1)
    wav = str(tmp_path / "stereo.wav")
    scipy.io.wavfile.write(wav, sr, (stereo * 20000).astype(np.int16))
    assert main(["show", wav, "--kind", "cqt", "--hop", "128", "--fmin", "55", "--n-bins", "60", "-o",
                 str(tmp_path / "c.png")]) == 0
    assert "mixing 2 channels down" in capsys.readouterr().err and _is_png(tmp_path / "c.png")
    assert main(["show", wav, "--channel", "1", "--n-fft", "1024", "--n-mels", "64", "-o", str(tmp_path / "m.png")]) == 0
    assert "mixing" not in capsys.readouterr().err and _is_png(tmp_path / "m.png")
    (tmp_path / "bad.wav").write_bytes(b"not audio")
    for args, message in (([str(tmp_path / "missing.wav")], "is not a file"), ([str(tmp_path / "bad.wav")], "cannot read"),
                          ([wav, "--channel", "5"], "--channel=5 does not exist")):
        assert main(["show", *args]) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err and err.count("\n") == 1, err
    try:
        main(["show", "--help"])
    except SystemExit:
        pass
    out = capsys.readouterr().out
    for option in ("--n-fft", "--hop", "--fmin", "--n-bins", "--n-mels", "--channel", "--kind", "--output"):
        assert option in out
