//! Reductions: `reduce`, `argReduce`, `cumulative`. Float accumulation is float64 (like
//! backend-js); int32 sums and products wrap. `reduce` walks the kept positions in segments:
//! when the reduced axis is the inner one (row mode) each output reduces one strided line at
//! a time; when a kept axis is inner (column mode, e.g. `sum(x, 0)`), a segment of outputs
//! accumulates whole rows, so memory streams in order either way. Large reductions to a few
//! outputs split the reduced range across threads.

use crate::elementwise::{fill, GRAIN};
use crate::math::{jmax, jmin, js_to_int32};
use crate::pool::{self, SendPtr};
use crate::view::{DType, Iter, Res, View, MAXR};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Code {
    Sum,
    Prod,
    Max,
    Min,
    ISum,
    IProd,
}

pub const SUM: i64 = 0;
pub const PROD: i64 = 1;
pub const MAX: i64 = 2;
pub const MIN: i64 = 3;

fn code_of(op: i64, x: DType, out: DType) -> Res<Code> {
    if !(SUM..=MIN).contains(&op) {
        return Err(format!("unknown reduce op code {op}"));
    }
    if out == DType::Bool {
        return Ok(if op == SUM || op == MAX { Code::Max } else { Code::Min });
    }
    let int = x != DType::F32 && out == DType::I32;
    Ok(match op {
        MAX => Code::Max,
        MIN => Code::Min,
        SUM if int => Code::ISum,
        SUM => Code::Sum,
        _ if int => Code::IProd,
        _ => Code::Prod,
    })
}

fn identity(code: Code, out: DType) -> f64 {
    match code {
        Code::Sum | Code::ISum => 0.0,
        Code::Prod | Code::IProd => 1.0,
        Code::Max => match out {
            DType::F32 => f64::NEG_INFINITY,
            DType::I32 => -2147483648.0,
            DType::Bool => 0.0,
        },
        Code::Min => match out {
            DType::F32 => f64::INFINITY,
            DType::I32 => 2147483647.0,
            DType::Bool => 1.0,
        },
    }
}

#[inline(always)]
fn step(code: Code, acc: f64, v: f64) -> f64 {
    match code {
        Code::Sum => acc + v,
        Code::Prod => acc * v,
        Code::Max => jmax(acc, v),
        Code::Min => jmin(acc, v),
        Code::ISum => (acc as i64 + v as i64) as i32 as f64,
        Code::IProd => (acc as i32).wrapping_mul(v as i32) as f64,
    }
}

/// Stores an accumulator the way a typed-array store of backend-js does.
#[inline(always)]
unsafe fn store(out: &View, o: isize, acc: f64) {
    match out.dt {
        DType::F32 => *out.at::<f32>(o) = acc as f32,
        DType::I32 => *out.at::<i32>(o) = js_to_int32(acc),
        DType::Bool => *out.at::<u8>(o) = (acc != 0.0) as u8,
    }
}

/// Reduces `n` elements at `p` (stride `s`) into `acc`.
#[inline(always)]
unsafe fn line<T: Copy + Into<f64>>(code: Code, p: *const T, s: isize, n: usize, mut acc: f64) -> f64 {
    if code == Code::Sum && s == 1 {
        let x = std::slice::from_raw_parts(p, n);
        let mut lanes = [0f64; 8];
        let chunks = n / 8;
        for c in 0..chunks {
            for l in 0..8 {
                lanes[l] += x[c * 8 + l].into();
            }
        }
        for &v in &x[chunks * 8..] {
            lanes[0] += v.into();
        }
        return acc + (((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7])));
    }
    macro_rules! go {
        ($f:expr) => {{
            let mut q = p;
            for _ in 0..n {
                acc = $f(acc, (*q).into());
                q = q.offset(s);
            }
        }};
    }
    match code {
        Code::Sum => go!(|a: f64, v: f64| a + v),
        Code::Prod => go!(|a: f64, v: f64| a * v),
        Code::Max => go!(jmax),
        Code::Min => go!(jmin),
        Code::ISum => go!(|a: f64, v: f64| (a as i64 + v as i64) as i32 as f64),
        Code::IProd => go!(|a: f64, v: f64| (a as i32).wrapping_mul(v as i32) as f64),
    }
    acc
}

/// Reduces over the flat positions `[s, e)` of `red` (offsets relative to `base`).
#[inline(always)]
unsafe fn reduce_range<T: Copy + Into<f64>>(code: Code, x: &View, base: isize, red: &Iter<1>, s: usize, e: usize, mut acc: f64) -> f64 {
    let rs = red.steps()[0];
    if red.rank == 1 {
        return line::<T>(code, x.at::<T>(base + red.off[0] + s as isize * rs), rs, e - s, acc);
    }
    red.walk(s, e, |r, n| acc = line::<T>(code, x.at::<T>(base + r[0]), rs, n, acc));
    acc
}

/// Reduces `x` over `axes` (sorted, unique) into `out` (x's shape without those axes).
pub fn reduce(op: i64, x: &View, axes: &[usize], out: &View, threads: usize) -> Res<()> {
    for (i, &a) in axes.iter().enumerate() {
        if a >= x.rank || (i > 0 && axes[i - 1] >= a) {
            return Err(format!("reduce: axes must be sorted, unique and below the rank {}", x.rank));
        }
    }
    let mut kept_shape = [0usize; MAXR];
    let mut kept_st = [0isize; MAXR];
    let mut red_shape = [0usize; MAXR];
    let mut red_st = [0isize; MAXR];
    let (mut nk, mut nr) = (0, 0);
    for d in 0..x.rank {
        if axes.contains(&d) {
            red_shape[nr] = x.shape[d];
            red_st[nr] = x.strides[d];
            nr += 1;
        } else {
            kept_shape[nk] = x.shape[d];
            kept_st[nk] = x.strides[d];
            nk += 1;
        }
    }
    if out.shape() != &kept_shape[..nk] {
        return Err(format!("reduce: out shape {} does not match the kept axes of x", crate::view::shape_text(out)));
    }
    let code = code_of(op, x.dt, out.dt)?;
    let init = identity(code, out.dt);
    if out.size == 0 {
        return Ok(());
    }
    if x.size == 0 {
        return fill(out, init, threads);
    }
    let kept = Iter::<2>::new(&kept_shape[..nk], [&kept_st[..nk], out.strides()], [x.off, out.off]);
    let red = Iter::<1>::new(&red_shape[..nr], [&red_st[..nr]], [0]);
    match x.dt {
        DType::F32 => reduce_typed::<f32>(code, init, x, out, &kept, &red, nk > 0, threads),
        DType::I32 => reduce_typed::<i32>(code, init, x, out, &kept, &red, nk > 0, threads),
        DType::Bool => reduce_typed::<u8>(code, init, x, out, &kept, &red, nk > 0, threads),
    }
}

#[allow(clippy::too_many_arguments)]
fn reduce_typed<T: Copy + Into<f64>>(code: Code, init: f64, x: &View, out: &View, kept: &Iter<2>, red: &Iter<1>, has_kept: bool, threads: usize) -> Res<()> {
    let out_n = kept.total();
    let red_n = red.total();
    let [ks, kos] = kept.steps();
    let rs = red.steps()[0];
    let column = has_kept && ks.unsigned_abs() < rs.unsigned_abs() && kept.inner() > 1;
    let threads = crate::elementwise::out_threads(out, threads);
    if !column && out_n < threads * 2 && red_n >= 1 << 16 && threads > 1 {
        // Few outputs, long reductions: split each reduction across threads.
        let nt = threads.min(red_n / (1 << 14)).max(1);
        let mut partial = vec![init; nt];
        let pp = SendPtr(partial.as_mut_ptr());
        let mut err = Ok(());
        kept.walk(0, out_n, |o, len| {
            for i in 0..len {
                let base = o[0] + i as isize * ks;
                let r = pool::run(nt, nt, &|t| unsafe {
                    let (s, e) = (red_n * t / nt, red_n * (t + 1) / nt);
                    *pp.get().add(t) = reduce_range::<T>(code, x, base, red, s, e, init);
                });
                if r.is_err() {
                    err = r;
                    return;
                }
                let acc = partial.iter().fold(init, |a, &v| step(code, a, v));
                unsafe { store(out, o[1] + i as isize * kos, acc) };
            }
        });
        return err;
    }
    let grain = (GRAIN / red_n.max(1)).max(1);
    if !column {
        return pool::par_ranges(out_n, grain, threads, &|s, e| {
            kept.walk(s, e, |o, len| unsafe {
                for i in 0..len as isize {
                    let acc = reduce_range::<T>(code, x, o[0] + i * ks, red, 0, red_n, init);
                    store(out, o[1] + i * kos, acc);
                }
            })
        });
    }
    pool::par_ranges(out_n, grain, threads, &|s, e| {
        let mut acc: Vec<f64> = Vec::new();
        kept.walk(s, e, |o, len| unsafe {
            acc.clear();
            acc.resize(len, init);
            red.walk(0, red_n, |r, rl| {
                for q in 0..rl as isize {
                    let base = x.at::<T>(o[0] + r[0] + q * rs);
                    macro_rules! go {
                        ($f:expr) => {
                            for (i, a) in acc.iter_mut().enumerate() {
                                *a = $f(*a, (*base.offset(i as isize * ks)).into());
                            }
                        };
                    }
                    match code {
                        Code::Sum => go!(|a: f64, v: f64| a + v),
                        _ => go!(|a: f64, v: f64| step(code, a, v)),
                    }
                }
            });
            for (i, &a) in acc.iter().enumerate() {
                store(out, o[1] + i as isize * kos, a);
            }
        })
    })
}

/// Index of the max/min along `axis` into an int32 `out`; ties go to the first index, the
/// first NaN wins; an empty axis gives 0.
pub fn arg_reduce(op: i64, x: &View, axis: usize, out: &View, threads: usize) -> Res<()> {
    if axis >= x.rank {
        return Err(format!("argReduce: axis {axis} out of range for rank {}", x.rank));
    }
    if op != 0 && op != 1 {
        return Err(format!("unknown argReduce op code {op}"));
    }
    out.expect(DType::I32, "argReduce: out")?;
    let kept = x.without_axis(axis);
    if out.shape() != kept.shape() {
        return Err("argReduce: out shape must be x's without the axis".into());
    }
    if out.size == 0 {
        return Ok(());
    }
    let n = x.shape[axis];
    if n == 0 {
        return fill(out, 0.0, threads);
    }
    let s = x.strides[axis];
    let it = Iter::<2>::new(kept.shape(), [kept.strides(), out.strides()], [x.off, out.off]);
    let [ks, kos] = it.steps();
    let is_max = op == 0;
    fn go<T: Copy + Into<f64>>(x: &View, out: &View, it: &Iter<2>, ks: isize, kos: isize, s: isize, n: usize, is_max: bool, threads: usize) -> Res<()> {
        pool::par_ranges(it.total(), (GRAIN / n).max(1), crate::elementwise::out_threads(out, threads), &|a, b| {
            it.walk(a, b, |o, len| unsafe {
                for i in 0..len as isize {
                    let p = x.at::<T>(o[0] + i * ks);
                    let mut best: f64 = (*p).into();
                    let mut bi = 0usize;
                    if !best.is_nan() {
                        let mut q = p;
                        for j in 1..n {
                            q = q.offset(s);
                            let v: f64 = (*q).into();
                            if if is_max { v > best } else { v < best } {
                                best = v;
                                bi = j;
                            } else if v.is_nan() {
                                bi = j;
                                break;
                            }
                        }
                    }
                    *out.at::<i32>(o[1] + i * kos) = bi as i32;
                }
            })
        })
    }
    match x.dt {
        DType::F32 => go::<f32>(x, out, &it, ks, kos, s, n, is_max, threads),
        DType::I32 => go::<i32>(x, out, &it, ks, kos, s, n, is_max, threads),
        DType::Bool => go::<u8>(x, out, &it, ks, kos, s, n, is_max, threads),
    }
}

/// Running sum/prod/max/min along `axis`, optionally exclusive and/or from the end.
pub fn cumulative(op: i64, x: &View, axis: usize, exclusive: bool, reverse: bool, out: &View, threads: usize) -> Res<()> {
    if axis >= x.rank {
        return Err(format!("cumulative: axis {axis} out of range for rank {}", x.rank));
    }
    crate::view::check_same_shape(x, out, "cumulative")?;
    let code = code_of(op, x.dt, out.dt)?;
    let init = identity(code, out.dt);
    if out.size == 0 {
        return Ok(());
    }
    let n = x.shape[axis];
    let (mut sx, mut so) = (x.strides[axis], out.strides[axis]);
    let (mut xo, mut oo) = (x.off, out.off);
    if reverse {
        xo += (n as isize - 1) * sx;
        oo += (n as isize - 1) * so;
        sx = -sx;
        so = -so;
    }
    let kx = x.without_axis(axis);
    let ko = out.without_axis(axis);
    let it = Iter::<2>::new(kx.shape(), [kx.strides(), ko.strides()], [xo, oo]);
    let [ks, kos] = it.steps();
    fn go<T: Copy + Into<f64>>(code: Code, init: f64, x: &View, out: &View, it: &Iter<2>, st: [isize; 4], n: usize, ex: bool, threads: usize) -> Res<()> {
        let [ks, kos, sx, so] = st;
        pool::par_ranges(it.total(), (GRAIN / n.max(1)).max(1), crate::elementwise::out_threads(out, threads), &|a, b| {
            it.walk(a, b, |o, len| unsafe {
                for i in 0..len as isize {
                    let (mut p, mut q) = (o[0] + i * ks, o[1] + i * kos);
                    let mut acc = init;
                    for _ in 0..n {
                        let v: f64 = (*x.at::<T>(p)).into();
                        if ex {
                            store(out, q, acc);
                            acc = step(code, acc, v);
                        } else {
                            acc = step(code, acc, v);
                            store(out, q, acc);
                        }
                        p += sx;
                        q += so;
                    }
                }
            })
        })
    }
    let st = [ks, kos, sx, so];
    match x.dt {
        DType::F32 => go::<f32>(code, init, x, out, &it, st, n, exclusive, threads),
        DType::I32 => go::<i32>(code, init, x, out, &it, st, n, exclusive, threads),
        DType::Bool => go::<u8>(code, init, x, out, &it, st, n, exclusive, threads),
    }
}
