#!/usr/bin/env bash
# The one command for a lent GPU machine (see ../shared/gpu/README.md): install from the carried wheels, run the
# whole test suite on CUDA, then the GPU benchmarks. Everything it produces lands in $OUT; commit what comes back
# under benchmarks/results/<device>/.
#
# Prepare here first: bash ../shared/gpu/wheels.sh   (fills .whl/, which must be carried: carry=[".whl"])
# Then, through the device tool:  bash benchmarks/gpu_session.sh
# Budget: device time is minutes per task; the steps below are ordered by value and each is time-boxed.
set -uo pipefail
OUT=${OUT:-/tmp/gpu_out}
mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site
NNAUDIO_FAST_REQUIRE_EXT=1 python3 -m pip install -q --no-build-isolation --no-deps -e . 2>&1 | tail -3
{ nvidia-smi; python3 -m nnaudio_fast info; python3 -c "import torch, triton; print(torch.__version__, triton.__version__)"; } \
    > "$OUT/environment.txt" 2>&1
# 1. the whole suite on the GPU machine (test_triton.py runs the kernels natively, test_cuda.py every layer on CUDA)
timeout 200 python3 -m pytest -q --maxfail=25 tests 2>&1 | tail -60 > "$OUT/tests.txt"
# 2. the fused Fourier kernels vs torch.stft+mel / torchaudio / nnAudio, fwd and fwd+bwd, with roofline fractions
timeout 150 python3 benchmarks/gpu_fourier.py --out "$OUT/fourier" > "$OUT/fourier.log" 2>&1
# 3. the fused multirate CQT vs the reference, the single-rate CQT and nnAudio's CQT2010v2/CQT1992v2
timeout 60 python3 benchmarks/gpu_cqt.py --out "$OUT/cqt" > "$OUT/cqt.log" 2>&1
# 4. the general suite (every family, every peer) at batch 1/16/64 x 10 s, without the slow-to-compile peer
timeout 90 python3 -m benchmarks --device cuda --out "$OUT/suite" --no-progress \
    --peers "nnaudio_fast,nnaudio_fast[reference],torch.stft+mel,torchaudio,nnAudio 0.3.4" > "$OUT/suite.log" 2>&1
ls -R "$OUT"
