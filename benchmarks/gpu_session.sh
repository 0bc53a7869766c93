#!/usr/bin/env bash
# The one command for a lent GPU machine (see ../shared/gpu/README.md): install from the carried wheels, run the
# CUDA/Triton tests, the GPU benchmarks, the general suite and the rest of the tests, each stage time-boxed, and pack
# everything into $OUT as two files (the device tool brings back at most 8, at most two folders down):
#
#   $OUT/results.tar.gz   every log and result (fourier/, cqt/, suite/, logs/, environment.txt, summary.txt)
#   $OUT/summary.txt      device, versions, precision settings, per-stage status/exit code/duration, test counts
#
# The archive is rewritten after every stage and on exit (trap), so a stage that fails or runs out of time, or the
# whole call being cut short, still leaves what was produced so far. Commit what comes back under
# benchmarks/results/<device>/ (tar xzf results.tar.gz).
#
# On the GPU machine: prepare here first with `bash ../shared/gpu/wheels.sh` (fills .whl/, carried: carry=[".whl"]),
# then through the device tool (timeout_s=600):   bash benchmarks/gpu_session.sh
# Dry run on a CPU-only machine (the current Python environment, nothing installed, TRITON_INTERPRET=1, tiny
# sizes, about a minute):   DRY_RUN=1 OUT=/tmp/x bash benchmarks/gpu_session.sh    (or: ... gpu_session.sh --dry-run)
#
# Time: the whole call must end inside the device tool's 10 minutes, installation included. Each stage has its own
# budget (BUDGET_<STAGE> seconds, overridable), clipped to what is left of TOTAL_BUDGET (560 s; 240 s dry) less a
# reserve for packing; a stage with under MIN_STAGE (10) s left is skipped. Stages, in order of value:
#   install, env, tests_gpu (test_cuda/test_triton/test_triton_cqt natively), fourier, cqt, suite, tests_rest.
set -uo pipefail

DRY_RUN=${DRY_RUN:-0}
for arg in "$@"; do
    case "$arg" in
        --dry-run) DRY_RUN=1 ;;
        -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
        *) echo "gpu_session.sh: unknown argument $arg (only --dry-run)" >&2; exit 2 ;;
    esac
done
[ "$DRY_RUN" = 0 ] || DRY_RUN=1

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
OUT=${OUT:-/tmp/gpu_out}
mkdir -p "$OUT" || exit 1
OUT=$(cd "$OUT" && pwd)
TMPD=$(mktemp -d "${TMPDIR:-/tmp}/gpu_session.XXXXXX") || exit 1
RUN="$TMPD/results"          # everything the stages write; packed into $OUT/results.tar.gz
mkdir -p "$RUN/logs"
export PYTHONUNBUFFERED=1    # logs written up to the moment a stage is killed
export PYTHONDONTWRITEBYTECODE=1
PY=${PYTHON:-python3}

if [ "$DRY_RUN" = 1 ]; then
    MODE="dry run (CPU, TRITON_INTERPRET=1, tiny sizes, current environment)"
    export TRITON_INTERPRET=1 CUDA_VISIBLE_DEVICES=""
    TOTAL_BUDGET=${TOTAL_BUDGET:-240}
    : "${BUDGET_INSTALL:=30}" "${BUDGET_ENV:=30}" "${BUDGET_TESTS_GPU:=60}" "${BUDGET_FOURIER:=60}"
    : "${BUDGET_CQT:=60}" "${BUDGET_SUITE:=60}" "${BUDGET_TESTS_REST:=40}"
else
    MODE="gpu"
    TOTAL_BUDGET=${TOTAL_BUDGET:-560}
    : "${BUDGET_INSTALL:=120}" "${BUDGET_ENV:=30}" "${BUDGET_TESTS_GPU:=180}" "${BUDGET_FOURIER:=120}"
    : "${BUDGET_CQT:=60}" "${BUDGET_SUITE:=60}" "${BUDGET_TESTS_REST:=240}"
fi
PACK_RESERVE=${PACK_RESERVE:-15}
MIN_STAGE=${MIN_STAGE:-10}
T0=$(date +%s)
DEADLINE=$((T0 + TOTAL_BUDGET))
# The tree's package first (the editable install maps the same tree; in the dry run it may be the only way in).
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"

STAGES=()                       # "name status rc seconds budget" per stage, for the summary
PRECISION_MODES="fourier exact,tf32,bf16; cqt exact,tf32 (suite: the default mode)"
[ "$DRY_RUN" = 1 ] && PRECISION_MODES="fourier exact; cqt exact (--smoke defaults); suite: the default mode"
WHEELS="none carried"
if [ "$DRY_RUN" = 1 ]; then
    WHEELS="not used (dry run)"
elif compgen -G ".whl/*.whl" >/dev/null; then
    WHEELS="$(ls .whl/*.whl | wc -l) from .whl/ into /tmp/site"
    export PYTHONPATH="$PYTHONPATH:/tmp/site"
fi
SUITE_PEERS="nnaudio_fast,nnaudio_fast[reference],torch.stft+mel,torchaudio,nnAudio 0.3.4"

record() {  # record NAME STATUS RC MILLISECONDS BUDGET: one line of the summary's stage table
    local secs="$(($4 / 1000)).$((($4 % 1000) / 100))"
    STAGES+=("$1 $2 $3 $secs $5")
    echo "== $1: $2 (rc $3, $secs s)" | tee -a "$RUN/logs/$1.log"
}

STAGE_PID=""
stage() {  # stage NAME BUDGET COMMAND...: run COMMAND under its budget, log to logs/NAME.log, record, repack
    local name=$1 budget=$2 left rc status
    shift 2
    left=$((DEADLINE - PACK_RESERVE - $(date +%s)))
    [ "$budget" -gt "$left" ] && budget=$left
    if [ "$budget" -lt "$MIN_STAGE" ]; then
        STAGES+=("$name skipped - 0.0 $budget")
        echo "== $name: skipped (${left}s left of the total budget)" | tee -a "$RUN/logs/$name.log"
        pack
        return 0
    fi
    echo "== $name (budget ${budget}s): $*" | tee -a "$RUN/logs/$name.log"
    STAGE_NAME=$name STAGE_T0=$(date +%s%N) STAGE_B=$budget
    # In the background, so that a TERM to this script is handled at once (finish() stops the stage and packs).
    STAGE_BUDGET=$budget timeout -k 10 "$budget" "$@" >>"$RUN/logs/$name.log" 2>&1 </dev/null &
    STAGE_PID=$!
    wait "$STAGE_PID"
    rc=$?
    STAGE_PID=""
    case $rc in
        0) status=ok ;;
        124|137) status=timeout ;;
        *) status=failed ;;
    esac
    record "$name" "$status" "$rc" $((($(date +%s%N) - STAGE_T0) / 1000000)) "$budget"
    pack
}

env_value() {  # env_value KEY: the value of "KEY: value" in environment.txt
    local v
    v=$(sed -n "s/^$1: //p" "$RUN/environment.txt" 2>/dev/null | head -1)
    echo "${v:-unknown}"
}

test_counts() {  # test_counts LOG: outcome counts from pytest -v lines (complete even if the run was cut off)
    local log=$1 o n line
    [ -f "$log" ] || { echo "not run"; return; }
    line=""
    for o in PASSED FAILED ERROR SKIPPED XFAIL XPASS; do
        n=$(grep -cE "^tests/.*::.* $o( |$)" "$log")
        [ "$n" -gt 0 ] && line+="$n ${o,,}, "
    done
    echo "${line%, }" | sed 's/^$/no test finished/'
    echo "    pytest's own summary: $(grep -E '^=+ .*(passed|failed|error|skipped|deselected|no tests ran).* in [0-9.]+s' "$log" \
        | tail -1 | sed 's/^=* //; s/ =*$//' | grep . || echo 'none (cut off before the end)')"
}

write_summary() {
    local s n_files
    n_files=$(find "$RUN" -type f | wc -l)
    {
        echo "gpu_session.sh summary: mode $MODE"
        echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ), elapsed $(($(date +%s) - T0)) s of a ${TOTAL_BUDGET} s budget"
        echo "device: $(env_value device)"
        echo "versions: torch $(env_value torch), triton $(env_value triton), torchaudio $(env_value torchaudio)," \
             "python $(env_value python), cuda $(env_value cuda), nnaudio_fast $(env_value nnaudio_fast)"
        echo "precision: float32_matmul_precision $(env_value float32_matmul_precision)," \
             "cuda.matmul.allow_tf32 $(env_value cuda.matmul.allow_tf32)," \
             "cudnn.allow_tf32 $(env_value cudnn.allow_tf32), TRITON_INTERPRET ${TRITON_INTERPRET:-0}"
        echo "precision modes timed: $PRECISION_MODES"
        echo "backends: $(env_value backends)"
        echo "source: $(env_value source)"
        echo "wheels: $WHEELS"
        echo
        echo "stage       status   rc    seconds  budget"
        for s in "${STAGES[@]}"; do
            # shellcheck disable=SC2086
            printf '%-11s %-8s %-5s %7s  %6s\n' $s
        done
        echo
        echo "tests_gpu:  $(test_counts "$RUN/logs/tests_gpu.log")"
        echo "tests_rest: $(test_counts "$RUN/logs/tests_rest.log")"
        if grep -hqE "^(FAILED|ERROR) " "$RUN"/logs/tests_*.log 2>/dev/null; then
            echo "failures (first 20):"
            grep -hE "^(FAILED|ERROR) " "$RUN"/logs/tests_*.log | head -20 | cut -c1-240 | sed 's/^/  /'
        fi
        for f in fourier/fourier.csv cqt/cqt.csv suite/results.csv; do
            if [ -f "$RUN/$f" ]; then
                echo "$f: $(($(grep -vc '^#' "$RUN/$f") - 1)) rows"
            else
                echo "$f: missing"
            fi
        done
        grep -h "time limit .* reached" "$RUN/logs/suite.log" 2>/dev/null | cut -c1-200
        echo "archive: results.tar.gz, $((n_files + 1)) files (this summary included)"
    } >"$RUN/summary.txt.tmp" 2>&1
    mv -f "$RUN/summary.txt.tmp" "$RUN/summary.txt"
}

pack() {  # the archive and the summary into $OUT, replaced whole (a partial archive never overwrites a good one)
    write_summary
    if tar -czf "$TMPD/results.tar.gz" -C "$RUN" .; then
        cp -f "$TMPD/results.tar.gz" "$OUT/results.tar.gz.part" && mv -f "$OUT/results.tar.gz.part" "$OUT/results.tar.gz"
    fi
    cp -f "$RUN/summary.txt" "$OUT/summary.txt"
}

finish() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$STAGE_PID" ]; then  # interrupted during a stage: stop it (timeout passes the TERM on), keep its log
        kill -TERM "$STAGE_PID" 2>/dev/null
        wait "$STAGE_PID"
        record "$STAGE_NAME" interrupted "$?" $((($(date +%s%N) - STAGE_T0) / 1000000)) "$STAGE_B"
    fi
    pack
    cat "$OUT/summary.txt"
    echo "wrote: $(cd "$OUT" && ls)"
    rm -rf "$TMPD"
    exit "$rc"
}
trap finish EXIT
trap 'exit 143' TERM
trap 'exit 130' INT


# ---- stages -------------------------------------------------------------------------------------------------------
install_gpu() {
    if compgen -G ".whl/*.whl" >/dev/null; then
        "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
            .whl/*.whl || return
    else
        echo "no .whl/ carried: the peers nnAudio/librosa and the tests needing them will be missing"
    fi
    NNAUDIO_FAST_REQUIRE_EXT=1 "$PY" -m pip install -q --no-build-isolation --no-deps -e .
}
export -f install_gpu
export PY

cat >"$TMPD/env.py" <<'PYEOF'  # the env stage's facts, one "key: value" a line
import hashlib, os, pathlib, platform, subprocess
import torch
import nnaudio_fast as nf

def version(mod):
    try:
        return __import__(mod).__version__
    except Exception as exc:
        return f"missing ({type(exc).__name__})"

if torch.cuda.is_available():
    device = torch.cuda.get_device_name(0)
else:
    model = platform.processor() or "cpu"
    try:
        model = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    device = f"cpu: {model} ({os.cpu_count()} logical cores), no CUDA device"
try:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
except OSError:
    commit = ""
h = hashlib.sha256()
for p in sorted(q for d in ("nnaudio_fast", "kernels", "csrc") for q in pathlib.Path(d).rglob("*")
                if q.suffix in (".py", ".cpp", ".h") and "__pycache__" not in q.parts):
    h.update(str(p).encode() + b"\0" + p.read_bytes())
print("device:", device)
print("torch:", torch.__version__)
print("triton:", version("triton"))
print("torchaudio:", version("torchaudio"))
print("nnAudio:", version("nnAudio"))
print("librosa:", version("librosa"))
print("python:", platform.python_version())
print("cuda:", torch.version.cuda or "none")
print("nnaudio_fast:", nf.__version__)
print("float32_matmul_precision:", torch.get_float32_matmul_precision())
print("cuda.matmul.allow_tf32:", torch.backends.cuda.matmul.allow_tf32)
print("cudnn.allow_tf32:", torch.backends.cudnn.allow_tf32)
print("backends:", ", ".join(f"{k} {v.split(':')[0]}" for k, v in nf.backends().items()))
print("source: " + (f"git {commit}, " if commit else "") + "sha256 of nnaudio_fast/ kernels/ csrc/ " + h.hexdigest()[:16])
print("build_info:", nf.build_info())
print()
for name, why in nf.backends().items():
    print(f"backend {name}: {why}")
PYEOF
env_info() {
    "$PY" "$TMPD/env.py" >"$RUN/environment.txt" || return
    { echo; nvidia-smi 2>&1 || echo "nvidia-smi: not available"; } >>"$RUN/environment.txt"
    cat "$RUN/environment.txt"
}
export -f env_info
export TMPD RUN

PYTEST=("$PY" -m pytest -v -p no:cacheprovider --maxfail=25)
if [ "$DRY_RUN" = 1 ]; then
    stage install "$BUDGET_INSTALL" echo "dry run: nothing installed; the current environment's $PY ($(command -v "$PY"))"
    stage env "$BUDGET_ENV" bash -c env_info
    stage tests_gpu "$BUDGET_TESTS_GPU" "${PYTEST[@]}" tests/backends/test_triton.py -k "test_stft_matches_reference and direct"
    stage fourier "$BUDGET_FOURIER" "$PY" benchmarks/gpu_fourier.py --out "$RUN/fourier" --smoke --batches 1
    stage cqt "$BUDGET_CQT" "$PY" benchmarks/gpu_cqt.py --out "$RUN/cqt" --smoke
    stage suite "$BUDGET_SUITE" bash -c '"$PY" -m benchmarks --device cpu --out "$0" --no-progress --case mel --tiny \
        --time-limit $((STAGE_BUDGET - 15)) --peers "nnaudio_fast,nnaudio_fast[reference],torch.stft+mel"' "$RUN/suite"
    stage tests_rest "$BUDGET_TESTS_REST" "${PYTEST[@]}" tests/project/test_benchmarks.py::test_case_selection
else
    stage install "$BUDGET_INSTALL" bash -c install_gpu
    stage env "$BUDGET_ENV" bash -c env_info
    # 1. the kernels natively and every layer on CUDA (the sm_90 compile check is a CPU test: CI runs it)
    stage tests_gpu "$BUDGET_TESTS_GPU" "${PYTEST[@]}" tests/backends/test_cuda.py tests/backends/test_triton.py tests/backends/test_triton_cqt.py \
        --deselect tests/backends/test_triton.py::test_kernels_compile_for_hopper_without_spills
    # 2. the fused Fourier kernels vs torch.stft+mel / torchaudio / nnAudio, fwd and fwd+bwd, with roofline fractions
    stage fourier "$BUDGET_FOURIER" "$PY" benchmarks/gpu_fourier.py --out "$RUN/fourier"
    # 3. the fused multirate CQT vs the reference, the single-rate CQT and nnAudio's CQT2010v2/CQT1992v2
    stage cqt "$BUDGET_CQT" "$PY" benchmarks/gpu_cqt.py --out "$RUN/cqt"
    # 4. the general suite (every family, every peer but the slow-to-compile one) at batch 1/16/64 x 10 s, as many
    #    cases as fit (written after each case; --time-limit stops it cleanly before the stage's timeout)
    stage suite "$BUDGET_SUITE" bash -c '"$PY" -m benchmarks --device cuda --out "$0" --no-progress \
        --time-limit $((STAGE_BUDGET - 20)) --peers "$1"' "$RUN/suite" "$SUITE_PEERS"
    # 5. the rest of the suite, as far as the time left allows (the slow tests and this script's own test excluded)
    stage tests_rest "$BUDGET_TESTS_REST" "${PYTEST[@]}" -m "not slow" tests --ignore=tests/backends/test_cuda.py \
        --ignore=tests/backends/test_triton.py --ignore=tests/backends/test_triton_cqt.py --ignore=tests/project/test_gpu_session.py
fi
failed=0
for s in "${STAGES[@]}"; do
    case "$s" in *" ok "*|*" skipped "*) ;; *) failed=1 ;; esac
done
exit "$failed"
