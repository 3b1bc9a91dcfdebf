//! Element-wise kernels: fill, copy, cast, where, binary, compare. Each walks its operands
//! with the strided iterator; rows whose operands are contiguous (or a broadcast scalar) run
//! as slice loops the compiler vectorises (AVX2 when available), and the flat index space is
//! split across threads above a size threshold.

use crate::cpu;
use crate::math::*;
use crate::pool::{self, SendPtr};
use crate::view::{check_same_shape, DType, Iter, Res, Temp, View};

/// Elements per thread for cheap element-wise work.
pub const GRAIN: usize = 1 << 15;
/// Elements per thread for work that costs a libm call per element.
pub const GRAIN_HEAVY: usize = 1 << 11;

// ------------------------------------------------------------------------------------
// Row loops: one monomorphised loop per (types, op), with contiguous and broadcast-scalar
// fast paths, compiled twice (baseline and AVX2) and picked at run time.

#[inline(always)]
unsafe fn row1_body<A: Copy, O: Copy, F: Fn(A) -> O>(pa: *const A, sa: isize, po: *mut O, so: isize, n: usize, f: F) {
    if sa == 1 && so == 1 {
        let a = std::slice::from_raw_parts(pa, n);
        let o = std::slice::from_raw_parts_mut(po, n);
        for (y, &x) in o.iter_mut().zip(a) {
            *y = f(x);
        }
        return;
    }
    let (mut a, mut o) = (pa, po);
    for _ in 0..n {
        *o = f(*a);
        a = a.offset(sa);
        o = o.offset(so);
    }
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn row2_body<A: Copy, B: Copy, O: Copy, F: Fn(A, B) -> O>(pa: *const A, sa: isize, pb: *const B, sb: isize, po: *mut O, so: isize, n: usize, f: F) {
    if so == 1 {
        let o = std::slice::from_raw_parts_mut(po, n);
        if sa == 1 && sb == 1 {
            let a = std::slice::from_raw_parts(pa, n);
            let b = std::slice::from_raw_parts(pb, n);
            for i in 0..n {
                o[i] = f(a[i], b[i]);
            }
            return;
        }
        if sa == 1 && sb == 0 {
            let a = std::slice::from_raw_parts(pa, n);
            let y = *pb;
            for i in 0..n {
                o[i] = f(a[i], y);
            }
            return;
        }
        if sa == 0 && sb == 1 {
            let b = std::slice::from_raw_parts(pb, n);
            let x = *pa;
            for i in 0..n {
                o[i] = f(x, b[i]);
            }
            return;
        }
    }
    let (mut a, mut b, mut o) = (pa, pb, po);
    for _ in 0..n {
        *o = f(*a, *b);
        a = a.offset(sa);
        b = b.offset(sb);
        o = o.offset(so);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn row1_avx2<A: Copy, O: Copy, F: Fn(A) -> O>(pa: *const A, sa: isize, po: *mut O, so: isize, n: usize, f: F) {
    row1_body(pa, sa, po, so, n, f)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn row2_avx2<A: Copy, B: Copy, O: Copy, F: Fn(A, B) -> O>(pa: *const A, sa: isize, pb: *const B, sb: isize, po: *mut O, so: isize, n: usize, f: F) {
    row2_body(pa, sa, pb, sb, po, so, n, f)
}

#[inline(always)]
pub unsafe fn row1<A: Copy, O: Copy, F: Fn(A) -> O>(pa: *const A, sa: isize, po: *mut O, so: isize, n: usize, f: F) {
    #[cfg(target_arch = "x86_64")]
    {
        if cpu::avx2() {
            return row1_avx2(pa, sa, po, so, n, f);
        }
    }
    row1_body(pa, sa, po, so, n, f)
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub unsafe fn row2<A: Copy, B: Copy, O: Copy, F: Fn(A, B) -> O>(pa: *const A, sa: isize, pb: *const B, sb: isize, po: *mut O, so: isize, n: usize, f: F) {
    #[cfg(target_arch = "x86_64")]
    {
        if cpu::avx2() {
            return row2_avx2(pa, sa, pb, sb, po, so, n, f);
        }
    }
    row2_body(pa, sa, pb, sb, po, so, n, f)
}

/// Threads to use when writing `out`: one if two positions share a cell.
#[inline]
pub fn out_threads(out: &View, threads: usize) -> usize {
    if out.self_overlapping() {
        1
    } else {
        threads
    }
}

/// `out[i] = f(x[i])` over same-shaped views.
pub fn map1<A: Copy, O: Copy, F: Fn(A) -> O + Sync + Copy>(x: &View, out: &View, threads: usize, grain: usize, f: F) -> Res<()> {
    if let (Some(sx), true) = (x.flat_step(), out.is_contiguous()) {
        let (px, po) = (SendPtr(x.first::<A>()), SendPtr(out.first::<O>()));
        return pool::par_ranges(out.size, grain, threads, &|s, e| unsafe {
            row1(px.get().offset(s as isize * sx), sx, po.get().add(s), 1, e - s, f)
        });
    }
    let it = Iter::of([x, out]);
    let [sx, so] = it.steps();
    if it.wants_tiles() {
        let per = (it.total() / it.tile_units()).max(1);
        return pool::par_ranges(it.tile_units(), (grain / per).max(1), out_threads(out, threads), &|s, e| {
            it.walk_tiles(s, e, |o, n| unsafe { row1(x.at::<A>(o[0]), sx, out.at::<O>(o[1]), so, n, f) })
        });
    }
    pool::par_ranges(it.total(), grain, out_threads(out, threads), &|s, e| {
        it.walk(s, e, |o, n| unsafe { row1(x.at::<A>(o[0]), sx, out.at::<O>(o[1]), so, n, f) })
    })
}

/// `out[i] = f(a[i], b[i])` over same-shaped views.
pub fn map2<A: Copy, B: Copy, O: Copy, F: Fn(A, B) -> O + Sync + Copy>(a: &View, b: &View, out: &View, threads: usize, grain: usize, f: F) -> Res<()> {
    if let (Some(sa), Some(sb), true) = (a.flat_step(), b.flat_step(), out.is_contiguous()) {
        let (pa, pb, po) = (SendPtr(a.first::<A>()), SendPtr(b.first::<B>()), SendPtr(out.first::<O>()));
        return pool::par_ranges(out.size, grain, threads, &|s, e| unsafe {
            row2(pa.get().offset(s as isize * sa), sa, pb.get().offset(s as isize * sb), sb, po.get().add(s), 1, e - s, f)
        });
    }
    let it = Iter::of([a, b, out]);
    let [sa, sb, so] = it.steps();
    if it.wants_tiles() {
        let per = (it.total() / it.tile_units()).max(1);
        return pool::par_ranges(it.tile_units(), (grain / per).max(1), out_threads(out, threads), &|s, e| {
            it.walk_tiles(s, e, |o, n| unsafe { row2(a.at::<A>(o[0]), sa, b.at::<B>(o[1]), sb, out.at::<O>(o[2]), so, n, f) })
        });
    }
    pool::par_ranges(it.total(), grain, out_threads(out, threads), &|s, e| {
        it.walk(s, e, |o, n| unsafe { row2(a.at::<A>(o[0]), sa, b.at::<B>(o[1]), sb, out.at::<O>(o[2]), so, n, f) })
    })
}

// ------------------------------------------------------------------------------------
// fill / copy / cast / where

/// Sets every element of `out` to `value` cast to its dtype.
pub fn fill(out: &View, value: f64, threads: usize) -> Res<()> {
    if out.size == 0 {
        return Ok(());
    }
    match out.dt {
        DType::F32 => fill_bits::<u32>(out, (value as f32).to_bits(), threads),
        DType::I32 => fill_bits::<u32>(out, to_int32_sat(value) as u32, threads),
        DType::Bool => fill_bits::<u8>(out, (value != 0.0) as u8, threads),
    }
}

fn fill_bits<T: Copy + Send + Sync>(out: &View, v: T, threads: usize) -> Res<()> {
    if out.is_contiguous() {
        let p = SendPtr(out.first::<T>());
        return pool::par_ranges(out.size, GRAIN * 4, threads, &|s, e| unsafe { std::slice::from_raw_parts_mut(p.get().add(s), e - s).fill(v) });
    }
    let it = Iter::of([out]);
    let [so] = it.steps();
    pool::par_ranges(it.total(), GRAIN * 4, out_threads(out, threads), &|s, e| {
        it.walk(s, e, |o, n| unsafe {
            let p = out.at::<T>(o[0]);
            if so == 1 {
                std::slice::from_raw_parts_mut(p, n).fill(v);
            } else {
                for i in 0..n {
                    *p.offset(i as isize * so) = v;
                }
            }
        })
    })
}

/// Copies `x` into `out` (same shape; either may be strided; dtypes may differ, then it
/// casts). Overlapping views of one buffer go through a temporary.
pub fn copy(x: &View, out: &View, threads: usize) -> Res<()> {
    check_same_shape(x, out, "copy")?;
    if out.size == 0 {
        return Ok(());
    }
    if x.overlaps(out) {
        let t = Temp::new(x, x.dt);
        copy(x, &t.view, threads)?;
        return copy(&t.view, out, threads);
    }
    if x.dt != out.dt {
        return cast(x, out, threads);
    }
    if x.is_contiguous() && out.is_contiguous() {
        let bytes = x.size * x.dt.size();
        let (src, dst) = (pool::SendPtr(x.first_byte()), pool::SendPtr(out.first_byte()));
        return pool::par_ranges(bytes, GRAIN * 16, threads, &|s, e| unsafe {
            std::ptr::copy_nonoverlapping(src.get().add(s), dst.get().add(s), e - s);
        });
    }
    match x.dt.size() {
        4 => map1::<u32, u32, _>(x, out, threads, GRAIN, |v| v),
        _ => map1::<u8, u8, _>(x, out, threads, GRAIN, |v| v),
    }
}

/// Converts dtype: float→int truncates toward zero (NaN→0, saturating), anything→bool is
/// `x != 0`, the rest keep the value (int→float rounds to nearest).
pub fn cast(x: &View, out: &View, threads: usize) -> Res<()> {
    check_same_shape(x, out, "cast")?;
    if out.size == 0 {
        return Ok(());
    }
    if x.dt == out.dt {
        return copy(x, out, threads);
    }
    use DType::*;
    match (x.dt, out.dt) {
        (F32, I32) => map1::<f32, i32, _>(x, out, threads, GRAIN, |v| to_int32_sat(v as f64)),
        (F32, Bool) => map1::<f32, u8, _>(x, out, threads, GRAIN, |v| (v != 0.0) as u8),
        (I32, F32) => map1::<i32, f32, _>(x, out, threads, GRAIN, |v| v as f32),
        (I32, Bool) => map1::<i32, u8, _>(x, out, threads, GRAIN, |v| (v != 0) as u8),
        (Bool, F32) => map1::<u8, f32, _>(x, out, threads, GRAIN, |v| v as f32),
        (Bool, I32) => map1::<u8, i32, _>(x, out, threads, GRAIN, |v| v as i32),
        _ => unreachable!(),
    }
}

/// `out = cond ? a : b` (cond bool; a, b, out one dtype), bit-exact.
pub fn where_(cond: &View, a: &View, b: &View, out: &View, threads: usize) -> Res<()> {
    cond.expect(DType::Bool, "where: cond")?;
    if a.dt != out.dt || b.dt != out.dt {
        return Err(format!("where: a ({}), b ({}) and out ({}) must share a dtype", a.dt.name(), b.dt.name(), out.dt.name()));
    }
    for v in [cond, a, b] {
        check_same_shape(v, out, "where")?;
    }
    if out.size == 0 {
        return Ok(());
    }
    fn go<T: Copy>(cond: &View, a: &View, b: &View, out: &View, threads: usize) -> Res<()> {
        let it = Iter::of([cond, a, b, out]);
        let [sc, sa, sb, so] = it.steps();
        pool::par_ranges(it.total(), GRAIN, out_threads(out, threads), &|s, e| {
            it.walk(s, e, |o, n| unsafe {
                let (pc, pa, pb, po) = (cond.at::<u8>(o[0]), a.at::<T>(o[1]), b.at::<T>(o[2]), out.at::<T>(o[3]));
                if sc == 1 && sa == 1 && sb == 1 && so == 1 {
                    let c = std::slice::from_raw_parts(pc, n);
                    let x = std::slice::from_raw_parts(pa, n);
                    let y = std::slice::from_raw_parts(pb, n);
                    let z = std::slice::from_raw_parts_mut(po, n);
                    for i in 0..n {
                        z[i] = if c[i] != 0 { x[i] } else { y[i] };
                    }
                } else {
                    for i in 0..n as isize {
                        *po.offset(i * so) = if *pc.offset(i * sc) != 0 { *pa.offset(i * sa) } else { *pb.offset(i * sb) };
                    }
                }
            })
        })
    }
    if out.dt.size() == 4 {
        go::<u32>(cond, a, b, out, threads)
    } else {
        go::<u8>(cond, a, b, out, threads)
    }
}

// ------------------------------------------------------------------------------------
// binary / compare

pub const ADD: i64 = 0;
pub const SUB: i64 = 1;
pub const MUL: i64 = 2;
pub const DIV: i64 = 3;
pub const POW: i64 = 4;
pub const MAX: i64 = 5;
pub const MIN: i64 = 6;
pub const MOD: i64 = 7;
pub const ATAN2: i64 = 8;
pub const AND: i64 = 9;
pub const OR: i64 = 10;

/// `out = a op b`, all three of one dtype (broadcast axes have stride 0).
pub fn binary(op: i64, a: &View, b: &View, out: &View, threads: usize) -> Res<()> {
    check_same_shape(a, out, "binary")?;
    check_same_shape(b, out, "binary")?;
    if a.dt != out.dt || b.dt != out.dt {
        return Err(format!("binary: operands ({}, {}) must have the output's dtype ({})", a.dt.name(), b.dt.name(), out.dt.name()));
    }
    if out.size == 0 {
        return Ok(());
    }
    let t = threads;
    match out.dt {
        DType::F32 => {
            macro_rules! m2 {
                ($f:expr, $g:expr) => {
                    map2::<f32, f32, f32, _>(a, b, out, t, $g, $f)
                };
            }
            match op {
                ADD => m2!(|x, y| x + y, GRAIN),
                SUB => m2!(|x, y| x - y, GRAIN),
                MUL => m2!(|x, y| x * y, GRAIN),
                DIV => m2!(|x, y| x / y, GRAIN),
                POW => {
                    if b.is_scalar_like() {
                        // a scalar exponent: square and square root are exact shortcuts
                        let e = unsafe { *b.first::<f32>() };
                        if e == 2.0 {
                            return map1::<f32, f32, _>(a, out, t, GRAIN, |x| x * x);
                        }
                        if e == 1.0 {
                            return map1::<f32, f32, _>(a, out, t, GRAIN, |x| x);
                        }
                    }
                    m2!(|x, y| js_pow(x as f64, y as f64) as f32, GRAIN_HEAVY)
                }
                MAX => m2!(fmax32, GRAIN),
                MIN => m2!(fmin32, GRAIN),
                MOD => m2!(|x, y| float_mod(x as f64, y as f64) as f32, GRAIN_HEAVY),
                ATAN2 => m2!(|x, y| (x as f64).atan2(y as f64) as f32, GRAIN_HEAVY),
                AND => m2!(|x, y| (x != 0.0 && y != 0.0) as u8 as f32, GRAIN),
                OR => m2!(|x, y| (x != 0.0 || y != 0.0) as u8 as f32, GRAIN),
                _ => Err(format!("unknown binary op code {op}")),
            }
        }
        DType::I32 => {
            macro_rules! m2 {
                ($f:expr, $g:expr) => {
                    map2::<i32, i32, i32, _>(a, b, out, t, $g, $f)
                };
            }
            match op {
                ADD => m2!(|x, y| x.wrapping_add(y), GRAIN),
                SUB => m2!(|x, y| x.wrapping_sub(y), GRAIN),
                MUL => m2!(|x, y| x.wrapping_mul(y), GRAIN),
                DIV => m2!(int_div, GRAIN),
                POW => m2!(int_pow, GRAIN_HEAVY),
                MAX => m2!(|x, y| x.max(y), GRAIN),
                MIN => m2!(|x, y| x.min(y), GRAIN),
                MOD => m2!(int_mod, GRAIN),
                ATAN2 => m2!(|x, y| js_to_int32((x as f64).atan2(y as f64)), GRAIN_HEAVY),
                AND => m2!(|x, y| (x != 0 && y != 0) as i32, GRAIN),
                OR => m2!(|x, y| (x != 0 || y != 0) as i32, GRAIN),
                _ => Err(format!("unknown binary op code {op}")),
            }
        }
        DType::Bool => {
            macro_rules! m2 {
                ($f:expr) => {
                    map2::<u8, u8, u8, _>(a, b, out, t, GRAIN, $f)
                };
            }
            match op {
                AND | MIN | MUL => m2!(|x, y| (x != 0 && y != 0) as u8),
                OR | MAX | ADD => m2!(|x, y| (x != 0 || y != 0) as u8),
                SUB => m2!(|x, y| ((x != 0) != (y != 0)) as u8),
                _ => Err(format!("binary op code {op} is not defined on bool")),
            }
        }
    }
}

pub const EQ: i64 = 0;
pub const NE: i64 = 1;
pub const LT: i64 = 2;
pub const LE: i64 = 3;
pub const GT: i64 = 4;
pub const GE: i64 = 5;

/// `out = a op b` into a bool `out`; NaN compares false except `notEqual`.
pub fn compare(op: i64, a: &View, b: &View, out: &View, threads: usize) -> Res<()> {
    check_same_shape(a, out, "compare")?;
    check_same_shape(b, out, "compare")?;
    out.expect(DType::Bool, "compare: out")?;
    if a.dt != b.dt {
        return Err(format!("compare: operands must share a dtype, got {} and {}", a.dt.name(), b.dt.name()));
    }
    if out.size == 0 {
        return Ok(());
    }
    match a.dt {
        DType::F32 => cmp_typed::<f32>(op, a, b, out, threads),
        DType::I32 => cmp_typed::<i32>(op, a, b, out, threads),
        DType::Bool => cmp_typed::<u8>(op, a, b, out, threads),
    }
}

fn cmp_typed<T: Copy + PartialOrd>(op: i64, a: &View, b: &View, out: &View, threads: usize) -> Res<()> {
    macro_rules! m2 {
        ($f:expr) => {
            map2::<T, T, u8, _>(a, b, out, threads, GRAIN, $f)
        };
    }
    match op {
        EQ => m2!(|x, y| (x == y) as u8),
        NE => m2!(|x, y| (x != y) as u8),
        LT => m2!(|x, y| (x < y) as u8),
        LE => m2!(|x, y| (x <= y) as u8),
        GT => m2!(|x, y| (x > y) as u8),
        GE => m2!(|x, y| (x >= y) as u8),
        _ => Err(format!("unknown compare op code {op}")),
    }
}
