// Short spectrograms in one native call: frame -> window -> real FFT -> |X|^p -> filterbank rows over their
// certified support -> log, for problems of a few frames, where a chain of torch operations costs more in per-call
// overhead than in arithmetic (a streaming step, 0.1 s of audio).
//
// Frames. Frame t of a signal x (L samples) reads u[t*hop + n], n = 0..N-1, of the padded signal u with P samples
// of padding in front (P = N/2 with centring, else 0): u[i] = x[j] for j = i - P inside [0, L); outside, by the pad
// mode: constant 0; replicate x[0] / x[L-1]; reflect j -> -j, j -> 2(L-1) - j, repeated until inside (numpy's
// 'reflect' for signals shorter than the pad); circular j mod L. No padded copy is made.
//
// FFT. Mixed-radix decimation in time (Cooley-Tukey 1965; the recursive form with a stride): for n = p*m,
//     X[k + s*m] = sum_{t<p} w_n^{t*k} Y_t[k] * w_p^{t*s},   k < m, s < p,
// where Y_t is the m-point DFT of x[t], x[t+p], x[t+2p], ...; butterflies for p = 2, 3, 4, 5, the plain sum for
// other p. A real frame of even length N is one N/2-point complex FFT of z[n] = u[2n] + i*u[2n+1]:
//     X[k] = (Z[k] + conj Z[N/2-k]) / 2 - i/2 * w_N^k (Z[k] - conj Z[N/2-k]),   k = 0..N/2,   Z[N/2] = Z[0];
// an odd N takes the N-point complex FFT. Everything is computed in double (float32 inputs and outputs too): the
// error is far below float32's rounding of the result.
//
// Filterbank. Row m is nonzero only on columns [lo_m, hi_m) (the caller's certificate, a mel filter's support);
// S[m, t] = sum_{k in [lo_m, hi_m)} W[m, k] |X[k, t]|^p. Then c * ln(max(S, amin)) with a log scale c != 0.
// No libtorch: NumPy buffers through pybind11, the GIL released while computing. Each example and frame is
// computed by the same code whatever the batch, so results do not depend on it.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <exception>
#include <system_error>
#include <thread>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace py = pybind11;
using idx_t = std::int64_t;
using cplx = std::complex<double>;

namespace {

constexpr double kPi = 3.14159265358979323846264338327950288;
// framed samples per thread below which a call does not start another thread
constexpr idx_t kThreadWork = idx_t(1) << 14;

// a*b without the C99 Annex G NaN recovery (__muldc3) that operator* calls: the inputs here are finite
inline cplx mul(const cplx& a, const cplx& b) {
  return cplx(a.real() * b.real() - a.imag() * b.imag(), a.real() * b.imag() + a.imag() * b.real());
}

// ---------------------------------------------------------------------------------------------------------------
// complex FFT plan
// ---------------------------------------------------------------------------------------------------------------
struct FFTPlan {
  idx_t n = 0;
  std::vector<idx_t> radices;  // n = radices[0] * radices[1] * ...
  std::vector<cplx> w;         // w[j] = exp(-2 pi i j / n)
  std::vector<cplx> half;      // half[k] = exp(-pi i k / n), k = 0..n: a 2n-point real FFT's unpacking
  // per level: tw[level][k*(p-1) + t-1] = w_size^{t*k} (t = 1..p-1, k < m), read in order by the butterflies
  std::vector<std::vector<cplx>> tw;
  explicit FFTPlan(idx_t size) : n(size), w(static_cast<size_t>(size)), half(static_cast<size_t>(size + 1)) {
    for (idx_t j = 0; j < n; ++j) w[j] = std::polar(1.0, -2.0 * kPi * static_cast<double>(j) / static_cast<double>(n));
    for (idx_t k = 0; k <= n; ++k) half[k] = std::polar(1.0, -kPi * static_cast<double>(k) / static_cast<double>(n));
    idx_t rest = n;
    for (idx_t p : {4, 2, 3, 5}) {
      while (rest % p == 0 && rest > 1) {
        radices.push_back(p);
        rest /= p;
      }
    }
    for (idx_t p = 7; rest > 1; p += 2) {
      while (rest % p == 0) {
        radices.push_back(p);
        rest /= p;
      }
      if (p * p > rest && rest > 1) {
        radices.push_back(rest);
        rest = 1;
      }
    }
    idx_t fstride = 1;
    for (idx_t p : radices) {
      const idx_t m = n / fstride / p;
      std::vector<cplx> table(static_cast<size_t>(m * (p - 1)));
      for (idx_t k = 0; k < m; ++k)
        for (idx_t t = 1; t < p; ++t) table[k * (p - 1) + t - 1] = w[t * k * fstride];
      tw.push_back(std::move(table));
      fstride *= p;
    }
  }

  // out[0..n) = DFT of in[0], in[stride], ..., by the radices from `level` on; `fstride` = plan.n / (this size).
  void run(const cplx* in, idx_t stride, cplx* out, size_t level, idx_t fstride, std::vector<cplx>& scratch) const {
    const idx_t size = n / fstride;
    if (size == 1) {
      out[0] = in[0];
      return;
    }
    const idx_t p = radices[level];
    const idx_t m = size / p;
    if (m == 1) {  // the last radix: its DFTs of length 1 are the inputs themselves
      for (idx_t t = 0; t < p; ++t) out[t] = in[t * stride];
    } else {
      for (idx_t t = 0; t < p; ++t) run(in + t * stride, stride * p, out + t * m, level + 1, fstride * p, scratch);
    }
    combine(out, p, m, fstride, tw[level].data(), scratch);
  }

  void combine(cplx* out, idx_t p, idx_t m, idx_t fstride, const cplx* tk, std::vector<cplx>& scratch) const {
    // out[t*m + k] holds Y_t[k]; replaced by X[k + s*m]
    if (p == 2) {
      for (idx_t k = 0; k < m; ++k) {
        const cplx a = out[k], b = mul(out[k + m], tk[k]);
        out[k] = a + b;
        out[k + m] = a - b;
      }
      return;
    }
    if (p == 4) {
      for (idx_t k = 0; k < m; ++k) {
        const cplx* t3 = tk + 3 * k;
        const cplx a0 = out[k], a1 = mul(out[k + m], t3[0]), a2 = mul(out[k + 2 * m], t3[1]),
                   a3 = mul(out[k + 3 * m], t3[2]);
        const cplx s02 = a0 + a2, d02 = a0 - a2, s13 = a1 + a3, d13 = a1 - a3;
        const cplx jd13(d13.imag(), -d13.real());  // -i * d13
        out[k] = s02 + s13;
        out[k + m] = d02 + jd13;
        out[k + 2 * m] = s02 - s13;
        out[k + 3 * m] = d02 - jd13;
      }
      return;
    }
    if (p == 3) {
      const double c = -0.5, s = -std::sqrt(3.0) / 2.0;  // w_3 = c + i s
      for (idx_t k = 0; k < m; ++k) {
        const cplx a0 = out[k], a1 = mul(out[k + m], tk[2 * k]), a2 = mul(out[k + 2 * m], tk[2 * k + 1]);
        const cplx sum = a1 + a2, dif = a1 - a2;
        const cplx mid = a0 + c * sum, rot(-s * dif.imag(), s * dif.real());  // i * s * dif
        out[k] = a0 + sum;
        out[k + m] = mid + rot;
        out[k + 2 * m] = mid - rot;
      }
      return;
    }
    if (p == 5) {
      const double c1 = std::cos(2 * kPi / 5), c2 = std::cos(4 * kPi / 5);
      const double s1 = -std::sin(2 * kPi / 5), s2 = -std::sin(4 * kPi / 5);  // w_5^j = c_j + i s_j
      for (idx_t k = 0; k < m; ++k) {
        const cplx* t4 = tk + 4 * k;
        const cplx a0 = out[k], a1 = mul(out[k + m], t4[0]), a2 = mul(out[k + 2 * m], t4[1]),
                   a3 = mul(out[k + 3 * m], t4[2]), a4 = mul(out[k + 4 * m], t4[3]);
        const cplx p14 = a1 + a4, m14 = a1 - a4, p23 = a2 + a3, m23 = a2 - a3;
        const cplx r1 = a0 + c1 * p14 + c2 * p23, r2 = a0 + c2 * p14 + c1 * p23;
        const cplx q1 = s1 * m14 + s2 * m23, q2 = s2 * m14 - s1 * m23;  // X_s = r_s + i q_s, X_{5-s} = r_s - i q_s
        const cplx iq1(-q1.imag(), q1.real()), iq2(-q2.imag(), q2.real());
        out[k] = a0 + p14 + p23;
        out[k + m] = r1 + iq1;
        out[k + 4 * m] = r1 - iq1;
        out[k + 2 * m] = r2 + iq2;
        out[k + 3 * m] = r2 - iq2;
      }
      return;
    }
    scratch.resize(static_cast<size_t>(p));
    const idx_t root = m * fstride;  // w_p = w[root]
    for (idx_t k = 0; k < m; ++k) {
      scratch[0] = out[k];
      for (idx_t t = 1; t < p; ++t) scratch[t] = mul(out[k + t * m], tk[k * (p - 1) + t - 1]);
      for (idx_t s = 0; s < p; ++s) {
        cplx acc = scratch[0];
        for (idx_t t = 1; t < p; ++t) acc += mul(scratch[t], w[((t * s) % p) * root]);
        out[k + s * m] = acc;
      }
    }
  }
};

const FFTPlan& plan_for(idx_t n) {
  static std::mutex lock;
  static std::map<idx_t, std::unique_ptr<FFTPlan>> plans;
  std::lock_guard<std::mutex> guard(lock);
  auto& slot = plans[n];
  if (!slot) slot = std::make_unique<FFTPlan>(n);
  return *slot;
}

// ---------------------------------------------------------------------------------------------------------------
// frames
// ---------------------------------------------------------------------------------------------------------------
enum PadMode { kConstant = 0, kReflect = 1, kReplicate = 2, kCircular = 3 };

inline idx_t source_index(idx_t j, idx_t length, int mode) {  // -1: a zero
  if (j >= 0 && j < length) return j;
  switch (mode) {
    case kReplicate:
      return j < 0 ? 0 : length - 1;
    case kCircular:
      return ((j % length) + length) % length;
    case kReflect:
      if (length == 1) return 0;
      while (j < 0 || j >= length) j = j < 0 ? -j : 2 * (length - 1) - j;
      return j;
    default:
      return -1;
  }
}

template <typename T>
py::array_t<T> spectrogram_frames(py::array_t<T, py::array::c_style | py::array::forcecast> x,
                                  py::array_t<double, py::array::c_style | py::array::forcecast> window, idx_t hop,
                                  idx_t lead, int pad_mode, idx_t n_frames,
                                  py::array_t<idx_t, py::array::c_style | py::array::forcecast> spans,
                                  py::array_t<double, py::array::c_style | py::array::forcecast> weights,
                                  bool filtered, double power, double log_scale, double amin, int n_threads) {
  if (x.ndim() != 2) throw py::value_error("x has " + std::to_string(x.ndim()) + " dimensions; pass (batch, time)");
  if (window.ndim() != 1 || window.shape(0) < 1) throw py::value_error("window must be a non-empty 1-D array");
  if (hop < 1 || n_frames < 0)
    throw py::value_error("hop=" + std::to_string(hop) + " and n_frames=" + std::to_string(n_frames) +
                          ": hop must be >= 1 and n_frames >= 0 (is the signal shorter than a frame?)");
  const idx_t batch = x.shape(0), length = x.shape(1), n_fft = window.shape(0), n_bins = n_fft / 2 + 1;
  if (length < 1 && pad_mode != kConstant) throw py::value_error("an empty signal can only be constant-padded");
  if (filtered && (spans.ndim() != 2 || spans.shape(1) != 2))
    throw py::value_error("spans must be (rows, 2): each row's [lo, hi) column span");
  const idx_t rows = filtered ? spans.shape(0) : n_bins;
  std::vector<idx_t> offset(static_cast<size_t>(rows + 1), 0);
  if (filtered) {
    const idx_t* sp = spans.data();
    for (idx_t r = 0; r < rows; ++r) {
      const idx_t lo = sp[2 * r], hi = sp[2 * r + 1];
      if (lo < 0 || hi > n_bins || hi < lo)
        throw py::value_error("row " + std::to_string(r) + "'s span [" + std::to_string(lo) + ", " +
                              std::to_string(hi) + ") lies outside the " + std::to_string(n_bins) + " bins");
      offset[r + 1] = offset[r] + (hi - lo);
    }
    if (weights.size() != offset[rows]) throw py::value_error("weights must hold each row's span, concatenated");
  }
  py::array_t<T> out({batch, rows, n_frames});
  const T* xs = x.data();
  const double* win = window.data();
  const idx_t* sp = spans.data();
  const double* wt = weights.data();
  T* o = out.mutable_data();
  {
    py::gil_scoped_release release;
    const bool even = n_fft % 2 == 0;
    const idx_t fft_n = even ? n_fft / 2 : n_fft;
    const FFTPlan& plan = plan_for(fft_n);
    const double half_power = power / 2.0;
    auto examples = [&](idx_t b0, idx_t b1) {  // examples [b0, b1), with buffers of their own
      std::vector<cplx> z(static_cast<size_t>(fft_n)), spec(static_cast<size_t>(fft_n)), scratch;
      std::vector<double> frame(static_cast<size_t>(n_fft)), pw(static_cast<size_t>(n_bins));
      for (idx_t b = b0; b < b1; ++b) {
        const T* row = xs + b * length;
        for (idx_t t = 0; t < n_frames; ++t) {
          const idx_t start = t * hop + lead;
          if (start >= 0 && start + n_fft <= length) {
            for (idx_t i = 0; i < n_fft; ++i) frame[i] = win[i] * static_cast<double>(row[start + i]);
          } else {
            for (idx_t i = 0; i < n_fft; ++i) {
              const idx_t j = source_index(start + i, length, pad_mode);
              frame[i] = j < 0 ? 0.0 : win[i] * static_cast<double>(row[j]);
            }
          }
          if (even) {
            for (idx_t i = 0; i < fft_n; ++i) z[i] = cplx(frame[2 * i], frame[2 * i + 1]);
            plan.run(z.data(), 1, spec.data(), 0, 1, scratch);
            const idx_t h = fft_n;
            for (idx_t k = 0; k <= h; ++k) {
              const cplx zk = spec[k % h], zc = std::conj(spec[(h - k) % h]);
              const cplx e = 0.5 * (zk + zc), d = 0.5 * (zk - zc);
              const cplx od = mul(plan.half[k], d);
              const cplx xk = e + cplx(od.imag(), -od.real());  // e - i * tw * d
              pw[k] = std::norm(xk);
            }
          } else {
            for (idx_t i = 0; i < n_fft; ++i) z[i] = cplx(frame[i], 0.0);
            plan.run(z.data(), 1, spec.data(), 0, 1, scratch);
            for (idx_t k = 0; k < n_bins; ++k) pw[k] = std::norm(spec[k]);
          }
          if (power == 1.0) {
            for (idx_t k = 0; k < n_bins; ++k) pw[k] = std::sqrt(pw[k]);
          } else if (power != 2.0) {
            for (idx_t k = 0; k < n_bins; ++k) pw[k] = std::pow(pw[k], half_power);
          }
          T* dst = o + b * rows * n_frames + t;
          for (idx_t r = 0; r < rows; ++r) {
            double v;
            if (filtered) {
              v = 0.0;
              const double* wr = wt + offset[r];
              for (idx_t k = sp[2 * r], i = 0; k < sp[2 * r + 1]; ++k, ++i) v += wr[i] * pw[k];
            } else {
              v = pw[r];
            }
            if (log_scale != 0.0) v = log_scale * std::log(v > amin ? v : amin);
            dst[r * n_frames] = static_cast<T>(v);
          }
        }
      }
    };
    // Examples split over threads (each computed by the same code: results do not depend on the split); only when
    // there is enough work to pay for starting a thread (about 20-50 us).
    const idx_t work = batch * n_frames * n_fft;
    const idx_t threads =
        std::max<idx_t>(1, std::min<idx_t>({static_cast<idx_t>(n_threads), batch, work / kThreadWork}));
    if (threads == 1) {
      examples(0, batch);
    } else {
      std::vector<std::thread> pool;
      std::exception_ptr failure;
      std::mutex failure_lock;
      for (idx_t k = 1; k < threads; ++k) {
        const idx_t b0 = batch * k / threads, b1 = batch * (k + 1) / threads;
        try {
          pool.emplace_back([&, b0, b1] {
            try {
              examples(b0, b1);
            } catch (...) {
              std::lock_guard<std::mutex> guard(failure_lock);
              failure = std::current_exception();
            }
          });
        } catch (const std::system_error&) {  // no thread to be had: this one computes those examples too
          examples(b0, b1);
        }
      }
      examples(0, batch / threads);
      for (auto& th : pool) th.join();
      if (failure) std::rethrow_exception(failure);
    }
  }
  return out;
}

py::array_t<double> fft(py::array_t<double, py::array::c_style | py::array::forcecast> re,
                        py::array_t<double, py::array::c_style | py::array::forcecast> im) {
  if (re.ndim() != 1 || im.ndim() != 1 || re.shape(0) != im.shape(0) || re.shape(0) < 1)
    throw py::value_error("re and im must be equal-length non-empty 1-D arrays");
  const idx_t n = re.shape(0);
  std::vector<cplx> in(static_cast<size_t>(n)), res(static_cast<size_t>(n)), scratch;
  for (idx_t i = 0; i < n; ++i) in[i] = cplx(re.data()[i], im.data()[i]);
  plan_for(n).run(in.data(), 1, res.data(), 0, 1, scratch);
  py::array_t<double> out({n, idx_t(2)});
  for (idx_t i = 0; i < n; ++i) {
    out.mutable_data()[2 * i] = res[i].real();
    out.mutable_data()[2 * i + 1] = res[i].imag();
  }
  return out;
}

}  // namespace

void register_frames(py::module_& m) {
  m.def("spectrogram_frames_f32", &spectrogram_frames<float>, py::arg("x"), py::arg("window"), py::arg("hop"),
        py::arg("lead"), py::arg("pad_mode"), py::arg("n_frames"), py::arg("spans"), py::arg("weights"),
        py::arg("filtered"), py::arg("power"), py::arg("log_scale"), py::arg("amin"), py::arg("n_threads") = 1,
        "Frames t = 0..n_frames-1 of x (batch, time) starting at t*hop + lead (pad_mode outside the signal): "
        "window, real FFT, |X|^power, the filterbank rows over their spans (filtered=False: the power spectrum), "
        "log_scale * ln(max(., amin)) if log_scale != 0; examples split over up to n_threads threads. Returns "
        "(batch, rows, n_frames), float32.");
  m.def("spectrogram_frames_f64", &spectrogram_frames<double>, py::arg("x"), py::arg("window"), py::arg("hop"),
        py::arg("lead"), py::arg("pad_mode"), py::arg("n_frames"), py::arg("spans"), py::arg("weights"),
        py::arg("filtered"), py::arg("power"), py::arg("log_scale"), py::arg("amin"), py::arg("n_threads") = 1,
        "As spectrogram_frames_f32, float64.");
  m.def("fft", &fft, py::arg("re"), py::arg("im"), "The complex DFT of re + i im (n, 2): the FFT the frames use.");
}
