// Spectrograms in one native call: frame -> window -> real FFT -> |X|^p -> filterbank rows over their certified
// support -> log, frame by frame, with no intermediate the size of the spectrogram (peak memory is the output).
//
// Frames. Frame t of a signal x (L samples) reads u[t*hop + n], n = 0..N-1, of the padded signal u with P samples
// of padding in front (P = N/2 with centring, else 0): u[i] = x[j] for j = i - P inside [0, L); outside, by the pad
// mode: constant 0; replicate x[0] / x[L-1]; reflect j -> -j, j -> 2(L-1) - j, repeated until inside (numpy's
// 'reflect' for signals shorter than the pad); circular j mod L. No padded copy is made.
//
// Lanes. Frames are computed kLanes at a time (8 in float32, 4 in float64: one 256-bit vector), consecutive frames
// of one example side by side: every operation below is the same for each lane, so a loop over the lanes is one
// vector operation and a frame's result does not depend on its lane, on the other frames or on the batch. Element
// j of a lane buffer holds its lanes' real parts at [2*kLanes*j, +kLanes) and their imaginary parts after them.
//
// FFT. Mixed-radix decimation in frequency, self-sorting (Stockham; Van Loan, "Computational Frameworks for the
// Fast Fourier Transform", 1992, sec. 1.7). For n = p*m and j < m, u < p,
//     X[u + p*k] = sum_{j<m} w_m^{j*k} y_u[j],   y_u[j] = w_n^{j*u} sum_{t<p} x[j + t*m] w_p^{t*u},
// so one pass makes the p sequences y_u (an m-point DFT each) and the next pass transforms them. With s interleaved
// subproblems (s = the product of the radices already applied) subproblem q's element i lies at q + s*i; a pass
// writes y_u[j] of subproblem q to q + s*(p*j + u), which is element j of subproblem q + s*u at the next stride
// s*p, and after the last pass X[k] lies at k. Butterflies for p = 2, 3, 4, 5, the plain sum for other p.
// A real frame of even length N is one N/2-point complex FFT of z[n] = u[2n] + i*u[2n+1]:
//     X[k] = (Z[k] + conj Z[N/2-k]) / 2 - i/2 * w_N^k (Z[k] - conj Z[N/2-k]),   k = 0..N/2,   Z[N/2] = Z[0];
// an odd N takes the N-point complex FFT. Arithmetic is in the signal's precision (twiddles computed in double):
// float32 results are within a few float32 roundings of the float64 transform, as torch.fft's are.
//
// Filterbank. Row m is nonzero only on columns [lo_m, hi_m) (the caller's certificate, a mel filter's support);
// S[m, t] = sum_{k in [lo_m, hi_m)} W[m, k] |X[k, t]|^p. Then c * ln(max(S, amin)) with a log scale c != 0 (in
// float32 by a logarithm of our own that vectorises: x = 2^e * r with r in [1/sqrt2, sqrt2), ln r = 2 atanh(s) with
// s = (r - 1)/(r + 1), |s| < 0.1716, by its series to s^9, whose truncation is below 1e-9 relative; with float32's
// rounding within 3 ulp of ln x over every positive normal float32, measured against the double logarithm).
// No libtorch: NumPy buffers through pybind11, the GIL released while computing; frame groups split over the
// extension's worker pool (pool.h; each group computed by the same code whatever the split).

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pool.h"

namespace py = pybind11;
using idx_t = std::int64_t;

// The hot loops get a second, AVX2 build chosen at load time where the compiler and platform support it (GCC's
// function multiversioning; -DNNAF_NO_CLONES: the baseline only). Multiply-adds are not fused in either, so both
// builds (and every lane width) give the same bits.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && !defined(NNAF_NO_CLONES)
#define NNAF_CLONES __attribute__((target_clones("arch=x86-64-v3", "default"), optimize("fp-contract=off")))
#else
#define NNAF_CLONES
#endif
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wpsabi"  // 256-bit vectors pass between inlined functions only
#define NNAF_INLINE inline __attribute__((always_inline))
#else
#define NNAF_INLINE inline
#endif

namespace {

constexpr double kPi = 3.14159265358979323846264338327950288;
// framed samples per thread below which a call does not hand work to another thread
constexpr idx_t kThreadWork = idx_t(1) << 16;

// ---------------------------------------------------------------------------------------------------------------
// lanes: Vec<T, N> holds N values, one per frame; + - * act lane by lane (a scalar operand is broadcast)
// ---------------------------------------------------------------------------------------------------------------
template <typename T>
constexpr int kLanes = 32 / static_cast<int>(sizeof(T));  // one 256-bit vector

#if defined(__GNUC__) && !defined(NNAF_PORTABLE_LANES)
template <typename T, int N>
struct LaneType {
  typedef T type __attribute__((vector_size(N * sizeof(T))));  // GCC/Clang vector extension
};
template <typename T, int N = kLanes<T>>
using Vec = typename LaneType<T, N>::type;
#else
template <typename T, int N = kLanes<T>>
struct Vec {  // the same operations on an array (compilers without the vector extension)
  T x[N];
  T& operator[](int i) { return x[i]; }
  const T& operator[](int i) const { return x[i]; }
#define NNAF_LANEWISE(op)                                                                        \
  friend Vec operator op(Vec a, const Vec& b) {                                                  \
    for (int i = 0; i < N; ++i) a.x[i] = a.x[i] op b.x[i];                                       \
    return a;                                                                                    \
  }                                                                                              \
  friend Vec operator op(Vec a, T b) {                                                           \
    for (int i = 0; i < N; ++i) a.x[i] = a.x[i] op b;                                            \
    return a;                                                                                    \
  }                                                                                              \
  friend Vec operator op(T a, Vec b) {                                                           \
    for (int i = 0; i < N; ++i) b.x[i] = a op b.x[i];                                            \
    return b;                                                                                    \
  }
  NNAF_LANEWISE(+)
  NNAF_LANEWISE(-)
  NNAF_LANEWISE(*)
#undef NNAF_LANEWISE
};
#endif

// n zeroed vectors on a cache line (std::vector's allocator need not honour an alignment above 16, and the
// vector extension's types may report less than the 32 bytes the AVX build's aligned loads require)
constexpr size_t kLaneAlign = 64;
template <typename V>
struct LaneBuffer {
  std::vector<unsigned char> bytes;
  V* data;
  LaneBuffer(const LaneBuffer&) = delete;  // data points into bytes
  LaneBuffer& operator=(const LaneBuffer&) = delete;
  explicit LaneBuffer(size_t n) : bytes(n * sizeof(V) + kLaneAlign) {
    void* p = bytes.data();
    size_t space = bytes.size();
    data = static_cast<V*>(std::align(kLaneAlign, n * sizeof(V), p, space));
  }
};

template <typename T, int N>
NNAF_INLINE Vec<T, N> splat(T v) {
  Vec<T, N> out{};
  for (int l = 0; l < N; ++l) out[l] = v;
  return out;
}

// max(v, lo) lane by lane, NaN lanes kept (as torch.clamp keeps them)
template <typename T, int N>
NNAF_INLINE Vec<T, N> floor_at(Vec<T, N> v, const Vec<T, N>& lo) {
#if defined(__GNUC__) && !defined(NNAF_PORTABLE_LANES)
  return v < lo ? lo : v;
#else
  for (int l = 0; l < N; ++l) v[l] = v[l] < lo[l] ? lo[l] : v[l];
  return v;
#endif
}

// ---------------------------------------------------------------------------------------------------------------
// FFT plan: n-point complex DFT of kLanes sequences at once
// ---------------------------------------------------------------------------------------------------------------
template <typename T>
struct FFTPlan {
  idx_t n = 0;
  std::vector<idx_t> radices;        // n = radices[0] * radices[1] * ...
  idx_t max_radix = 1;
  std::vector<std::vector<T>> tw;    // per pass: (re, im) of w_{n/s}^{j*u} at 2*((p-1)*j + u-1), j < m, u = 1..p-1
  std::vector<std::vector<T>> root;  // per pass: (re, im) of w_p^r at 2*r, r < p (used for p > 5)
  std::vector<T> unpack;             // (re, im) of exp(-pi i k / n) at 2*k, k = 0..n: a 2n-point real FFT's unpacking
  explicit FFTPlan(idx_t size) : n(size), unpack(static_cast<size_t>(2 * (size + 1))) {
    auto w = [&](idx_t num, idx_t den, T* out) {  // exp(-2 pi i num / den)
      const double a = -2.0 * kPi * static_cast<double>(num % den) / static_cast<double>(den);
      out[0] = static_cast<T>(std::cos(a));
      out[1] = static_cast<T>(std::sin(a));
    };
    for (idx_t k = 0; k <= n; ++k) w(k, 2 * n, &unpack[2 * k]);
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
    if (!radices.empty()) max_radix = *std::max_element(radices.begin(), radices.end());
    idx_t len = n;
    for (idx_t p : radices) {
      const idx_t m = len / p;
      std::vector<T> table(static_cast<size_t>(2 * m * (p - 1)));
      for (idx_t j = 0; j < m; ++j)
        for (idx_t u = 1; u < p; ++u) w(j * u, len, &table[2 * ((p - 1) * j + u - 1)]);
      tw.push_back(std::move(table));
      std::vector<T> roots(static_cast<size_t>(2 * p));
      for (idx_t r = 0; r < p; ++r) w(r, p, &roots[2 * r]);
      root.push_back(std::move(roots));
      len = m;
    }
  }
};

template <typename T>
const FFTPlan<T>& plan_for(idx_t n) {
  static std::mutex lock;
  static std::map<idx_t, std::unique_ptr<FFTPlan<T>>> plans;
  std::lock_guard<std::mutex> guard(lock);
  auto& slot = plans[n];
  if (!slot) slot = std::make_unique<FFTPlan<T>>(n);
  return *slot;
}

// d[0], d[1] = (br + i bi) * (wr + i wi)
template <typename V, typename T>
NNAF_INLINE void store_turned(V* d, const V& br, const V& bi, T wr, T wi) {
  d[0] = br * wr - bi * wi;
  d[1] = br * wi + bi * wr;
}

// One pass of radix p over lane buffers (element e: real lanes at [2e], imaginary at [2e + 1]): src holds s
// interleaved subproblems of length p*m; dst receives them as s*p subproblems of length m (see the file's
// comment). `scratch` holds 2*p vectors (p > 5 only).
template <typename T, typename V>
NNAF_INLINE void fft_pass(const V* __restrict src, V* __restrict dst, idx_t p, idx_t m, idx_t s,
                          const T* __restrict tw, const T* __restrict root, V* __restrict scratch) {
  const idx_t in = 2 * s * m, out = 2 * s;  // t -> t+1 in src, u -> u+1 in dst
  for (idx_t j = 0; j < m; ++j) {
    const T* w = tw + 2 * (p - 1) * j;
    for (idx_t q = 0; q < s; ++q) {
      const V* a = src + 2 * (q + s * j);
      V* d = dst + 2 * (q + s * p * j);
      if (p == 4) {
        const V s02r = a[0] + a[2 * in], s02i = a[1] + a[2 * in + 1];
        const V d02r = a[0] - a[2 * in], d02i = a[1] - a[2 * in + 1];
        const V s13r = a[in] + a[3 * in], s13i = a[in + 1] + a[3 * in + 1];
        const V d13r = a[in] - a[3 * in], d13i = a[in + 1] - a[3 * in + 1];
        d[0] = s02r + s13r;
        d[1] = s02i + s13i;
        store_turned(d + out, d02r + d13i, d02i - d13r, w[0], w[1]);  // b1 = d02 - i d13
        store_turned(d + 2 * out, s02r - s13r, s02i - s13i, w[2], w[3]);  // b2 = s02 - s13
        store_turned(d + 3 * out, d02r - d13i, d02i + d13r, w[4], w[5]);  // b3 = d02 + i d13
      } else if (p == 2) {
        d[0] = a[0] + a[in];
        d[1] = a[1] + a[in + 1];
        store_turned(d + out, a[0] - a[in], a[1] - a[in + 1], w[0], w[1]);
      } else if (p == 3) {
        const T c = T(-0.5), sn = static_cast<T>(-0.86602540378443864676);  // w_3 = c + i sn
        const V sr = a[in] + a[2 * in], si = a[in + 1] + a[2 * in + 1];
        const V dr = a[in] - a[2 * in], di = a[in + 1] - a[2 * in + 1];
        const V mr = a[0] + c * sr, mi = a[1] + c * si, rr = di * (-sn), ri = dr * sn;  // rot = i sn (a1 - a2)
        d[0] = a[0] + sr;
        d[1] = a[1] + si;
        store_turned(d + out, mr + rr, mi + ri, w[0], w[1]);
        store_turned(d + 2 * out, mr - rr, mi - ri, w[2], w[3]);
      } else if (p == 5) {
        const T c1 = static_cast<T>(0.30901699437494742410), c2 = static_cast<T>(-0.80901699437494742410);
        const T s1 = static_cast<T>(-0.95105651629515357212), s2 = static_cast<T>(-0.58778525229247312917);
        // w_5^j = c_j + i s_j; b1, b4 = r1 +- i q1 and b2, b3 = r2 +- i q2 (with complex r, q)
        const V p14r = a[in] + a[4 * in], p14i = a[in + 1] + a[4 * in + 1];
        const V m14r = a[in] - a[4 * in], m14i = a[in + 1] - a[4 * in + 1];
        const V p23r = a[2 * in] + a[3 * in], p23i = a[2 * in + 1] + a[3 * in + 1];
        const V m23r = a[2 * in] - a[3 * in], m23i = a[2 * in + 1] - a[3 * in + 1];
        const V r1r = a[0] + c1 * p14r + c2 * p23r, r1i = a[1] + c1 * p14i + c2 * p23i;
        const V r2r = a[0] + c2 * p14r + c1 * p23r, r2i = a[1] + c2 * p14i + c1 * p23i;
        const V q1r = s1 * m14r + s2 * m23r, q1i = s1 * m14i + s2 * m23i;
        const V q2r = s2 * m14r - s1 * m23r, q2i = s2 * m14i - s1 * m23i;
        d[0] = a[0] + p14r + p23r;
        d[1] = a[1] + p14i + p23i;
        store_turned(d + out, r1r - q1i, r1i + q1r, w[0], w[1]);          // b1 = r1 + i q1
        store_turned(d + 2 * out, r2r - q2i, r2i + q2r, w[2], w[3]);      // b2 = r2 + i q2
        store_turned(d + 3 * out, r2r + q2i, r2i - q2r, w[4], w[5]);      // b3 = r2 - i q2
        store_turned(d + 4 * out, r1r + q1i, r1i - q1r, w[6], w[7]);      // b4 = r1 - i q1
      } else {
        for (idx_t t = 0; t < p; ++t) scratch[2 * t] = a[t * in], scratch[2 * t + 1] = a[t * in + 1];
        for (idx_t u = 0; u < p; ++u) {
          V accr = scratch[0], acci = scratch[1];
          for (idx_t t = 1; t < p; ++t) {
            const T* r = root + 2 * ((t * u) % p);
            accr = accr + scratch[2 * t] * r[0] - scratch[2 * t + 1] * r[1];
            acci = acci + scratch[2 * t] * r[1] + scratch[2 * t + 1] * r[0];
          }
          if (u == 0)
            d[0] = accr, d[1] = acci;
          else
            store_turned(d + u * out, accr, acci, w[2 * (u - 1)], w[2 * (u - 1) + 1]);
        }
      }
    }
  }
}

// The DFT of the lane buffer `a` (plan.n elements); returns the buffer holding it (a or b).
template <typename T, typename V>
NNAF_INLINE V* fft_lanes(const FFTPlan<T>& plan, V* a, V* b, V* scratch) {
  idx_t len = plan.n, s = 1;
  for (size_t k = 0; k < plan.radices.size(); ++k) {
    const idx_t p = plan.radices[k], m = len / p;
    fft_pass<T, V>(a, b, p, m, s, plan.tw[k].data(), plan.root[k].data(), scratch);
    std::swap(a, b);
    len = m;
    s *= p;
  }
  return a;
}

// ---------------------------------------------------------------------------------------------------------------
// logarithm of lanes (see the file's comment); inf and NaN lanes are returned as they are
// ---------------------------------------------------------------------------------------------------------------
#if defined(__GNUC__) && !defined(NNAF_PORTABLE_LANES)
template <int N>
NNAF_INLINE Vec<float, N> log_lanes(Vec<float, N> v) {  // lanes positive normal floats, inf or NaN
  typedef std::int32_t VI __attribute__((vector_size(4 * N)));
  const VI bits = (VI)v;  // a vector cast keeps the bits
  VI e = (bits >> 23) - 127;
  Vec<float, N> r = (Vec<float, N>)((bits & 0x7fffff) | 0x3f800000);  // [1, 2)
  const VI big = r > 1.41421356f;  // -1 where true
  r = big ? r * 0.5f : r;
  e -= big;
  const Vec<float, N> s = (r - 1.0f) / (r + 1.0f), s2 = s * s;
  const Vec<float, N> series =
      2.0f * s * (1.0f + s2 * (1.0f / 3 + s2 * (1.0f / 5 + s2 * (1.0f / 7 + s2 * (1.0f / 9)))));
  const Vec<float, N> fe = __builtin_convertvector(e, Vec<float, N>);
  const Vec<float, N> out = fe * 0.693145751953125f + (fe * 1.428606765330187e-06f + series);  // ln 2 = hi + lo
  return v <= FLT_MAX ? out : v;
}
#else
template <int N>
NNAF_INLINE Vec<float, N> log_lanes(Vec<float, N> v) {
  for (int l = 0; l < N; ++l) v[l] = std::log(v[l]);
  return v;
}
#endif
template <int N>
NNAF_INLINE Vec<double, N> log_lanes(Vec<double, N> v) {
  for (int l = 0; l < N; ++l) v[l] = std::log(v[l]);
  return v;
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
    case kReflect: {  // the reflected extension has period 2(L - 1)
      if (length == 1) return 0;
      const idx_t period = 2 * (length - 1);
      j = ((j % period) + period) % period;
      return j < length ? j : period - j;
    }
    default:
      return -1;
  }
}

template <typename T>
struct Job {
  const T* x;
  idx_t length, n_fft, hop, lead, n_frames, rows, n_bins;
  int pad_mode;
  const T* window;
  bool filtered;
  const idx_t* spans;
  const idx_t* offset;
  const T* weights;
  double power;
  T log_scale, amin;
  bool logged;    // log_scale != 0 (decided in double)
  bool fast_log;  // amin is a normal float32: log_lanes applies
  const FFTPlan<T>* plan;
  T* out;
  idx_t groups;  // lane groups per example
};

// A frame group's buffers, for N lanes.
template <typename T, int N>
struct Lanes {
  LaneBuffer<Vec<T, N>> a, b, power, scratch;
  Lanes(const Job<T>& job)
      : a(static_cast<size_t>(2 * job.plan->n)), b(static_cast<size_t>(2 * job.plan->n)),
        power(static_cast<size_t>(job.n_bins)), scratch(static_cast<size_t>(2 * job.plan->max_radix)) {}
};

// Frames t0 .. t0 + valid - 1 (valid <= N) of example b, one per lane (lanes past them compute zeros).
template <typename T, int N>
NNAF_INLINE void frame_group(const Job<T>& job, Lanes<T, N>& buf, idx_t b, idx_t t0, int valid) {
  using V = Vec<T, N>;
  const idx_t n_fft = job.n_fft, n_bins = job.n_bins, fft_n = job.plan->n;
  const bool even = n_fft % 2 == 0;
  const T* win = job.window;
  const T* unpack = job.plan->unpack.data();
  const T* row = job.x + b * job.length;
  V* a = buf.a.data;
  // gather: lane l is frame t0 + l
  for (int l = 0; l < N; ++l) {
    const idx_t start = (t0 + l) * job.hop + job.lead;
    if (l >= valid) {
      for (idx_t i = 0; i < 2 * fft_n; ++i) a[i][l] = T(0);
    } else if (start >= 0 && start + n_fft <= job.length) {
      const T* src = row + start;
      if (even) {
        for (idx_t i = 0; i < n_fft; ++i) a[i][l] = win[i] * src[i];
      } else {
        for (idx_t i = 0; i < n_fft; ++i) a[2 * i][l] = win[i] * src[i], a[2 * i + 1][l] = T(0);
      }
    } else {
      for (idx_t i = 0; i < n_fft; ++i) {
        const idx_t j = source_index(start + i, job.length, job.pad_mode);
        const T v = j < 0 ? T(0) : win[i] * row[j];
        if (even)
          a[i][l] = v;  // z[i/2]: u[2n] real, u[2n+1] imaginary
        else
          a[2 * i][l] = v, a[2 * i + 1][l] = T(0);
      }
    }
  }
  const V* z = fft_lanes<T, V>(*job.plan, a, buf.b.data, buf.scratch.data);
  V* p = buf.power.data;
  if (even) {
    const idx_t h = fft_n;
    for (idx_t k = 0; k <= h; ++k) {
      const V* zk = z + 2 * (k % h);
      const V* zc = z + 2 * ((h - k) % h);
      // E = (Z[k] + conj Z[h-k]) / 2, D = (Z[k] - conj Z[h-k]) / 2, X = E - i w D
      const V er = T(0.5) * (zk[0] + zc[0]), ei = T(0.5) * (zk[1] - zc[1]);
      const V dr = T(0.5) * (zk[0] - zc[0]), di = T(0.5) * (zk[1] + zc[1]);
      const T wr = unpack[2 * k], wi = unpack[2 * k + 1];
      const V xr = er + (dr * wi + di * wr), xi = ei - (dr * wr - di * wi);
      p[k] = xr * xr + xi * xi;
    }
  } else {
    for (idx_t k = 0; k < n_bins; ++k) p[k] = z[2 * k] * z[2 * k] + z[2 * k + 1] * z[2 * k + 1];
  }
  if (job.power == 1.0) {
    for (idx_t k = 0; k < n_bins; ++k)
      for (int l = 0; l < N; ++l) p[k][l] = std::sqrt(p[k][l]);
  } else if (job.power != 2.0) {
    const T half_power = static_cast<T>(job.power / 2.0);
    for (idx_t k = 0; k < n_bins; ++k)
      for (int l = 0; l < N; ++l) p[k][l] = std::pow(p[k][l], half_power);
  }
  T* dst = job.out + b * job.rows * job.n_frames + t0;
  const V amin = splat<T, N>(job.amin);
  for (idx_t r = 0; r < job.rows; ++r) {
    V acc{};
    if (job.filtered) {
      const idx_t lo = job.spans[2 * r], hi = job.spans[2 * r + 1];
      const T* wr = job.weights + job.offset[r];  // row r's weights on columns lo .. hi - 1
      for (idx_t k = lo; k < hi; ++k) acc = acc + wr[k - lo] * p[k];
    } else {
      acc = p[r];
    }
    if (job.logged) {
      acc = floor_at<T, N>(acc, amin);
      if (job.fast_log) {
        acc = job.log_scale * log_lanes<N>(acc);
      } else {
        for (int l = 0; l < N; ++l) acc[l] = job.log_scale * std::log(acc[l]);
      }
    }
    T* o = dst + r * job.n_frames;
    if (valid == N) {
      std::memcpy(o, &acc, sizeof acc);  // one vector store
    } else {
      for (int l = 0; l < valid; ++l) o[l] = acc[l];
    }
  }
}

// Frame groups [g0, g1) of the job (group g: example g / groups, its frames from kLanes * (g % groups)). A group
// of at most half the lanes' frames (a streaming step's one frame, the last frames of a signal) runs in a vector of
// half the width: the same operations on each value, so the same results, at less cost.
template <typename T>
NNAF_INLINE void run_groups(const Job<T>& job, idx_t g0, idx_t g1) {
  constexpr int L = kLanes<T>, H = L / 2;
  std::unique_ptr<Lanes<T, L>> wide;
  std::unique_ptr<Lanes<T, H>> narrow;
  for (idx_t g = g0; g < g1; ++g) {
    const idx_t b = g / job.groups, t0 = L * (g % job.groups);
    const int valid = static_cast<int>(std::min<idx_t>(L, job.n_frames - t0));
    if (valid <= H) {
      if (!narrow) narrow = std::make_unique<Lanes<T, H>>(job);
      frame_group<T, H>(job, *narrow, b, t0, valid);
    } else {
      if (!wide) wide = std::make_unique<Lanes<T, L>>(job);
      frame_group<T, L>(job, *wide, b, t0, valid);
    }
  }
}

NNAF_CLONES void run_groups_f32(const Job<float>& job, idx_t g0, idx_t g1) { run_groups<float>(job, g0, g1); }
NNAF_CLONES void run_groups_f64(const Job<double>& job, idx_t g0, idx_t g1) { run_groups<double>(job, g0, g1); }
inline void run_job(const Job<float>& job, idx_t g0, idx_t g1) { run_groups_f32(job, g0, g1); }
inline void run_job(const Job<double>& job, idx_t g0, idx_t g1) { run_groups_f64(job, g0, g1); }

// A spectrogram's constants, checked and converted once (a layer's plan keeps one): the window, hop, pad mode,
// the filterbank rows' spans and weights, power, log scale and floor. run<T>(x, lead, n_frames, n_threads) computes
// frames t = 0..n_frames-1 of x (batch, time) starting at t*hop + lead.
class SpectrogramPlan {
 public:
  SpectrogramPlan(py::array_t<double, py::array::c_style | py::array::forcecast> window, idx_t hop, int pad_mode,
                  py::array_t<idx_t, py::array::c_style | py::array::forcecast> spans,
                  py::array_t<double, py::array::c_style | py::array::forcecast> weights, bool filtered,
                  double power, double log_scale, double amin)
      : hop_(hop), pad_mode_(pad_mode), filtered_(filtered), power_(power), log_scale_(log_scale), amin_(amin) {
    if (window.ndim() != 1 || window.shape(0) < 1) throw py::value_error("window must be a non-empty 1-D array");
    if (hop < 1) throw py::value_error("hop=" + std::to_string(hop) + " must be >= 1");
    if (pad_mode < kConstant || pad_mode > kCircular)
      throw py::value_error("pad_mode=" + std::to_string(pad_mode) + " must be 0 (constant) to 3 (circular)");
    n_fft_ = window.shape(0);
    n_bins_ = n_fft_ / 2 + 1;
    if (filtered && (spans.ndim() != 2 || spans.shape(1) != 2))
      throw py::value_error("spans must be (rows, 2): each row's [lo, hi) column span");
    rows_ = filtered ? spans.shape(0) : n_bins_;
    offset_.assign(static_cast<size_t>(rows_ + 1), 0);
    if (filtered) {
      const idx_t* sp = spans.data();
      spans_.assign(sp, sp + 2 * rows_);
      for (idx_t r = 0; r < rows_; ++r) {
        const idx_t lo = sp[2 * r], hi = sp[2 * r + 1];
        if (lo < 0 || hi > n_bins_ || hi < lo)
          throw py::value_error("row " + std::to_string(r) + "'s span [" + std::to_string(lo) + ", " +
                                std::to_string(hi) + ") lies outside the " + std::to_string(n_bins_) + " bins");
        offset_[r + 1] = offset_[r] + (hi - lo);
      }
      if (weights.size() != offset_[rows_])
        throw py::value_error("weights must hold each row's span, concatenated: " +
                              std::to_string(offset_[rows_]) + " values, got " + std::to_string(weights.size()));
    }
    win64_.assign(window.data(), window.data() + n_fft_);
    win32_.assign(win64_.begin(), win64_.end());
    if (filtered) {
      wt64_.assign(weights.data(), weights.data() + weights.size());
      wt32_.assign(wt64_.begin(), wt64_.end());
    }
  }

  template <typename T>
  py::array_t<T> run(py::array_t<T, py::array::c_style | py::array::forcecast> x, idx_t lead, idx_t n_frames,
                     int n_threads) const {
    if (x.ndim() != 2) throw py::value_error("x has " + std::to_string(x.ndim()) + " dimensions; pass (batch, time)");
    if (n_frames < 0)
      throw py::value_error("n_frames=" + std::to_string(n_frames) + " must be >= 0 (is the signal shorter than a frame?)");
    const idx_t batch = x.shape(0), length = x.shape(1);
    if (length < 1 && pad_mode_ != kConstant) throw py::value_error("an empty signal can only be constant-padded");
    py::array_t<T> out({batch, rows_, n_frames});
    if (batch == 0 || n_frames == 0) return out;
    Job<T> job{x.data(), length, n_fft_, hop_, lead, n_frames, rows_, n_bins_, pad_mode_, window<T>(), filtered_,
               spans_.data(), offset_.data(), weights<T>(), power_, static_cast<T>(log_scale_),
               static_cast<T>(amin_), log_scale_ != 0.0, static_cast<float>(amin_) >= FLT_MIN, nullptr,
               out.mutable_data(), 0};
    py::gil_scoped_release release;
    job.plan = &plan_for<T>(n_fft_ % 2 == 0 ? n_fft_ / 2 : n_fft_);
    job.groups = (n_frames + kLanes<T> - 1) / kLanes<T>;
    const idx_t total = batch * job.groups;
    // groups split over the extension's worker pool (each computed by the same code: results do not depend on the
    // split), a chunk only per kThreadWork framed samples; the first exception is raised once every chunk is done
    const int threads = nnaf::thread_count(total, kLanes<T> * n_fft_, n_threads, kThreadWork);
    nnaf::parallel_rows(total, threads, [&](idx_t g0, idx_t g1, int) { run_job(job, g0, g1); });
    return out;
  }

  idx_t rows() const { return rows_; }

 private:
  template <typename T>
  const T* window() const;
  template <typename T>
  const T* weights() const;

  idx_t n_fft_ = 0, n_bins_ = 0, rows_ = 0, hop_ = 1;
  int pad_mode_ = kConstant;
  bool filtered_ = false;
  double power_ = 2.0, log_scale_ = 0.0, amin_ = 1e-10;
  std::vector<idx_t> spans_, offset_;
  std::vector<float> win32_, wt32_;
  std::vector<double> win64_, wt64_;
};

template <>
const float* SpectrogramPlan::window<float>() const { return win32_.data(); }
template <>
const double* SpectrogramPlan::window<double>() const { return win64_.data(); }
template <>
const float* SpectrogramPlan::weights<float>() const { return wt32_.data(); }
template <>
const double* SpectrogramPlan::weights<double>() const { return wt64_.data(); }

py::array_t<double> fft(py::array_t<double, py::array::c_style | py::array::forcecast> re,
                        py::array_t<double, py::array::c_style | py::array::forcecast> im) {
  if (re.ndim() != 1 || im.ndim() != 1 || re.shape(0) != im.shape(0) || re.shape(0) < 1)
    throw py::value_error("re and im must be equal-length non-empty 1-D arrays");
  constexpr int L = kLanes<double>;
  const idx_t n = re.shape(0);
  const FFTPlan<double>& plan = plan_for<double>(n);
  LaneBuffer<Vec<double>> buf(static_cast<size_t>(2 * n)), other(static_cast<size_t>(2 * n)),
      scratch(static_cast<size_t>(2 * plan.max_radix));
  Vec<double>* a = buf.data;
  for (idx_t i = 0; i < n; ++i)  // lane l holds the sequence times (l + 1): every lane is checked
    for (int l = 0; l < L; ++l) a[2 * i][l] = (l + 1) * re.data()[i], a[2 * i + 1][l] = (l + 1) * im.data()[i];
  const Vec<double>* z = fft_lanes<double, Vec<double>>(plan, a, other.data, scratch.data);
  py::array_t<double> out({idx_t(L), n, idx_t(2)});
  for (int l = 0; l < L; ++l)
    for (idx_t i = 0; i < n; ++i) {
      out.mutable_data()[(l * n + i) * 2] = z[2 * i][l] / (l + 1);
      out.mutable_data()[(l * n + i) * 2 + 1] = z[2 * i + 1][l] / (l + 1);
    }
  return out;
}

}  // namespace

void register_frames(py::module_& m) {
  py::class_<SpectrogramPlan>(m, "SpectrogramPlan",
                              "A spectrogram's constants for run_f32 / run_f64: the window (n_fft,), hop, pad_mode (0 "
                              "constant, 1 reflect, 2 replicate, 3 circular), the filterbank rows' [lo, hi) spans "
                              "(rows, 2) and their weights concatenated (filtered=False: the power spectrum), power, "
                              "log_scale (0: no log) and the log's floor amin.")
      .def(py::init<py::array_t<double, py::array::c_style | py::array::forcecast>, idx_t, int,
                    py::array_t<idx_t, py::array::c_style | py::array::forcecast>,
                    py::array_t<double, py::array::c_style | py::array::forcecast>, bool, double, double, double>(),
           py::arg("window"), py::arg("hop"), py::arg("pad_mode"), py::arg("spans"), py::arg("weights"),
           py::arg("filtered"), py::arg("power"), py::arg("log_scale"), py::arg("amin"))
      .def("run_f32", &SpectrogramPlan::run<float>, py::arg("x"), py::arg("lead"), py::arg("n_frames"),
           py::arg("n_threads") = 1,
           "Frames t = 0..n_frames-1 of x (batch, time) starting at t*hop + lead (pad_mode outside the signal): "
           "window, real FFT, |X|^power, the filterbank rows over their spans, log_scale * ln(max(., amin)) if "
           "log_scale != 0; frame groups split over up to n_threads threads. Returns (batch, rows, n_frames), "
           "float32.")
      .def("run_f64", &SpectrogramPlan::run<double>, py::arg("x"), py::arg("lead"), py::arg("n_frames"),
           py::arg("n_threads") = 1, "As run_f32, float64.")
      .def_property_readonly("rows", &SpectrogramPlan::rows);
  m.def("fft", &fft, py::arg("re"), py::arg("im"),
        "The complex DFT of re + i im as the frames compute it, once per lane (lanes, n, 2): lane l transforms "
        "the sequence times l + 1 and divides the result by l + 1.");
}
