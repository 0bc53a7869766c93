// Octave pyramid of the multirate CQT: half-band lowpass + decimation by 2, repeated, and its exact adjoint.
//
// A stage maps x (N samples) to y (ceil(N/2) samples), y[n] = sum_j h[j] x[2n - j], zeros outside [0, N), for a
// symmetric half-band filter h[-K..K] (h[0] = c, h[+-(2k+1)] = g_k, other even taps 0). In polyphase form, with
// e[n] = x[2n] and o[n] = x[2n+1]:
//     y[n] = c e[n] + sum_k g_k (o[n - k - 1] + o[n + k])
// so only the kept samples are computed, at K+1 multiplies each, over contiguous arrays (vectorisable).
// The adjoint (transpose) of a stage, for the cotangent ybar:
//     xbar[2n] = c ybar[n],   xbar[2m + 1] = sum_k g_k (ybar[m + k + 1] + ybar[m - k]).
// Levels are chained per row; rows are split into contiguous chunks, one per thread, run on a persistent worker pool
// (see Pool in pool.h: shared by concurrent callers, rebuilt after fork, and the calling thread computes whatever no
// worker takes, so a thread that cannot be created only costs speed). Each row is computed by the same code whatever
// thread runs it, so results are bitwise identical for any thread count. No libtorch: plain NumPy buffers
// (pybind11), C-contiguous float32 or float64, the GIL released while computing.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "pool.h"

namespace py = pybind11;
using idx_t = std::int64_t;
using nnaf::parallel_rows;
using nnaf::pool_workers;
using nnaf::thread_count;

namespace {

template <typename T>
struct HalfBand {
  T centre;
  std::vector<T> g;  // g[k] = h[2k + 1]
};

HalfBand<double> parse_filter(const py::array_t<double, py::array::c_style | py::array::forcecast>& h) {
  if (h.ndim() != 1 || h.shape(0) < 3 || h.shape(0) % 2 != 1) {
    throw py::value_error("h must be a 1-D symmetric half-band filter with an odd number (>= 3) of taps");
  }
  const double* p = h.data();
  const idx_t k = (h.shape(0) - 1) / 2;
  HalfBand<double> f{p[k], {}};
  for (idx_t j = 1; j <= k; ++j) {
    if (p[k + j] != p[k - j]) throw py::value_error("h must be symmetric (zero phase)");
    if (j % 2 == 0 && p[k + j] != 0.0) throw py::value_error("h must be half-band: even taps other than the centre are 0");
    if (j % 2 == 1) f.g.push_back(p[k + j]);
  }
  return f;
}

template <typename T>
HalfBand<T> cast_filter(const HalfBand<double>& f) {
  HalfBand<T> out{static_cast<T>(f.centre), {}};
  for (double v : f.g) out.g.push_back(static_cast<T>(v));
  return out;
}

// y[n] += g * (a[n] + b[n]) for up to four taps at once (fewer passes over y).
template <typename T>
inline void accumulate(T* __restrict y, const T* const* a, const T* const* b, const T* g, int taps, idx_t n0, idx_t n1) {
  if (taps == 4) {
    const T *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *b0 = b[0], *b1 = b[1], *b2 = b[2], *b3 = b[3];
    const T g0 = g[0], g1 = g[1], g2 = g[2], g3 = g[3];
    for (idx_t n = n0; n < n1; ++n)
      y[n] += g0 * (a0[n] + b0[n]) + g1 * (a1[n] + b1[n]) + g2 * (a2[n] + b2[n]) + g3 * (a3[n] + b3[n]);
  } else {
    for (int t = 0; t < taps; ++t) {
      const T* at = a[t];
      const T* bt = b[t];
      const T gt = g[t];
      for (idx_t n = n0; n < n1; ++n) y[n] += gt * (at[n] + bt[n]);
    }
  }
}

constexpr idx_t kBlock = 4096;  // outputs per block: the block's inputs stay in L1/L2 across taps

// One stage. scratch: at least ceil(N/2) + 2K' elements (K' = number of odd taps per side).
template <typename T>
void halve(const T* x, idx_t n_in, T* y, const HalfBand<T>& f, T* scratch) {
  const idx_t n_out = (n_in + 1) / 2, n_odd = n_in / 2, kk = static_cast<idx_t>(f.g.size());
  T* op = scratch + kk;  // op[n] = o[n], zero for n < 0 and n >= n_odd
  std::fill(scratch, scratch + n_out + 2 * kk, T(0));
  for (idx_t n = 0; n < n_odd; ++n) op[n] = x[2 * n + 1];
  for (idx_t n = 0; n < n_out; ++n) y[n] = f.centre * x[2 * n];
  for (idx_t b0 = 0; b0 < n_out; b0 += kBlock) {
    const idx_t b1 = std::min(n_out, b0 + kBlock);
    for (idx_t k = 0; k < kk; k += 4) {
      const int taps = static_cast<int>(std::min<idx_t>(4, kk - k));
      const T* a[4];
      const T* b[4];
      for (int t = 0; t < taps; ++t) {
        a[t] = op - (k + t) - 1;  // o[n - k - 1]
        b[t] = op + (k + t);      // o[n + k]
      }
      accumulate(y, a, b, f.g.data() + k, taps, b0, b1);
    }
  }
}

// Adjoint of one stage: g (n_out = ceil(n_in/2) samples) -> xbar (n_in samples).
// scratch: at least n_out + 2K' + n_in/2 elements.
template <typename T>
void halve_adjoint(const T* g, idx_t n_in, T* xbar, const HalfBand<T>& f, T* scratch) {
  const idx_t n_out = (n_in + 1) / 2, n_odd = n_in / 2, kk = static_cast<idx_t>(f.g.size());
  T* yp = scratch;  // yp[kk + n] = g[n], zero-padded by kk on both sides
  T* odd = scratch + n_out + 2 * kk;
  std::fill(yp, yp + n_out + 2 * kk, T(0));
  std::copy(g, g + n_out, yp + kk);
  std::fill(odd, odd + n_odd, T(0));
  for (idx_t b0 = 0; b0 < n_odd; b0 += kBlock) {
    const idx_t b1 = std::min(n_odd, b0 + kBlock);
    for (idx_t k = 0; k < kk; k += 4) {
      const int taps = static_cast<int>(std::min<idx_t>(4, kk - k));
      const T* a[4];
      const T* b[4];
      for (int t = 0; t < taps; ++t) {
        a[t] = yp + kk + (k + t) + 1;  // g[m + k + 1]
        b[t] = yp + kk - (k + t);      // g[m - k]
      }
      accumulate(odd, a, b, f.g.data() + k, taps, b0, b1);
    }
  }
  for (idx_t n = 0; n < n_out; ++n) xbar[2 * n] = f.centre * g[n];
  for (idx_t m = 0; m < n_odd; ++m) xbar[2 * m + 1] = odd[m];
}

std::vector<idx_t> level_lengths(idx_t n, int n_levels) {
  std::vector<idx_t> out;
  for (int l = 0; l < n_levels; ++l) out.push_back(n = (n + 1) / 2);
  return out;
}

template <typename T>
using Array = py::array_t<T, py::array::c_style | py::array::forcecast>;

template <typename T>
std::vector<py::array_t<T>> pyramid(const Array<T>& x, const py::array_t<double, py::array::c_style | py::array::forcecast>& h,
                                    int n_levels, int n_threads) {
  if (x.ndim() != 2) throw py::value_error("x must be 2-D (batch, time)");
  if (n_levels < 0) throw py::value_error("n_levels must be >= 0");
  const HalfBand<T> f = cast_filter<T>(parse_filter(h));
  const idx_t rows = x.shape(0), n = x.shape(1), kk = static_cast<idx_t>(f.g.size());
  const std::vector<idx_t> len = level_lengths(n, n_levels);
  std::vector<py::array_t<T>> out;
  std::vector<T*> dst;
  for (idx_t l : len) {
    out.emplace_back(std::vector<py::ssize_t>{static_cast<py::ssize_t>(rows), static_cast<py::ssize_t>(l)});
    dst.push_back(out.back().mutable_data());
  }
  if (n_levels == 0 || rows == 0) return out;
  const int t = thread_count(rows, n, n_threads);
  std::vector<std::vector<T>> scratch(t, std::vector<T>(static_cast<size_t>(len[0] + 2 * kk + 1)));
  const T* src = x.data();
  {
    py::gil_scoped_release release;
    parallel_rows(rows, t, [&](idx_t r0, idx_t r1, int ti) {
      for (idx_t r = r0; r < r1; ++r) {
        const T* in = src + r * n;
        idx_t n_in = n;
        for (int l = 0; l < n_levels; ++l) {
          T* o = dst[l] + r * len[l];
          halve(in, n_in, o, f, scratch[ti].data());
          in = o;
          n_in = len[l];
        }
      }
    });
  }
  return out;
}

template <typename T>
py::array_t<T> pyramid_adjoint(const std::vector<Array<T>>& grads,
                               const py::array_t<double, py::array::c_style | py::array::forcecast>& h, idx_t length,
                               int n_threads) {
  const int n_levels = static_cast<int>(grads.size());
  if (length < 0) throw py::value_error("length must be >= 0");
  if (n_levels == 0) throw py::value_error("grads must hold at least one level");
  const HalfBand<T> f = cast_filter<T>(parse_filter(h));
  const std::vector<idx_t> len = level_lengths(length, n_levels);
  const idx_t rows = grads[0].ndim() == 2 ? grads[0].shape(0) : -1, kk = static_cast<idx_t>(f.g.size());
  std::vector<const T*> src;
  for (int l = 0; l < n_levels; ++l) {
    if (grads[l].ndim() != 2 || grads[l].shape(0) != rows || grads[l].shape(1) != len[l]) {
      throw py::value_error("grads[" + std::to_string(l) + "] must have shape (batch, " + std::to_string(len[l]) +
                            ") for an input of length " + std::to_string(length));
    }
    src.push_back(grads[l].data());
  }
  py::array_t<T> out(std::vector<py::ssize_t>{static_cast<py::ssize_t>(rows), static_cast<py::ssize_t>(length)});
  T* dst = out.mutable_data();
  if (rows == 0) return out;
  const int t = thread_count(rows, length, n_threads);
  const size_t big = static_cast<size_t>(length + 2 * kk + 2);
  std::vector<std::vector<T>> scratch(t, std::vector<T>(2 * big)), cur(t, std::vector<T>(big)), nxt(t, std::vector<T>(big));
  {
    py::gil_scoped_release release;
    parallel_rows(rows, t, [&](idx_t r0, idx_t r1, int ti) {
      for (idx_t r = r0; r < r1; ++r) {
        T* a = cur[ti].data();
        T* b = nxt[ti].data();
        std::copy(src[n_levels - 1] + r * len[n_levels - 1], src[n_levels - 1] + (r + 1) * len[n_levels - 1], a);
        for (int l = n_levels - 1; l >= 0; --l) {
          const idx_t n_in = l == 0 ? length : len[l - 1];
          T* target = l == 0 ? dst + r * length : b;
          halve_adjoint(a, n_in, target, f, scratch[ti].data());
          if (l > 0) {
            const T* add = src[l - 1] + r * len[l - 1];
            for (idx_t i = 0; i < n_in; ++i) target[i] += add[i];
            std::swap(a, b);
          }
        }
      }
    });
  }
  return out;
}

}  // namespace

void register_frames(py::module_& m);  // frames.cpp

PYBIND11_MODULE(_multirate, m) {
  m.doc() = "Octave pyramid (half-band lowpass + decimate by 2) and its adjoint, for nnaudio_fast's multirate CQT";
  m.def("pyramid_f32", &pyramid<float>, py::arg("x"), py::arg("h"), py::arg("n_levels"), py::arg("n_threads") = 1,
        "Levels 1..n_levels of the pyramid of x (batch, time), float32.");
  m.def("pyramid_f64", &pyramid<double>, py::arg("x"), py::arg("h"), py::arg("n_levels"), py::arg("n_threads") = 1,
        "Levels 1..n_levels of the pyramid of x (batch, time), float64.");
  m.def("pyramid_adjoint_f32", &pyramid_adjoint<float>, py::arg("grads"), py::arg("h"), py::arg("length"),
        py::arg("n_threads") = 1, "Adjoint of pyramid_f32: level cotangents -> input cotangent (batch, length).");
  m.def("pyramid_adjoint_f64", &pyramid_adjoint<double>, py::arg("grads"), py::arg("h"), py::arg("length"),
        py::arg("n_threads") = 1, "Adjoint of pyramid_f64: level cotangents -> input cotangent (batch, length).");
  register_frames(m);
  m.def("pool_workers", &pool_workers,
        "Worker threads in this process's pool (0 before the first multi-threaded call, and in a forked child "
        "before its own first one); calls also compute on the calling thread.");
#ifdef __VERSION__
  m.attr("compiler") = __VERSION__;
#else
  m.attr("compiler") = "unknown";
#endif
}
