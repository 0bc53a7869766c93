"""The backend contract (nnaudio_fast.dispatch.OPS) and the one precision table, checked against every backend
module; dispatch's fallbacks, observed through a simulated backend."""

from __future__ import annotations

import inspect
import types

import pytest
import torch

from nnaudio_fast import _checks, cpp, dispatch, precision, reference
from nnaudio_fast import functional as AF

from helpers import noise, rel_err

BACKEND_MODULES = {"reference": reference, "cpp": cpp}


def _kernels_module():
    import nnaudio_fast.kernels as kernels  # importing the package never imports triton

    return kernels


def _check_signature(module_name, op, fn):
    params = list(inspect.signature(fn).parameters.values())
    spec = dispatch.OPS[op]
    names = [p.name for p in params[: len(spec.params)]]
    assert names == list(spec.params), f"{module_name}.{op} parameters {names} != contract {spec.params}"
    for p in params:
        if p.name in dispatch.KEYWORD_ONLY:
            assert p.kind is p.KEYWORD_ONLY and p.default is None, f"{module_name}.{op}: {p.name} must be kw-only"
    for p in params[len(spec.params):]:  # extras: keyword-only with a default
        assert p.kind is p.KEYWORD_ONLY and p.default is not p.empty, f"{module_name}.{op}: extra {p.name}"


@pytest.mark.parametrize("name", ["reference", "cpp", "triton"])
def test_every_backend_module_follows_the_contract(name):
    module = _kernels_module() if name == "triton" else BACKEND_MODULES[name]
    for attr in ("unavailable_reason", "runs_on", "DTYPES"):
        assert hasattr(module, attr), f"backend {name} lacks {attr}"
    assert set(module.DTYPES) <= {torch.float32, torch.float64} and torch.float32 in module.DTYPES
    implemented = [op for op in dispatch.OPS if hasattr(module, op)]
    assert implemented, name
    for op in implemented:
        _check_signature(name, op, getattr(module, op))
    if name == "reference":
        assert implemented == list(dispatch.OPS), "the reference implements every operation"
    # every public function of a backend that looks like an operation is in the table (no implicit ops)
    public = {n for n, v in vars(module).items() if isinstance(v, types.FunctionType) and not n.startswith("_")
              and v.__module__.startswith(module.__name__)}
    helpers = {"unavailable_reason", "runs_on", "missing_reason", "build_info", "resolve_precision",
               "resolve_engine"}
    assert public - helpers <= set(dispatch.OPS), f"{name} has operations outside the contract: {public - helpers}"


def test_precision_ops_are_those_whose_contract_names_precision():
    assert set(dispatch.PRECISION_OPS) == {n for n, op in dispatch.OPS.items() if "precision" in op.params}
    assert "istft" not in dispatch.PRECISION_OPS and "cqt_multirate" in dispatch.PRECISION_OPS


def test_one_precision_table_reaches_validation_and_every_kernel_file():
    assert set(precision.ACCEPTED) == {None, *precision.MODES, *precision.TORCH_NAMES}
    assert set(precision.TORCH_NAMES.values()) <= set(precision.MODES)
    for value in precision.ACCEPTED:
        assert _checks.precision(value) == value
    with pytest.raises(ValueError, match="precision='fp8'.*'exact'"):
        _checks.precision("fp8")
    with pytest.raises(ValueError, match="precision=3"):
        _checks.precision(3)
    pytest.importorskip("triton")
    from nnaudio_fast.kernels import fourier, fourier_ops

    assert fourier.DOT_PRECISION == {m: mode.triton_dot for m, mode in precision.MODES.items()}
    assert fourier_ops.FFT_MIN_N_FFT == {m: mode.fft_min_n_fft for m, mode in precision.MODES.items()}
    from nnaudio_fast.kernels import cqt

    assert cqt.PYRAMID_DOT == {m: mode.triton_pyramid_dot for m, mode in precision.MODES.items()}
    kernels = _kernels_module()
    for torch_name, mode in precision.TORCH_NAMES.items():
        assert kernels.resolve_precision(torch_name) == mode


def _fake_backend(**ops):
    module = types.SimpleNamespace(DTYPES=(torch.float32,), unavailable_reason=lambda: None,
                                   runs_on=lambda device: True, **ops)
    return module


@pytest.fixture
def fake_cpp(monkeypatch):
    """A 'cpp' backend with only an stft (marking its calls) and a pyramid; the others stay real."""
    calls = []

    def stft(x, wcos, wsin, hop_length, center, pad_mode, dft_window=None, *, precision=None):
        calls.append("stft")
        return reference.stft(x, wcos, wsin, hop_length, center, pad_mode)

    def pyramid(x, h, n_levels, *, precision=None):
        calls.append("pyramid")
        return reference.pyramid(x, h, n_levels)

    fake = _fake_backend(stft=stft, pyramid=pyramid)
    real_import = dispatch._import
    monkeypatch.setattr(dispatch, "_import", lambda name: fake if name == "cpp" else real_import(name))
    monkeypatch.delenv(dispatch.ENV_VAR, raising=False)
    dispatch.reset()
    return calls


def test_auto_falls_back_to_the_reference_for_missing_ops_and_dtypes(rng, fake_cpp):
    x = noise(rng, 2, 3000, dtype=torch.float32)
    AF.stft(x, n_fft=256)
    assert fake_cpp == ["stft"]  # the backend's own op
    assert dispatch.select("istft", "cpu") is reference.istft  # missing op: the reference, quietly
    fake_cpp.clear()
    AF.stft(x.double(), n_fft=256)
    assert fake_cpp == []  # float64 is not among the fake's DTYPES: the reference
    with pytest.raises(dispatch.BackendUnavailableError, match="backend 'cpp'.*istft.*does not implement"):
        dispatch.select("istft", "cpu", "cpp")


def test_missing_op_composed_from_the_backends_parts(rng, fake_cpp):
    fn = dispatch.select("cqt_multirate", "cpu", "cpp")
    assert fn.func is reference.cqt_multirate and fn.keywords["pyramid"].__name__ == "pyramid"
    x = noise(rng, 1, 5000, dtype=torch.float32)
    got = AF.cqt(x, sr=8000, hop_length=64, fmin=50, n_bins=36, backend="cpp")
    assert "pyramid" in fake_cpp
    assert rel_err(got, AF.cqt(x, sr=8000, hop_length=64, fmin=50, n_bins=36, backend="reference")) <= 1e-6


def test_real_cpp_backend_without_its_extension(monkeypatch, rng):
    monkeypatch.setattr(cpp, "_ext", None)
    monkeypatch.setattr(cpp, "_IMPORT_ERROR", "simulated")
    dispatch.reset()
    assert dispatch.select("cqt_multirate", "cpu") is reference.cqt_multirate  # auto: plain reference
    assert dispatch.select("stft", "cpu") is cpp.stft  # the FFT paths need no extension
    with pytest.raises(dispatch.BackendUnavailableError, match="simulated"):
        dispatch.select("pyramid", "cpu", "cpp")


def test_unknown_operation_is_a_clear_error():
    with pytest.raises(ValueError, match="'fft' is not an operation"):
        dispatch.select("fft", "cpu")


def test_backends_import_no_other_backend():
    import ast
    import pathlib

    root = pathlib.Path(reference.__file__).parents[1]
    kernels = pathlib.Path(_kernels_module().__file__).parent
    for path, forbidden in (*((p, ("reference", "kernels")) for p in (root / "cpp").glob("*.py")),
                            *((p, ("reference", "cpp")) for p in kernels.glob("*.py")),
                            *((p, ("cpp", "kernels")) for p in (root / "reference").glob("*.py"))):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [a.name for a in node.names]
                assert not any(n.split(".")[0] in forbidden for n in names), f"{path.name} imports {names}"
