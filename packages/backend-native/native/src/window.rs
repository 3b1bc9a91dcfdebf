//! NHWC convolution (forward and both gradients) through the packed GEMM, and pooling.
//!
//! - conv2d: an implicit-im2col GEMM: the GEMM packs its A blocks straight from the image
//!   (row = output pixel, column = (ky, kx, cin), padding as zeros), times the filter
//!   `[kh·kw·cin, cout]` as it lies in memory. The unrolled matrix never exists.
//! - backprop input: the gather form, also implicit: row = input pixel, columns = the dy
//!   rows of the outputs whose window covers it (zeros elsewhere), times the filter with its
//!   last two axes swapped. No scatter, so threads never write the same element.
//! - backprop filter: `Σ im2col(x)ᵀ · dy` over L2-sized explicit im2col chunks, one partial
//!   sum per thread.
//!
//! 1×1 stride-1 unpadded convolutions skip the unrolling entirely.

use crate::elementwise::copy;
use crate::gemm::{sgemm, sgemm_patches, Epi, Mat, Patches};
use crate::math::fmax32;
use crate::matmul::to_vec_f32;
use crate::pool::{self, SendPtr};
use crate::view::{shape_text, DType, Res, Temp, View};
use std::borrow::Cow;
use std::cell::RefCell;

/// Elements of unrolled patches per chunk (512 KiB of float32: sized for L2).
const CHUNK: usize = 1 << 17;

/// Window geometry: `[kh, kw, sh, sw, top, bottom, left, right, dh, dw]`.
#[derive(Clone, Copy, Debug)]
pub struct Win {
    pub kh: usize,
    pub kw: usize,
    pub sh: usize,
    pub sw: usize,
    pub pt: usize,
    pub pb: usize,
    pub pl: usize,
    pub pr: usize,
    pub dh: usize,
    pub dw: usize,
}

impl Win {
    pub fn new(v: &[usize]) -> Res<Win> {
        let w = Win { kh: v[0], kw: v[1], sh: v[2], sw: v[3], pt: v[4], pb: v[5], pl: v[6], pr: v[7], dh: v[8], dw: v[9] };
        if w.sh == 0 || w.sw == 0 || w.dh == 0 || w.dw == 0 {
            return Err(format!("window strides and dilations must be >= 1, got {w:?}"));
        }
        Ok(w)
    }
}

/// Geometry of one convolution or pooling.
#[derive(Clone, Copy)]
struct Geo {
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    kh: usize,
    kw: usize,
    oh: usize,
    ow: usize,
    sh: usize,
    sw: usize,
    dh: usize,
    dw: usize,
    pt: usize,
    pl: usize,
}

impl Geo {
    fn pointwise(&self) -> bool {
        self.kh == 1 && self.kw == 1 && self.sh == 1 && self.sw == 1 && self.pt == 0 && self.pl == 0 && self.oh == self.h && self.ow == self.w
    }
    /// Input row `iy` of output row `oy`, window row `ky` (None when in the padding).
    #[inline(always)]
    fn iy(&self, oy: usize, ky: usize) -> Option<usize> {
        let v = (oy * self.sh + ky * self.dh) as isize - self.pt as isize;
        (v >= 0 && (v as usize) < self.h).then_some(v as usize)
    }
    #[inline(always)]
    fn ix(&self, ox: usize, kx: usize) -> Option<usize> {
        let v = (ox * self.sw + kx * self.dw) as isize - self.pl as isize;
        (v >= 0 && (v as usize) < self.w).then_some(v as usize)
    }
}

fn dims4(v: &View, what: &str) -> Res<[usize; 4]> {
    v.expect(DType::F32, what)?;
    if v.rank != 4 {
        return Err(format!("{what} must be rank 4, got {}", shape_text(v)));
    }
    Ok([v.shape[0], v.shape[1], v.shape[2], v.shape[3]])
}

fn geo(x: [usize; 4], kh: usize, kw: usize, y: [usize; 4], p: &Win) -> Geo {
    Geo { n: x[0], h: x[1], w: x[2], c: x[3], kh, kw, oh: y[1], ow: y[2], sh: p.sh, sw: p.sw, dh: p.dh, dw: p.dw, pt: p.pt, pl: p.pl }
}

/// The view's elements as a contiguous slice (borrowed when already contiguous).
fn contiguous(v: &View) -> Cow<'_, [f32]> {
    if v.is_contiguous() {
        Cow::Borrowed(unsafe { std::slice::from_raw_parts(v.first::<f32>(), v.size) })
    } else {
        Cow::Owned(to_vec_f32(v))
    }
}

/// Runs `body` on a contiguous float32 output: `out` itself, or a temporary copied into it.
fn with_out(out: &View, inputs: &[&View], threads: usize, body: impl FnOnce(*mut f32) -> Res<()>) -> Res<()> {
    if out.is_contiguous() && !inputs.iter().any(|i| i.overlaps(out)) {
        return body(out.first::<f32>());
    }
    let t = Temp::new(out, DType::F32);
    body(t.view.first::<f32>())?;
    copy(&t.view, out, threads)
}

thread_local! {
    static COL: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Unrolls output positions `[r0, r0+nr)` into `col` (`nr × kh·kw·c`); padded taps are 0.
fn im2col(x: &[f32], g: &Geo, r0: usize, nr: usize, col: &mut [f32]) {
    let (c, kw) = (g.c, g.kw);
    let plane = g.oh * g.ow;
    let mut d = 0;
    for r in r0..r0 + nr {
        let (b, rem) = (r / plane, r % plane);
        let (oy, ox) = (rem / g.ow, rem % g.ow);
        for ky in 0..g.kh {
            let Some(iy) = g.iy(oy, ky) else {
                col[d..d + kw * c].fill(0.0);
                d += kw * c;
                continue;
            };
            let row = (b * g.h + iy) * g.w;
            for kx in 0..kw {
                match g.ix(ox, kx) {
                    Some(ix) => col[d..d + c].copy_from_slice(&x[(row + ix) * c..(row + ix + 1) * c]),
                    None => col[d..d + c].fill(0.0),
                }
                d += c;
            }
        }
    }
}

/// Splits `rows` into chunks of at most CHUNK/k rows (at least `threads` chunks when there
/// is enough work) and returns the chunk length.
fn chunk_rows(k: usize, rows: usize, threads: usize) -> usize {
    let by_cache = (CHUNK / k.max(1)).max(1);
    let by_threads = rows.div_ceil(threads.max(1)).max(1);
    by_cache.min(by_threads).max(16).min(rows.max(1))
}

/// The three convolution kernels.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Conv {
    /// conv2d(x, filter) → y
    Forward,
    /// conv2dBackpropInput(dy, filter) → dx
    Input,
    /// conv2dBackpropFilter(x, dy) → dfilter
    Filter,
}

/// Checks a convolution's operands (rank-4 float32, fitting channels and batch) and returns
/// (x dims, filter dims, y dims, multiply-adds).
pub fn conv_check(kind: Conv, p0: &View, p1: &View, out: &View) -> Res<([usize; 4], [usize; 4], [usize; 4], f64)> {
    let (name, (x, f, y), names) = match kind {
        Conv::Forward => ("conv2d", (p0, p1, out), ["x", "filter", "out"]),
        Conv::Input => ("conv2dBackpropInput", (out, p1, p0), ["out", "filter", "dy"]),
        Conv::Filter => ("conv2dBackpropFilter", (p0, out, p1), ["x", "out", "dy"]),
    };
    let xd = dims4(x, &format!("{name}: {}", names[0]))?;
    let fd = dims4(f, &format!("{name}: {}", names[1]))?;
    let yd = dims4(y, &format!("{name}: {}", names[2]))?;
    if fd[2] != xd[3] || yd[0] != xd[0] || yd[3] != fd[3] {
        let (v0, v1) = match kind {
            Conv::Forward => (format!("x {}", shape_text(x)), format!("filter {}", shape_text(f))),
            Conv::Input => (format!("dy {}", shape_text(y)), format!("filter {}", shape_text(f))),
            Conv::Filter => (format!("x {}", shape_text(x)), format!("dy {}", shape_text(y))),
        };
        return Err(format!("{name}: {v0}, {v1} and out {} do not fit", shape_text(out)));
    }
    Ok((xd, fd, yd, y.size as f64 * (fd[0] * fd[1] * fd[2]) as f64))
}

/// NHWC convolution: x `[n,h,w,cin]`, filter `[kh,kw,cin,cout]`, out `[n,oh,ow,cout]`.
pub fn conv2d(x: &View, f: &View, p: &Win, out: &View, threads: usize) -> Res<()> {
    let (xd, fd, yd, _) = conv_check(Conv::Forward, x, f, out)?;
    if out.size == 0 {
        return Ok(());
    }
    let g = geo(xd, fd[0], fd[1], yd, p);
    let (xs, fs) = (contiguous(x), contiguous(f));
    let (k, rows, cout) = (g.kh * g.kw * g.c, g.n * g.oh * g.ow, fd[3]);
    let fm = Mat { ptr: fs.as_ptr(), rs: cout as isize, cs: 1 };
    with_out(out, &[x, f], threads, |o| unsafe {
        if k == 0 {
            std::slice::from_raw_parts_mut(o, out.size).fill(0.0);
            return Ok(());
        }
        if g.pointwise() {
            return sgemm(rows, cout, k, Mat { ptr: xs.as_ptr(), rs: k as isize, cs: 1 }, fm, o, cout, false, &Epi::NONE, threads);
        }
        // implicit im2col: row = output pixel, tap = (ky, kx), run = the cin channels
        let pt = Patches {
            data: xs.as_ptr(), ch: g.c, kh: g.kh, kw: g.kw, rw: g.ow, rplane: g.oh * g.ow,
            y_mul: g.sh as isize, y_add: -(g.pt as isize), y_step: g.dh as isize, y_div: 1, src_h: g.h,
            x_mul: g.sw as isize, x_add: -(g.pl as isize), x_step: g.dw as isize, x_div: 1, src_w: g.w,
        };
        sgemm_patches(rows, cout, k, &pt, fm, o, cout, false, &Epi::NONE, threads)
    })
}

/// Runs `f(chunk)` for every chunk in parallel; the first error wins.
fn par_chunks(nchunks: usize, threads: usize, f: &(dyn Fn(usize) -> Res<()> + Sync)) -> Res<()> {
    let err: std::sync::Mutex<Res<()>> = std::sync::Mutex::new(Ok(()));
    pool::run(nchunks, threads, &|ci| {
        if let Err(e) = f(ci) {
            *err.lock().unwrap_or_else(|e| e.into_inner()) = Err(e);
        }
    })?;
    err.into_inner().unwrap_or_else(|e| e.into_inner())
}

/// Gradient of conv2d with respect to x: dy `[n,oh,ow,cout]`, filter `[kh,kw,cin,cout]`,
/// out shaped like x.
pub fn conv2d_backprop_input(dy: &View, f: &View, p: &Win, out: &View, threads: usize) -> Res<()> {
    let (xd, fd, yd, _) = conv_check(Conv::Input, dy, f, out)?;
    if out.size == 0 {
        return Ok(());
    }
    let g = geo(xd, fd[0], fd[1], yd, p);
    let (dys, fs) = (contiguous(dy), contiguous(f));
    let (c, cout) = (g.c, fd[3]);
    let taps = g.kh * g.kw;
    let k2 = taps * cout;
    let rows = g.n * g.h * g.w;
    with_out(out, &[dy, f], threads, |o| unsafe {
        if k2 == 0 || g.oh * g.ow == 0 {
            std::slice::from_raw_parts_mut(o, out.size).fill(0.0);
            return Ok(());
        }
        if g.pointwise() {
            // dx = dy · Fᵀ
            return sgemm(rows, c, cout, Mat { ptr: dys.as_ptr(), rs: cout as isize, cs: 1 }, Mat { ptr: fs.as_ptr(), rs: 1, cs: cout as isize }, o, c, false, &Epi::NONE, threads);
        }
        if g.sh > 1 || g.sw > 1 {
            return backprop_input_phases(&g, &dys, &fs, cout, o, threads);
        }
        // filter with its last two axes swapped: ft[tap][co][ci]
        let mut ft = vec![0f32; taps * cout * c];
        for t in 0..taps {
            for ci in 0..c {
                for co in 0..cout {
                    ft[(t * cout + co) * c + ci] = fs[(t * c + ci) * cout + co];
                }
            }
        }
        let fm = Mat { ptr: ft.as_ptr(), rs: c as isize, cs: 1 };
        // implicit dy2col: row = input pixel, tap = (ky, kx), run = the dy row (cout values)
        // of the output that reads this pixel through this tap (none: zeros)
        let pt = Patches {
            data: dys.as_ptr(), ch: cout, kh: g.kh, kw: g.kw, rw: g.w, rplane: g.h * g.w,
            y_mul: 1, y_add: g.pt as isize, y_step: -(g.dh as isize), y_div: g.sh as isize, src_h: g.oh,
            x_mul: 1, x_add: g.pl as isize, x_step: -(g.dw as isize), x_div: g.sw as isize, src_w: g.ow,
        };
        sgemm_patches(rows, c, k2, &pt, fm, o, c, false, &Epi::NONE, threads)
    })
}

/// The taps `k` of one window axis that reach input positions `≡ phase (mod stride)`:
/// those with `(phase + pad - k·dil) mod stride = 0`. They form an arithmetic progression;
/// returns (first tap, tap step, count, source offset `(phase + pad - first·dil) / stride`,
/// source step per tap).
fn phase_taps(phase: usize, pad: usize, k: usize, dil: usize, stride: usize) -> (usize, usize, usize, isize, isize) {
    let c = (phase + pad) as isize;
    let Some(first) = (0..k.min(stride)).find(|&t| (c - (t * dil) as isize).rem_euclid(stride as isize) == 0) else {
        return (0, 1, 0, 0, 0);
    };
    let gcd = {
        let (mut a, mut b) = (dil, stride);
        while b != 0 {
            (a, b) = (b, a % b);
        }
        a
    };
    let step = stride / gcd;
    let count = (k - first).div_ceil(step);
    let off = (c - (first * dil) as isize) / stride as isize;
    (first, step, count, off, -((dil / gcd) as isize))
}

/// conv2dBackpropInput for strides > 1, one GEMM per stride phase. With the plain gather
/// form, an input pixel reads a dy row through only about 1/(sh·sw) of the taps (the rest
/// are zero columns, yet packed and multiplied). Input pixels with `iy ≡ py (mod sh)` and
/// `ix ≡ px (mod sw)` are reached by a fixed subset of taps, and through them read dy at
/// `(j + offy - ty, i + offx - tx)`: a dense stride-1 gather over a sub-filter. So each
/// phase is a packed GEMM with only its own taps; its rows are scattered into `o`.
unsafe fn backprop_input_phases(g: &Geo, dys: &[f32], fs: &[f32], cout: usize, o: *mut f32, threads: usize) -> Res<()> {
    let c = g.c;
    let mut tmp: Vec<f32> = Vec::new();
    let mut ft: Vec<f32> = Vec::new();
    for py in 0..g.sh.min(g.h) {
        let hp = (g.h - py).div_ceil(g.sh);
        let (ky0, kys, nky, offy, stepy) = phase_taps(py, g.pt, g.kh, g.dh, g.sh);
        for px in 0..g.sw.min(g.w) {
            let wp = (g.w - px).div_ceil(g.sw);
            let (kx0, kxs, nkx, offx, stepx) = phase_taps(px, g.pl, g.kw, g.dw, g.sw);
            let rows = g.n * hp * wp;
            let k2 = nky * nkx * cout;
            tmp.clear();
            tmp.resize(rows * c, 0.0);
            if k2 > 0 {
                // this phase's taps of the filter, last two axes swapped: ft[ty][tx][co][ci]
                ft.clear();
                ft.resize(k2 * c, 0.0);
                for ty in 0..nky {
                    for tx in 0..nkx {
                        let tap = (ky0 + ty * kys) * g.kw + kx0 + tx * kxs;
                        let t = ty * nkx + tx;
                        for ci in 0..c {
                            for co in 0..cout {
                                ft[(t * cout + co) * c + ci] = fs[(tap * c + ci) * cout + co];
                            }
                        }
                    }
                }
                let pt = Patches {
                    data: dys.as_ptr(), ch: cout, kh: nky, kw: nkx, rw: wp, rplane: hp * wp,
                    y_mul: 1, y_add: offy, y_step: stepy, y_div: 1, src_h: g.oh,
                    x_mul: 1, x_add: offx, x_step: stepx, x_div: 1, src_w: g.ow,
                };
                let fm = Mat { ptr: ft.as_ptr(), rs: c as isize, cs: 1 };
                sgemm_patches(rows, c, k2, &pt, fm, tmp.as_mut_ptr(), c, false, &Epi::NONE, threads)?;
            }
            // scatter the phase's rows (b, j, i) to pixel (py + sh·j, px + sw·i)
            for b in 0..g.n {
                for j in 0..hp {
                    let iy = py + g.sh * j;
                    for i in 0..wp {
                        let ix = px + g.sw * i;
                        let src = &tmp[((b * hp + j) * wp + i) * c..][..c];
                        std::ptr::copy_nonoverlapping(src.as_ptr(), o.add(((b * g.h + iy) * g.w + ix) * c), c);
                    }
                }
            }
        }
    }
    Ok(())
}

/// Gradient of conv2d with respect to the filter: x `[n,h,w,cin]`, dy `[n,oh,ow,cout]`, out
/// `[kh,kw,cin,cout]`.
pub fn conv2d_backprop_filter(x: &View, dy: &View, p: &Win, out: &View, threads: usize) -> Res<()> {
    let (xd, fd, yd, _) = conv_check(Conv::Filter, x, dy, out)?;
    if out.size == 0 {
        return Ok(());
    }
    let g = geo(xd, fd[0], fd[1], yd, p);
    let (xs, dys) = (contiguous(x), contiguous(dy));
    let (k, rows, cout) = (g.kh * g.kw * g.c, g.n * g.oh * g.ow, fd[3]);
    with_out(out, &[x, dy], threads, |o| unsafe {
        if rows == 0 {
            std::slice::from_raw_parts_mut(o, out.size).fill(0.0);
            return Ok(());
        }
        if g.pointwise() {
            return sgemm(k, cout, rows, Mat { ptr: xs.as_ptr(), rs: 1, cs: k as isize }, Mat { ptr: dys.as_ptr(), rs: cout as isize, cs: 1 }, o, cout, false, &Epi::NONE, threads);
        }
        let step = chunk_rows(k, rows, threads);
        let nchunks = rows.div_ceil(step);
        // one chunk: a threaded GEMM straight into out
        let accumulate_chunks = |dst: *mut f32, chunks: std::ops::Range<usize>, gemm_threads: usize| -> Res<()> {
            COL.with(|cell| {
                let mut col = cell.borrow_mut();
                for ci in chunks.clone() {
                    let r0 = ci * step;
                    let nr = step.min(rows - r0);
                    if col.len() < nr * k {
                        col.resize(nr * k, 0.0);
                    }
                    im2col(&xs, &g, r0, nr, &mut col);
                    let am = Mat { ptr: col.as_ptr(), rs: 1, cs: k as isize };
                    let bm = Mat { ptr: dys.as_ptr().add(r0 * cout), rs: cout as isize, cs: 1 };
                    sgemm(k, cout, nr, am, bm, dst, cout, ci != chunks.start, &Epi::NONE, gemm_threads)?;
                }
                Ok(())
            })
        };
        let nt = threads.min(nchunks);
        if nt <= 1 {
            return accumulate_chunks(o, 0..nchunks, threads);
        }
        // one partial filter gradient per thread, summed at the end
        let fsize = k * cout;
        let mut partial = vec![0f32; fsize * nt];
        let pp = SendPtr(partial.as_mut_ptr());
        par_chunks(nt, nt, &|t| accumulate_chunks(pp.get().add(t * fsize), (nchunks * t / nt)..(nchunks * (t + 1) / nt), 1))?;
        let dst = std::slice::from_raw_parts_mut(o, fsize);
        dst.copy_from_slice(&partial[..fsize]);
        for t in 1..nt {
            for (d, s) in dst.iter_mut().zip(&partial[t * fsize..(t + 1) * fsize]) {
                *d += *s;
            }
        }
        Ok(())
    })
}

/// Max or average pooling over NHWC windows. Max ignores padded cells (NaN propagates; a
/// window with no real cell gives -Inf); average divides by the number of real cells.
pub fn pool2d(max: bool, x: &View, p: &Win, out: &View, threads: usize) -> Res<()> {
    let xd = dims4(x, "pool2d: x")?;
    let yd = dims4(out, "pool2d: out")?;
    if yd[0] != xd[0] || yd[3] != xd[3] {
        return Err(format!("pool2d: x {} and out {} do not fit", shape_text(x), shape_text(out)));
    }
    if out.size == 0 {
        return Ok(());
    }
    let g = geo(xd, p.kh, p.kw, yd, p);
    let xs = contiguous(x);
    let c = g.c;
    with_out(out, &[x], threads, |o| {
        let op = SendPtr(o);
        let xs: &[f32] = &xs;
        pool::par_ranges(g.n * g.oh, (4096 / (g.ow * c * g.kh * g.kw).max(1)).max(1), threads, &|s, e| unsafe {
            let mut acc = vec![0f64; c];
            let mut mx = vec![0f32; c];
            for row in s..e {
                let (b, oy) = (row / g.oh, row % g.oh);
                for ox in 0..g.ow {
                    let dst = std::slice::from_raw_parts_mut(op.get().add(((b * g.oh + oy) * g.ow + ox) * c), c);
                    let mut count = 0usize;
                    if max {
                        mx.fill(f32::NEG_INFINITY);
                    } else {
                        acc.fill(0.0);
                    }
                    for ky in 0..g.kh {
                        let Some(iy) = g.iy(oy, ky) else { continue };
                        for kx in 0..g.kw {
                            let Some(ix) = g.ix(ox, kx) else { continue };
                            count += 1;
                            let src = &xs[((b * g.h + iy) * g.w + ix) * c..][..c];
                            if max {
                                for (m, &v) in mx.iter_mut().zip(src) {
                                    *m = fmax32(*m, v);
                                }
                            } else {
                                for (a, &v) in acc.iter_mut().zip(src) {
                                    *a += v as f64;
                                }
                            }
                        }
                    }
                    if max {
                        dst.copy_from_slice(&mx);
                    } else {
                        for (d, &a) in dst.iter_mut().zip(&acc) {
                            *d = (a / count as f64) as f32;
                        }
                    }
                }
            }
        })
    })
}

/// Gradient of pool2d with respect to x (shaped like x). Max routes each window's gradient to
/// its first maximal real cell (a NaN counts as maximal); average spreads it evenly over the
/// window's real cells. Threads split images and channel ranges (disjoint outputs).
pub fn pool2d_backward(max: bool, x: &View, dy: &View, p: &Win, out: &View, threads: usize) -> Res<()> {
    let xd = dims4(x, "pool2dBackward: x")?;
    let yd = dims4(dy, "pool2dBackward: dy")?;
    let od = dims4(out, "pool2dBackward: out")?;
    if yd[0] != xd[0] || yd[3] != xd[3] || od != xd {
        return Err(format!("pool2dBackward: x {}, dy {} and out {} do not fit", shape_text(x), shape_text(dy), shape_text(out)));
    }
    if out.size == 0 {
        return Ok(());
    }
    let g = geo(xd, p.kh, p.kw, yd, p);
    let xs = if max { contiguous(x) } else { Cow::Borrowed(&[][..]) };
    let dys = contiguous(dy);
    let c = g.c;
    with_out(out, &[x, dy], threads, |o| unsafe {
        std::slice::from_raw_parts_mut(o, out.size).fill(0.0);
        let csplit = if g.n >= threads { 1 } else { c.min(threads.div_ceil(g.n.max(1))).max(1) };
        let op = SendPtr(o);
        let (xs, dys): (&[f32], &[f32]) = (&xs, &dys);
        pool::run(g.n * csplit, threads, &|task| {
            let (b, cs) = (task / csplit, task % csplit);
            let (c0, c1) = (c * cs / csplit, c * (cs + 1) / csplit);
            let nc = c1 - c0;
            let mut best = vec![0f32; nc];
            let mut at = vec![usize::MAX; nc];
            for oy in 0..g.oh {
                for ox in 0..g.ow {
                    let q = ((b * g.oh + oy) * g.ow + ox) * c + c0;
                    if max {
                        at.fill(usize::MAX);
                        for ky in 0..g.kh {
                            let Some(iy) = g.iy(oy, ky) else { continue };
                            for kx in 0..g.kw {
                                let Some(ix) = g.ix(ox, kx) else { continue };
                                let src = ((b * g.h + iy) * g.w + ix) * c + c0;
                                for i in 0..nc {
                                    let (v, bv) = (xs[src + i], best[i]);
                                    if at[i] == usize::MAX || (!bv.is_nan() && (v > bv || v.is_nan())) {
                                        best[i] = v;
                                        at[i] = src + i;
                                    }
                                }
                            }
                        }
                        for i in 0..nc {
                            if at[i] != usize::MAX {
                                *op.get().add(at[i]) += dys[q + i];
                            }
                        }
                    } else {
                        let mut count = 0usize;
                        for ky in 0..g.kh {
                            if g.iy(oy, ky).is_some() {
                                count += (0..g.kw).filter(|&kx| g.ix(ox, kx).is_some()).count();
                            }
                        }
                        if count == 0 {
                            continue;
                        }
                        let inv = 1.0 / count as f64;
                        for ky in 0..g.kh {
                            let Some(iy) = g.iy(oy, ky) else { continue };
                            for kx in 0..g.kw {
                                let Some(ix) = g.ix(ox, kx) else { continue };
                                let dst = ((b * g.h + iy) * g.w + ix) * c + c0;
                                for i in 0..nc {
                                    let d = op.get().add(dst + i);
                                    *d = (*d as f64 + dys[q + i] as f64 * inv) as f32;
                                }
                            }
                        }
                    }
                }
            }
        })
    })
}
