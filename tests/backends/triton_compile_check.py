"""Compile the Triton kernels for a CUDA target without a GPU (frontend, MLIR, LLVM and ptxas all run on the CPU).

Triton's interpreter, which the CPU tests use, accepts programs the compiler rejects; this compiles every kernel
in the launch configurations the launchers use (:func:`nnaudio_fast.kernels.fourier._blocks`), for each
precision, padding mode and epilogue, and reports registers and spill stores from ``ptxas -v``. Run as a script
with ``TRITON_INTERPRET`` unset (``tests/backends/test_triton.py`` does); prints one JSON object per variant.

    python tests/triton_compile_check.py [--arch 90] [--only 'cqt pyramid']
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import re
import subprocess
import sys
import tempfile

import triton
from triton.backends.compiler import GPUTarget
from triton.compiler import ASTSource

from nnaudio_fast.kernels import cqt as C, fourier as K

FLOATS = {"power", "log_scale", "amin"}
INT64_POINTERS = {"oct_ptr", "lvl_ptr"}  # the CQT's octave and level tables
WIDE = {"L", "s_xb", "P_len", "s_ob", "s_db", "Lp", "src_len", "len_out", "s_sb", "s_tb", "s_gb", "s_g0b", "s_ab",
        "s_yb"}


def _signature(fn, constexprs, x_dtype="*fp32", wide=False):
    sig = {}
    for name in inspect.signature(fn.fn).parameters:
        if name in constexprs:
            sig[name] = "constexpr"
        elif name.endswith("_ptr"):
            sig[name] = x_dtype if name == "x_ptr" else "*i64" if name in INT64_POINTERS else "*fp32"
        elif name in FLOATS:
            sig[name] = "fp32"
        else:  # lengths and strides: 64-bit values exercise the int64 paths (inputs beyond 2^31 samples)
            sig[name] = "i64" if wide and name in WIDE else "i32"
    return sig


def _variants():
    for prec in ("exact", "ieee", "tf32", "bf16"):
        dot = K.DOT_PRECISION[prec]
        for epi, kind in ((K.EPI_COMPLEX, "fwd_complex"), (K.EPI_POWER, "fwd_power"),
                          (K.EPI_FILTERBANK, "fwd_filterbank")):
            for pad in ((K.PAD_REFLECT, K.PAD_CONSTANT) if prec == "exact" else (K.PAD_REFLECT,)):
                cfg = K._blocks(kind, prec, M=128)
                cx = dict(PAD=pad, SOURCE=K.SOURCE_FRAMES, EPI=epi, POWER_MODE=0, LOG=epi == K.EPI_FILTERBANK,
                          PREC=dot, EMULATE_BF16=False)
                yield f"fwd {kind} {prec} pad{pad}", K._fwd_kernel, cx, cfg, {}
        cfg = K._blocks("epilogue", prec, M=80)
        cx = dict(PAD=K.PAD_REFLECT, SOURCE=K.SOURCE_SPECTRUM, EPI=K.EPI_FILTERBANK, POWER_MODE=1, LOG=True,
                  PREC=dot, EMULATE_BF16=False)
        yield f"epilogue {prec}", K._fwd_kernel, cx, cfg, {}
        cx = dict(PAD=K.PAD_REFLECT, SOURCE=K.SOURCE_FRAMES, HAS_FB=True, POWER_MODE=0, WANT_G=True, WANT_S=True,
                  PREC=dot, EMULATE_BF16=False)
        yield f"spec_grad {prec}", K._spec_grad_kernel, cx, K._blocks("spec_grad", prec), {}
        yield f"ola {prec}", K._ola_grad_kernel, dict(PREC=dot, EMULATE_BF16=False), K._blocks("ola", prec, hop=128), {}
        cx = dict(PAD=K.PAD_REFLECT, FRAMED=True, TWO=True, PREC=dot, EMULATE_BF16=False)
        yield f"outer {prec}", K._outer_kernel, cx, K._blocks("outer", prec), {}
    cx = dict(PAD=K.PAD_REFLECT, SOURCE=K.SOURCE_FRAMES, EPI=K.EPI_FILTERBANK, POWER_MODE=0, LOG=False,
              PREC="tf32x3", EMULATE_BF16=False)
    yield "fwd_filterbank exact, small-problem tile", K._fwd_kernel, cx, dict(K._blocks("fwd_filterbank", M=80),
                                                                              BLOCK_T=16), {}
    cx = dict(PAD=K.PAD_CIRCULAR, SOURCE=K.SOURCE_FRAMES, EPI=K.EPI_POWER, POWER_MODE=2, LOG=False, PREC="tf32x3",
              EMULATE_BF16=False)
    yield "fwd fp16 waveform, int64 lengths", K._fwd_kernel, cx, K._blocks("fwd_power"), dict(x_dtype="*fp16",
                                                                                             wide=True)
    yield "outer unframed", K._outer_kernel, dict(PAD=0, FRAMED=False, TWO=False, PREC="tf32x3", EMULATE_BF16=False), \
        K._blocks("outer"), {}
    yield "frames", K._frames_kernel, dict(PAD=K.PAD_REFLECT), K._blocks("frames"), dict(x_dtype="*bf16")
    yield "ola_frames", K._ola_frames_kernel, {}, K._blocks("ola_frames"), dict(wide=True)
    for pad in (K.PAD_NONE, K.PAD_REFLECT, K.PAD_CIRCULAR):
        yield f"fold pad{pad}", K._pad_fold_kernel, dict(PAD=pad), K._blocks("fold"), dict(wide=True)
    yield from _cqt_variants()


def _pyramid_kc(cfg, kk):
    """The padded band ``KC`` the launchers pass for these tiles (see :func:`nnaudio_fast.kernels.cqt.toeplitz_taps`)."""
    return -(-(cfg["Q"] + 2 * kk - 1) // cfg["BLOCK_KC"]) * cfg["BLOCK_KC"]


def _cqt_variants():
    """The multirate CQT kernels (:mod:`nnaudio_fast.kernels.cqt`) in the configurations the launchers use."""
    kk = (len(__import__("nnaudio_fast").bases.halfband_lowpass()) // 2 + 1) // 2
    for prec in ("exact", "ieee", "tf32"):  # the pyramid's dot precisions (bf16 mode filters in TF32)
        cfg = C._blocks("pyramid", prec)
        common = dict(KK=kk, PREC=C.PYRAMID_DOT[prec], EMULATE_BF16=False, KC=_pyramid_kc(cfg, kk))
        # every level count a launch can take: the level loop is unrolled, each count is its own binary, and
        # register use does not grow monotonically with it (measured: spills at 6 levels but not at 8)
        for levels in range(1, C.PYRAMID_MAX_LEVELS + 1):
            pad, chunk = (K.PAD_REFLECT, C.PYRAMID_CHUNK_MAX) if levels == 1 else (K.PAD_CONSTANT,
                                                                                   C.PYRAMID_CHUNK_MIN)
            cx = dict(common, PAD=pad, LEVELS=levels, CHUNK=chunk)
            yield f"cqt pyramid {prec} pad{pad} levels{levels}", C._pyramid_kernel, cx, cfg, dict(wide=True)
        cfg = C._blocks("pyramid_adjoint", prec)
        common = dict(common, KC=_pyramid_kc(cfg, kk))
        for levels in range(1, C.PYRAMID_MAX_LEVELS + 1):
            has_g0 = levels > 1
            cx = dict(common, HAS_G0=has_g0, LEVELS=levels, CHUNK=C.PYRAMID_CHUNK_MIN << levels)
            yield f"cqt pyramid_adjoint {prec} g0={has_g0} levels{levels}", C._pyramid_adjoint_kernel, cx, cfg, \
                dict(wide=True)
    for prec in ("exact", "ieee", "tf32", "bf16"):
        dot = K.DOT_PRECISION[prec]
        for pad, rows in ((K.PAD_REFLECT, 24), (K.PAD_CONSTANT, 48)) if prec == "exact" else ((K.PAD_REFLECT, 24),):
            cx = dict(PAD=pad, PREC=dot, EMULATE_BF16=False)
            yield f"cqt octave_fwd {prec} pad{pad} rows{rows}", C._octave_fwd_kernel, cx, \
                C._blocks("octave_fwd", prec, rows=rows), {}
            small = dict(C._blocks("octave_fwd", prec, rows=rows), num_warps=4)
            for block_t in (64, 16):  # the small-problem tiles of _fill_device
                yield f"cqt octave_fwd {prec} pad{pad} rows{rows} BLOCK_T={block_t}", C._octave_fwd_kernel, cx, \
                    dict(small, BLOCK_T=block_t), {}
        yield f"cqt input_grad {prec}", C._octave_input_grad_kernel, dict(PREC=dot, EMULATE_BF16=False), \
            C._blocks("input_grad", prec, rows=24), {}
        cx = dict(PAD=K.PAD_REFLECT, PREC=dot, EMULATE_BF16=False)
        yield f"cqt kernel_grad {prec}", C._octave_kernel_grad_kernel, cx, C._blocks("kernel_grad", prec, rows=24), {}
    cx = dict(PAD=K.PAD_CIRCULAR, PREC="tf32x3", EMULATE_BF16=False)
    yield "cqt octave_fwd, int64 lengths", C._octave_fwd_kernel, cx, C._blocks("octave_fwd", rows=24), dict(wide=True)
    yield "cqt kernel_grad, int64 lengths", C._octave_kernel_grad_kernel, cx, C._blocks("kernel_grad", rows=24), \
        dict(wide=True)
    yield "cqt input_grad, int64 lengths", C._octave_input_grad_kernel, dict(PREC="tf32x3", EMULATE_BF16=False), \
        C._blocks("input_grad", rows=24), dict(wide=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", type=int, default=90, help="CUDA compute capability, e.g. 80 or 90")
    parser.add_argument("--only", default="", help="compile only the variants whose name contains this")
    parser.add_argument("--shard", default="0/1", help="K/N: compile only every N-th variant from the K-th (0-based), "
                        "so N processes share the work")
    args = parser.parse_args(argv)
    shard, shards = (int(v) for v in args.shard.split("/"))
    if K.INTERPRET:
        print("unset TRITON_INTERPRET: this compiles for a GPU", file=sys.stderr)
        return 2
    from triton.backends.nvidia.compiler import get_ptxas  # the ptxas triton itself uses for this arch

    ptxas = get_ptxas(args.arch).path
    failed = 0
    for index, (name, fn, constexprs, cfg, sig_kw) in enumerate(_variants()):
        if args.only not in name or index % shards != shard:
            continue
        cfg = dict(cfg)
        options = {k: cfg.pop(k) for k in ("num_warps", "num_stages") if k in cfg}
        constexprs = dict(constexprs, **{k: v for k, v in cfg.items() if k in inspect.signature(fn.fn).parameters})
        record = {"kernel": name, "triton": triton.__version__, "arch": args.arch, **options,
                  **{k: v for k, v in constexprs.items() if k.startswith("BLOCK")}}
        try:
            src = ASTSource(fn=fn, signature=_signature(fn, constexprs, **sig_kw), constexprs=constexprs)
            compiled = triton.compile(src, target=GPUTarget("cuda", args.arch, 32), options=options)
            with tempfile.NamedTemporaryFile("w", suffix=".ptx", delete=False) as f:
                f.write(compiled.asm["ptx"])
            arch = f"sm_{args.arch}a" if args.arch >= 90 else f"sm_{args.arch}"
            out = subprocess.run([ptxas, "-v", "--gpu-name", arch, f.name, "-o", os.devnull],
                                 capture_output=True, text=True)
            if out.returncode:
                raise RuntimeError(f"ptxas failed: {out.stderr.strip()}")
            os.unlink(f.name)
            record["registers"] = int(re.search(r"Used (\d+) registers", out.stderr).group(1))
            record["spill_stores"] = int(re.search(r"(\d+) bytes spill stores", out.stderr).group(1))
            record["shared_bytes"] = compiled.metadata.shared
            ptx = compiled.asm["ptx"]
            # the multi-level pyramid kernels read back, after a CTA barrier, what the CTA wrote: they need
            # coherent loads (no ld.global.nc) and the barriers
            record["nc_loads"] = ptx.count("ld.global.nc")
            record["barriers"] = ptx.count("bar.sync") + ptx.count("barrier.sync")
        except Exception as exc:  # report every failure, not only the first
            failed += 1
            record["error"] = f"{type(exc).__name__}: {exc}"[:2000]
        print(json.dumps(record), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
