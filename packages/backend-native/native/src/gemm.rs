//! Single-precision GEMM `C (+)= act(A·B + bias)` on arbitrary element strides.
//!
//! Large products use the Goto/BLIS scheme: B panels (KC×NC) and A blocks (MC×KC) are packed
//! into 64-byte aligned buffers (edge tiles zero-padded) and a register-tile micro-kernel
//! runs over them: 12×32 with AVX-512F (24 zmm accumulators, masked edge stores), else 6×16
//! (AVX2+FMA: 12 ymm accumulators; portable loops otherwise), chosen at run time. On
//! the last K block the micro-kernel adds the bias and applies ReLU in registers as it stores
//! the tile; other activations follow on the tile while it is in L1. With threads, each B
//! panel is packed once (strips in parallel) into a buffer the tasks share and row blocks
//! are handed out dynamically (few rows: the columns are split instead). A can also be read
//! straight from an image (`Patches`, implicit im2col for convolutions). Small and
//! vector-shaped products use direct loops with no packing and no allocation.

use crate::cpu;
use crate::math;
use crate::pool::{self, SendPtr};
use std::cell::RefCell;

pub const MR: usize = 6;
pub const NR: usize = 16;
/// The AVX-512 micro-kernel's register tile: 24 zmm accumulators (12 rows × 32 columns).
pub const MR512: usize = 12;
pub const NR512: usize = 32;
const KC: usize = 256;
const MC: usize = 144;
/// Blocking for the AVX-512 kernel (measured on a Sapphire Rapids-class core: 48 KiB L1d,
/// 2 MiB L2): deeper K blocks halve the C traffic per FMA.
const KC512: usize = 512;
const MC512: usize = 192;
const NC: usize = 4096;
/// Multiply-adds per thread below which extra threads are not worth waking.
const PAR_MACS: usize = 1 << 20;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Act {
    Linear,
    Relu,
    Sigmoid,
    Tanh,
    Gelu,
}

impl Act {
    pub fn from_code(c: i64) -> Result<Act, String> {
        Ok(match c {
            0 => Act::Linear,
            1 => Act::Relu,
            2 => Act::Sigmoid,
            3 => Act::Tanh,
            4 => Act::Gelu,
            _ => return Err(format!("unknown activation code {c}")),
        })
    }
}

/// A matrix operand: element `(i, j)` is at `ptr + i·rs + j·cs`.
#[derive(Clone, Copy)]
pub struct Mat {
    pub ptr: *const f32,
    pub rs: isize,
    pub cs: isize,
}
unsafe impl Send for Mat {}
unsafe impl Sync for Mat {}

impl Mat {
    #[inline(always)]
    unsafe fn at(&self, i: usize, j: usize) -> f32 {
        *self.ptr.offset(i as isize * self.rs + j as isize * self.cs)
    }
    fn shift(&self, i: usize, j: usize) -> Mat {
        Mat { ptr: self.ptr.wrapping_offset(i as isize * self.rs + j as isize * self.cs), ..*self }
    }
}

/// An A operand given as image patches (implicit im2col): packing reads an NHWC source
/// directly, so the unrolled matrix never exists. Row `r` is a pixel `(b, ry, rx)` of an
/// `rh × rw` grid (`rplane = rh·rw`); column `p = (ky·kw + kx)·ch + i` reads channel `i` of
/// source pixel `(b, y, x)` with `y = (ry·y_mul + y_add + ky·y_step) / y_div` (only when
/// the division is exact and `0 <= y < src_h`; zero otherwise), and `x` likewise.
/// Forward convolution: `y_mul = stride, y_add = -pad, y_step = dilation, y_div = 1`. The
/// gather form of its input gradient: `y_mul = 1, y_add = pad, y_step = -dilation,
/// y_div = stride` over dy.
#[derive(Clone, Copy, Debug)]
pub struct Patches {
    pub data: *const f32,
    pub ch: usize,
    pub kh: usize,
    pub kw: usize,
    pub rw: usize,
    pub rplane: usize,
    pub y_mul: isize,
    pub y_add: isize,
    pub y_step: isize,
    pub y_div: isize,
    pub src_h: usize,
    pub x_mul: isize,
    pub x_add: isize,
    pub x_step: isize,
    pub x_div: isize,
    pub src_w: usize,
}
unsafe impl Send for Patches {}
unsafe impl Sync for Patches {}

impl Patches {
    /// Source coordinate along one axis, or None.
    #[inline(always)]
    fn coord(v: isize, div: isize, n: usize) -> Option<usize> {
        let v = if div == 1 {
            v
        } else {
            if v < 0 || v % div != 0 {
                return None;
            }
            v / div
        };
        (v >= 0 && (v as usize) < n).then_some(v as usize)
    }
}

/// Where a GEMM's A operand comes from.
#[derive(Clone, Copy)]
enum ASrc<'a> {
    Mat(Mat),
    Patches(&'a Patches),
}

/// The epilogue applied to each finished element: `act(c + bias[j])`.
#[derive(Clone, Copy)]
pub struct Epi<'a> {
    /// Contiguous bias indexed by output column (length ≥ n), or none.
    pub bias: Option<&'a [f32]>,
    pub act: Act,
}

impl<'a> Epi<'a> {
    pub const NONE: Epi<'static> = Epi { bias: None, act: Act::Linear };
    fn active(&self) -> bool {
        self.bias.is_some() || self.act != Act::Linear
    }
    fn shift(&self, j: usize) -> Epi<'a> {
        Epi { bias: self.bias.map(|b| &b[j..]), act: self.act }
    }
}

/// Applies the epilogue to `n` contiguous elements at `c`, whose first column is `j0`.
#[inline]
pub unsafe fn finish_row(c: *mut f32, n: usize, j0: usize, epi: &Epi) {
    let row = std::slice::from_raw_parts_mut(c, n);
    if let Some(b) = epi.bias {
        for (x, &bj) in row.iter_mut().zip(&b[j0..j0 + n]) {
            *x += bj;
        }
    }
    apply_act(row, epi.act);
}

/// `x = act(x)` in place; sigmoid and tanh use the AVX2 polynomials when available, gelu
/// the exact erf form in float64.
pub fn apply_act(x: &mut [f32], act: Act) {
    match act {
        Act::Linear => {}
        Act::Relu => {
            for v in x.iter_mut() {
                if *v < 0.0 {
                    *v = 0.0
                }
            }
        }
        Act::Sigmoid => unsafe { crate::unary::simd_map(crate::unary::SimdOp::Sigmoid, x.as_ptr(), x.as_mut_ptr(), x.len()) },
        Act::Tanh => unsafe { crate::unary::simd_map(crate::unary::SimdOp::Tanh, x.as_ptr(), x.as_mut_ptr(), x.len()) },
        Act::Gelu => {
            for v in x.iter_mut() {
                *v = math::gelu(*v as f64) as f32
            }
        }
    }
}

// ------------------------------------------------------------------------------------
// Packing buffers

struct AlignedBuf {
    ptr: *mut f32,
    cap: usize,
}

impl AlignedBuf {
    const fn new() -> Self {
        AlignedBuf { ptr: std::ptr::null_mut(), cap: 0 }
    }
    fn ensure(&mut self, n: usize) -> *mut f32 {
        if n > self.cap {
            self.release();
            let cap = n.next_multiple_of(1024);
            let layout = std::alloc::Layout::from_size_align(cap * 4, 64).expect("pack buffer layout");
            let p = unsafe { std::alloc::alloc(layout) } as *mut f32;
            if p.is_null() {
                panic!("out of memory for a {} KiB GEMM packing buffer", cap * 4 / 1024);
            }
            self.ptr = p;
            self.cap = cap;
        }
        self.ptr
    }
    fn release(&mut self) {
        if !self.ptr.is_null() {
            unsafe { std::alloc::dealloc(self.ptr as *mut u8, std::alloc::Layout::from_size_align_unchecked(self.cap * 4, 64)) };
            self.ptr = std::ptr::null_mut();
            self.cap = 0;
        }
    }
}

impl Drop for AlignedBuf {
    fn drop(&mut self) {
        self.release();
    }
}

thread_local! {
    /// Per-thread packing buffers (A block, B panel) for serial GEMMs and row-block tasks.
    static PACK: RefCell<(AlignedBuf, AlignedBuf)> = const { RefCell::new((AlignedBuf::new(), AlignedBuf::new())) };
    /// The B panel a threaded GEMM shares between its tasks (owned by the calling thread).
    static SHARED_B: RefCell<AlignedBuf> = const { RefCell::new(AlignedBuf::new()) };
}

/// Packs rows `[i0, i0+mc)` × cols `[p0, p0+kc)` of A into MR-row strips (k-major inside).
unsafe fn pack_a<const MR: usize>(a: Mat, i0: usize, p0: usize, mc: usize, kc: usize, dst: *mut f32) {
    let strips = mc.div_ceil(MR);
    for s in 0..strips {
        let rows = MR.min(mc - s * MR);
        let d = dst.add(s * MR * kc);
        let ib = i0 + s * MR;
        if a.cs == 1 && rows == MR {
            // K-outer: the packed strip is written in order (MR row streams are read side by
            // side), instead of MR passes of scattered stores.
            let src: [*const f32; MR] = std::array::from_fn(|r| a.ptr.offset((ib + r) as isize * a.rs + p0 as isize));
            for p in 0..kc {
                let dp = d.add(p * MR);
                for r in 0..MR {
                    *dp.add(r) = *src[r].add(p);
                }
            }
        } else if a.cs == 1 {
            for r in 0..rows {
                let src = a.ptr.offset((ib + r) as isize * a.rs + p0 as isize);
                for p in 0..kc {
                    *d.add(p * MR + r) = *src.add(p);
                }
            }
            for r in rows..MR {
                for p in 0..kc {
                    *d.add(p * MR + r) = 0.0;
                }
            }
        } else {
            for p in 0..kc {
                for r in 0..MR {
                    *d.add(p * MR + r) = if r < rows { a.at(ib + r, p0 + p) } else { 0.0 };
                }
            }
        }
    }
}

/// Packs an A block from image patches (see [`Patches`]): per strip of MR rows and per tap,
/// the MR source runs are read side by side so the packed panel is written in order.
unsafe fn pack_a_patches<const MR: usize>(pt: &Patches, i0: usize, p0: usize, mc: usize, kc: usize, dst: *mut f32) {
    static ZEROS: [f32; 1024] = [0.0; 1024];
    let strips = mc.div_ceil(MR);
    let ch = pt.ch;
    let (t_first, t_last) = (p0 / ch, (p0 + kc - 1) / ch);
    for s in 0..strips {
        let rows = MR.min(mc - s * MR);
        let d = dst.add(s * MR * kc);
        // each row's pixel: image index and source origin
        let mut org = [(0usize, 0isize, 0isize); MR];
        for (r, o) in org.iter_mut().enumerate().take(rows) {
            let row = i0 + s * MR + r;
            let (b, rem) = (row / pt.rplane, row % pt.rplane);
            let (ry, rx) = ((rem / pt.rw) as isize, (rem % pt.rw) as isize);
            *o = (b * pt.src_h, ry * pt.y_mul + pt.y_add, rx * pt.x_mul + pt.x_add);
        }
        let (mut ky, mut kx) = (t_first / pt.kw, t_first % pt.kw);
        for tap in t_first..=t_last {
            let lo = (tap * ch).max(p0);
            let hi = ((tap + 1) * ch).min(p0 + kc);
            let skip = lo - tap * ch;
            let mut src = [std::ptr::null::<f32>(); MR];
            let mut any_zero = false;
            for r in 0..MR {
                let at = if r < rows {
                    let (img, y0, x0) = org[r];
                    Patches::coord(y0 + ky as isize * pt.y_step, pt.y_div, pt.src_h)
                        .zip(Patches::coord(x0 + kx as isize * pt.x_step, pt.x_div, pt.src_w))
                        .map(|(y, x)| pt.data.add(((img + y) * pt.src_w + x) * ch + skip))
                } else {
                    None
                };
                src[r] = at.unwrap_or(std::ptr::null());
                any_zero |= at.is_none();
            }
            let q = d.add((lo - p0) * MR);
            let n = hi - lo;
            if any_zero && n <= ZEROS.len() {
                for p in src.iter_mut() {
                    if p.is_null() {
                        *p = ZEROS.as_ptr();
                    }
                }
                any_zero = false;
            }
            if !any_zero {
                for t in 0..n {
                    for r in 0..MR {
                        *q.add(t * MR + r) = *src[r].add(t);
                    }
                }
            } else {
                for t in 0..n {
                    for r in 0..MR {
                        *q.add(t * MR + r) = if src[r].is_null() { 0.0 } else { *src[r].add(t) };
                    }
                }
            }
            kx += 1;
            if kx == pt.kw {
                kx = 0;
                ky += 1;
            }
        }
    }
}

#[inline]
unsafe fn pack_a_any<const MR: usize>(a: ASrc, i0: usize, p0: usize, mc: usize, kc: usize, dst: *mut f32) {
    match a {
        ASrc::Mat(m) => pack_a::<MR>(m, i0, p0, mc, kc, dst),
        ASrc::Patches(pt) => pack_a_patches::<MR>(pt, i0, p0, mc, kc, dst),
    }
}

/// Packs rows `[p0, p0+kc)` × cols `[j0, j0+nc)` of B into NR-column strips.
unsafe fn pack_b<const NR: usize>(b: Mat, p0: usize, j0: usize, kc: usize, nc: usize, dst: *mut f32) {
    let strips = nc.div_ceil(NR);
    for s in 0..strips {
        let cols = NR.min(nc - s * NR);
        let d = dst.add(s * NR * kc);
        let jb = j0 + s * NR;
        if b.cs == 1 && cols == NR {
            for p in 0..kc {
                let src = b.ptr.offset((p0 + p) as isize * b.rs + jb as isize);
                std::ptr::copy_nonoverlapping(src, d.add(p * NR), NR);
            }
        } else if b.rs == 1 {
            for j in 0..NR {
                if j < cols {
                    let src = b.ptr.offset((jb + j) as isize * b.cs + p0 as isize);
                    for p in 0..kc {
                        *d.add(p * NR + j) = *src.add(p);
                    }
                } else {
                    for p in 0..kc {
                        *d.add(p * NR + j) = 0.0;
                    }
                }
            }
        } else {
            for p in 0..kc {
                for j in 0..NR {
                    *d.add(p * NR + j) = if j < cols { b.at(p0 + p, jb + j) } else { 0.0 };
                }
            }
        }
    }
}

// ------------------------------------------------------------------------------------
// Micro-kernels: C[0..mr, 0..nr] (=|+=) Apanel · Bpanel over kc, and on the last K block
// the bias and ReLU applied in registers as the tile is stored.

/// What the micro-kernel does when it stores the tile of the last K block.
#[derive(Clone, Copy)]
struct Fin {
    last: bool,
    /// Bias at the tile's first column (null: none).
    bias: *const f32,
    relu: bool,
}

impl Fin {
    const NONE: Fin = Fin { last: false, bias: std::ptr::null(), relu: false };
}

/// Applies bias and ReLU to a stored `mr × nr` tile (edge tiles and the portable kernel).
#[inline(always)]
unsafe fn fin_tile(c: *mut f32, ldc: usize, mr: usize, nr: usize, fin: &Fin) {
    if !fin.last {
        return;
    }
    for r in 0..mr {
        let row = std::slice::from_raw_parts_mut(c.add(r * ldc), nr);
        if !fin.bias.is_null() {
            for (j, v) in row.iter_mut().enumerate() {
                *v += *fin.bias.add(j);
            }
        }
        if fin.relu {
            for v in row.iter_mut() {
                if *v < 0.0 {
                    *v = 0.0;
                }
            }
        }
    }
}

/// Writes a finished MR×NR accumulator tile (`tile`, row-major) into C.
#[inline(always)]
unsafe fn store_tile(tile: &[[f32; NR]; MR], c: *mut f32, ldc: usize, mr: usize, nr: usize, first: bool) {
    for r in 0..mr {
        let row = c.add(r * ldc);
        if first {
            for j in 0..nr {
                *row.add(j) = tile[r][j];
            }
        } else {
            for j in 0..nr {
                *row.add(j) += tile[r][j];
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
unsafe fn ukr_scalar(kc: usize, pa: *const f32, pb: *const f32, c: *mut f32, ldc: usize, mr: usize, nr: usize, first: bool, fin: &Fin) {
    let mut acc = [[0f32; NR]; MR];
    for p in 0..kc {
        let a = std::slice::from_raw_parts(pa.add(p * MR), MR);
        let b = std::slice::from_raw_parts(pb.add(p * NR), NR);
        for r in 0..MR {
            for j in 0..NR {
                acc[r][j] += a[r] * b[j];
            }
        }
    }
    store_tile(&acc, c, ldc, mr, nr, first);
    fin_tile(c, ldc, mr, nr, fin);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn ukr_avx2(kc: usize, pa: *const f32, pb: *const f32, c: *mut f32, ldc: usize, mr: usize, nr: usize, first: bool, fin: &Fin) {
    use std::arch::x86_64::*;
    let mut c00 = _mm256_setzero_ps();
    let mut c01 = _mm256_setzero_ps();
    let mut c10 = _mm256_setzero_ps();
    let mut c11 = _mm256_setzero_ps();
    let mut c20 = _mm256_setzero_ps();
    let mut c21 = _mm256_setzero_ps();
    let mut c30 = _mm256_setzero_ps();
    let mut c31 = _mm256_setzero_ps();
    let mut c40 = _mm256_setzero_ps();
    let mut c41 = _mm256_setzero_ps();
    let mut c50 = _mm256_setzero_ps();
    let mut c51 = _mm256_setzero_ps();
    let mut a = pa;
    let mut b = pb;
    macro_rules! step {
        () => {{
            let b0 = _mm256_load_ps(b);
            let b1 = _mm256_load_ps(b.add(8));
            let a0 = _mm256_broadcast_ss(&*a);
            c00 = _mm256_fmadd_ps(a0, b0, c00);
            c01 = _mm256_fmadd_ps(a0, b1, c01);
            let a1 = _mm256_broadcast_ss(&*a.add(1));
            c10 = _mm256_fmadd_ps(a1, b0, c10);
            c11 = _mm256_fmadd_ps(a1, b1, c11);
            let a2 = _mm256_broadcast_ss(&*a.add(2));
            c20 = _mm256_fmadd_ps(a2, b0, c20);
            c21 = _mm256_fmadd_ps(a2, b1, c21);
            let a3 = _mm256_broadcast_ss(&*a.add(3));
            c30 = _mm256_fmadd_ps(a3, b0, c30);
            c31 = _mm256_fmadd_ps(a3, b1, c31);
            let a4 = _mm256_broadcast_ss(&*a.add(4));
            c40 = _mm256_fmadd_ps(a4, b0, c40);
            c41 = _mm256_fmadd_ps(a4, b1, c41);
            let a5 = _mm256_broadcast_ss(&*a.add(5));
            c50 = _mm256_fmadd_ps(a5, b0, c50);
            c51 = _mm256_fmadd_ps(a5, b1, c51);
            a = a.add(MR);
            b = b.add(NR);
        }};
    }
    let mut p = 0;
    while p + 4 <= kc {
        step!();
        step!();
        step!();
        step!();
        p += 4;
    }
    while p < kc {
        step!();
        p += 1;
    }
    let acc = [[c00, c01], [c10, c11], [c20, c21], [c30, c31], [c40, c41], [c50, c51]];
    if mr == MR && nr == NR {
        let has_bias = fin.last && !fin.bias.is_null();
        let relu = fin.last && fin.relu;
        let (b0, b1) = if has_bias { (_mm256_loadu_ps(fin.bias), _mm256_loadu_ps(fin.bias.add(8))) } else { (_mm256_setzero_ps(), _mm256_setzero_ps()) };
        let zero = _mm256_setzero_ps();
        for (r, pair) in acc.iter().enumerate() {
            let row = c.add(r * ldc);
            let (mut v0, mut v1) = if first { (pair[0], pair[1]) } else { (_mm256_add_ps(_mm256_loadu_ps(row), pair[0]), _mm256_add_ps(_mm256_loadu_ps(row.add(8)), pair[1])) };
            if has_bias {
                v0 = _mm256_add_ps(v0, b0);
                v1 = _mm256_add_ps(v1, b1);
            }
            if relu {
                // max(0, v) returns v when v is NaN (like `v < 0 ? 0 : v`), and keeps -0
                v0 = _mm256_max_ps(zero, v0);
                v1 = _mm256_max_ps(zero, v1);
            }
            _mm256_storeu_ps(row, v0);
            _mm256_storeu_ps(row.add(8), v1);
        }
    } else {
        let mut tile = [[0f32; NR]; MR];
        for r in 0..MR {
            _mm256_storeu_ps(tile[r].as_mut_ptr(), acc[r][0]);
            _mm256_storeu_ps(tile[r].as_mut_ptr().add(8), acc[r][1]);
        }
        store_tile(&tile, c, ldc, mr, nr, first);
        fin_tile(c, ldc, mr, nr, fin);
    }
}

/// Applies the end of the AVX-512 tile store to one row: `v (+ C) (+ bias) (relu)` stored
/// under the column masks.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[inline]
#[allow(clippy::too_many_arguments)]
unsafe fn row_out_avx512(
    row: *mut f32,
    mut v0: std::arch::x86_64::__m512,
    mut v1: std::arch::x86_64::__m512,
    m0: u16,
    m1: u16,
    first: bool,
    bias: Option<(std::arch::x86_64::__m512, std::arch::x86_64::__m512)>,
    relu: bool,
) {
    use std::arch::x86_64::*;
    let row1 = row.wrapping_add(16);
    if !first {
        v0 = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, row), v0);
        v1 = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, row1), v1);
    }
    if let Some((b0, b1)) = bias {
        v0 = _mm512_add_ps(v0, b0);
        v1 = _mm512_add_ps(v1, b1);
    }
    if relu {
        // max(0, v) returns v when v is NaN (like `v < 0 ? 0 : v`), and keeps -0
        let zero = _mm512_setzero_ps();
        v0 = _mm512_max_ps(zero, v0);
        v1 = _mm512_max_ps(zero, v1);
    }
    _mm512_mask_storeu_ps(row, m0, v0);
    _mm512_mask_storeu_ps(row1, m1, v1);
}

/// AVX-512F micro-kernel, 12×32 tile: per k step two B loads, then 12 A broadcasts each
/// feeding two FMAs into the 24 zmm accumulators. Edge tiles store under masks (rows
/// `< mr`, columns `< nr`), so the bias and ReLU stay in registers for them too.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[allow(clippy::too_many_arguments)]
unsafe fn ukr_avx512(kc: usize, pa: *const f32, pb: *const f32, c: *mut f32, ldc: usize, mr: usize, nr: usize, first: bool, fin: &Fin) {
    use std::arch::x86_64::*;
    const M: usize = MR512;
    const N: usize = NR512;
    // the C tile is read (or written) after the loop: start fetching its rows now
    for r in 0..mr {
        _mm_prefetch::<_MM_HINT_T0>(c.add(r * ldc) as *const i8);
        _mm_prefetch::<_MM_HINT_T0>(c.add(r * ldc).wrapping_add(N - 1) as *const i8);
    }
    let mut acc = [[_mm512_setzero_ps(); 2]; M];
    let mut a = pa;
    let mut b = pb;
    // every index below is a constant after expansion, so the accumulators live in registers
    macro_rules! rows {
        ($m:ident) => {
            $m!(0);
            $m!(1);
            $m!(2);
            $m!(3);
            $m!(4);
            $m!(5);
            $m!(6);
            $m!(7);
            $m!(8);
            $m!(9);
            $m!(10);
            $m!(11);
        };
    }
    macro_rules! step {
        () => {{
            let b0 = _mm512_load_ps(b);
            let b1 = _mm512_load_ps(b.add(16));
            macro_rules! fma_row {
                ($r:literal) => {{
                    let ar = _mm512_set1_ps(*a.add($r));
                    acc[$r][0] = _mm512_fmadd_ps(ar, b0, acc[$r][0]);
                    acc[$r][1] = _mm512_fmadd_ps(ar, b1, acc[$r][1]);
                }};
            }
            rows!(fma_row);
            a = a.add(M);
            b = b.add(N);
        }};
    }
    let mut p = 0;
    while p + 4 <= kc {
        step!();
        step!();
        step!();
        step!();
        p += 4;
    }
    while p < kc {
        step!();
        p += 1;
    }
    let m0: u16 = if nr >= 16 { 0xffff } else { ((1u32 << nr) - 1) as u16 };
    let m1: u16 = if nr >= 32 { 0xffff } else if nr <= 16 { 0 } else { ((1u32 << (nr - 16)) - 1) as u16 };
    let bias = (fin.last && !fin.bias.is_null()).then(|| (_mm512_maskz_loadu_ps(m0, fin.bias), _mm512_maskz_loadu_ps(m1, fin.bias.wrapping_add(16))));
    let relu = fin.last && fin.relu;
    macro_rules! out_row {
        ($r:literal) => {
            if $r < mr {
                row_out_avx512(c.add($r * ldc), acc[$r][0], acc[$r][1], m0, m1, first, bias, relu);
            }
        };
    }
    rows!(out_row);
}

type Ukr = unsafe fn(usize, *const f32, *const f32, *mut f32, usize, usize, usize, bool, &Fin);

fn micro_kernel() -> Ukr {
    #[cfg(target_arch = "x86_64")]
    {
        if cpu::avx2() {
            return ukr_avx2;
        }
    }
    ukr_scalar
}

/// Which micro-kernel the GEMM uses here.
pub fn kernel_name() -> &'static str {
    if cfg!(target_arch = "x86_64") && cpu::avx512() {
        "avx512f 12x32"
    } else if cfg!(target_arch = "x86_64") && cpu::avx2() {
        "avx2+fma 6x16"
    } else {
        "portable 6x16"
    }
}

/// Runs the micro-kernel over a packed A block (`mc` rows) and a packed B panel (`nc`
/// columns): C rows `[0, mc)`, columns `[0, nc)` at `c`; `j0` is the first column's index
/// (for the bias). On the last K block the micro-kernel adds the bias and applies ReLU in
/// registers; other activations follow on the tile while it is in L1.
#[allow(clippy::too_many_arguments)]
#[inline]
unsafe fn macro_kernel<const MR: usize, const NR: usize>(mc: usize, nc: usize, kc: usize, ap: *const f32, bp: *const f32, c: *mut f32, ldc: usize, first: bool, last: bool, j0: usize, epi: &Epi, ukr: Ukr) {
    let act_after = last && !matches!(epi.act, Act::Linear | Act::Relu);
    let mut jr = 0;
    while jr < nc {
        let nr = NR.min(nc - jr);
        let fin = if last { Fin { last: true, bias: epi.bias.map_or(std::ptr::null(), |b| b[j0 + jr..].as_ptr()), relu: epi.act == Act::Relu } } else { Fin::NONE };
        let mut ir = 0;
        while ir < mc {
            let mr = MR.min(mc - ir);
            let cp = c.add(ir * ldc + jr);
            ukr(kc, ap.add(ir * kc), bp.add(jr * kc), cp, ldc, mr, nr, first, &fin);
            if act_after {
                for r in 0..mr {
                    apply_act(std::slice::from_raw_parts_mut(cp.add(r * ldc), nr), epi.act);
                }
            }
            ir += MR;
        }
        jr += NR;
    }
}

/// The K and M block sizes (KC, MC) for a micro-kernel `NR` columns wide.
const fn blocking(nr: usize) -> (usize, usize) {
    if nr == NR512 {
        (KC512, MC512)
    } else {
        (KC, MC)
    }
}

/// One B panel of the blocked GEMM: columns `[jc, jc+nc)`, K range `[pc, pc+kc)`; `first`:
/// C is overwritten rather than added to; `last`: the epilogue runs on this K block.
#[derive(Clone, Copy)]
struct Panel {
    jc: usize,
    nc: usize,
    pc: usize,
    kc: usize,
    first: bool,
    last: bool,
}

/// Walks the B panels in Goto order (column blocks of NC, then K blocks of `kcb`), the one
/// loop nest the serial and threaded GEMMs share; they differ only in how a panel is packed
/// and how its row blocks are spread.
#[inline(always)]
fn for_each_panel<E>(n: usize, k: usize, kcb: usize, accumulate: bool, epi: &Epi, mut panel: impl FnMut(Panel) -> Result<(), E>) -> Result<(), E> {
    let mut jc = 0;
    while jc < n {
        let nc = NC.min(n - jc);
        let mut pc = 0;
        while pc < k {
            let kc = kcb.min(k - pc);
            panel(Panel { jc, nc, pc, kc, first: !accumulate && pc == 0, last: pc + kc == k && epi.active() })?;
            pc += kcb;
        }
        jc += NC;
    }
    Ok(())
}

/// Serial blocked GEMM of one sub-problem.
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_blocked<const MR: usize, const NR: usize>(m: usize, n: usize, k: usize, a: ASrc, b: Mat, c: *mut f32, ldc: usize, accumulate: bool, epi: &Epi, ukr: Ukr) {
    let (kcb, mcb) = blocking(NR);
    PACK.with(|cell| {
        let mut bufs = cell.borrow_mut();
        let (abuf, bbuf) = &mut *bufs;
        let kc_max = kcb.min(k);
        let ap = abuf.ensure(mcb.min(m).next_multiple_of(MR) * kc_max);
        let bp = bbuf.ensure(NC.min(n).next_multiple_of(NR) * kc_max);
        let walked = for_each_panel::<std::convert::Infallible>(n, k, kcb, accumulate, epi, |Panel { jc, nc, pc, kc, first, last }| {
            pack_b::<NR>(b, pc, jc, kc, nc, bp);
            let mut ic = 0;
            while ic < m {
                let mc = mcb.min(m - ic);
                pack_a_any::<MR>(a, ic, pc, mc, kc, ap);
                macro_kernel::<MR, NR>(mc, nc, kc, ap, bp, c.add(ic * ldc + jc), ldc, first, last, jc, epi, ukr);
                ic += mcb;
            }
            Ok(())
        });
        let Ok(()) = walked;
    })
}

/// Threaded blocked GEMM: for each (jc, pc) panel, B is packed once (strips in parallel)
/// into a buffer the tasks share, then row blocks are handed out dynamically, each task
/// packing its own A block. Dynamic hand-out keeps all threads busy even when one of them
/// is descheduled (a busy machine).
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_threaded<const MR: usize, const NR: usize>(m: usize, n: usize, k: usize, a: ASrc, b: Mat, c: *mut f32, ldc: usize, accumulate: bool, epi: &Epi, ukr: Ukr, nt: usize) -> Result<(), String> {
    let (kcb, mcb) = blocking(NR);
    // Row blocks of whole MR strips: at most MC rows each, at least ~3 per thread, and a
    // multiple of `nt` blocks of near-equal size, so that with threads that all get a core
    // every thread ends each K block at the same time (uneven blocks left one thread idle
    // at every barrier).
    let strips_m = m.div_ceil(MR);
    let per_block = (mcb / MR).max(1);
    let nblocks = strips_m.div_ceil(per_block).max(3 * nt).next_multiple_of(nt).min(strips_m);
    let mb = strips_m.div_ceil(nblocks) * MR;
    let block_rows = move |bi: usize| -> (usize, usize) { ((strips_m * bi / nblocks) * MR, ((strips_m * (bi + 1) / nblocks) * MR).min(m)) };
    let cp = SendPtr(c);
    SHARED_B.with(|cell| {
        let mut shared = cell.borrow_mut();
        let bp = SendPtr(shared.ensure(NC.min(n).next_multiple_of(NR) * kcb.min(k)));
        for_each_panel(n, k, kcb, accumulate, epi, |Panel { jc, nc, pc, kc, first, last }| {
            let strips = nc.div_ceil(NR);
            let pt = nt.min(strips.div_ceil(4)).max(1);
            pool::run(pt, pt, &|t| {
                let (s0, s1) = (strips * t / pt, strips * (t + 1) / pt);
                if s0 < s1 {
                    let cols = (s1 * NR).min(nc) - s0 * NR;
                    pack_b::<NR>(b, pc, jc + s0 * NR, kc, cols, bp.get().add(s0 * NR * kc));
                }
            })?;
            pool::run(nblocks, nt, &|bi| {
                let (ic, ie) = block_rows(bi);
                let mc = ie - ic;
                PACK.with(|pcell| {
                    let mut bufs = pcell.borrow_mut();
                    let ap = bufs.0.ensure(mb * kc);
                    pack_a_any::<MR>(a, ic, pc, mc, kc, ap);
                    macro_kernel::<MR, NR>(mc, nc, kc, ap, bp.get(), cp.get().add(ic * ldc + jc), ldc, first, last, jc, epi, ukr);
                })
            })
        })
    })
}

// ------------------------------------------------------------------------------------
// Direct loops for small and vector-shaped products

#[inline(always)]
unsafe fn direct_body(m: usize, n: usize, k: usize, a: Mat, b: Mat, c: *mut f32, ldc: usize, accumulate: bool, epi: &Epi) {
    for i in 0..m {
        let crow = c.add(i * ldc);
        if b.cs == 1 {
            let row = std::slice::from_raw_parts_mut(crow, n);
            if !accumulate {
                row.fill(0.0);
            }
            for p in 0..k {
                let aip = a.at(i, p);
                let brow = std::slice::from_raw_parts(b.ptr.offset(p as isize * b.rs), n);
                for (x, &y) in row.iter_mut().zip(brow) {
                    *x = aip.mul_add(y, *x);
                }
            }
        } else if a.cs == 1 && b.rs == 1 {
            let arow = std::slice::from_raw_parts(a.ptr.offset(i as isize * a.rs), k);
            for j in 0..n {
                let bcol = std::slice::from_raw_parts(b.ptr.offset(j as isize * b.cs), k);
                // 8 partial sums so the loop vectorises
                let mut acc = [0f32; 8];
                let chunks = k / 8;
                for q in 0..chunks {
                    for l in 0..8 {
                        acc[l] = arow[q * 8 + l].mul_add(bcol[q * 8 + l], acc[l]);
                    }
                }
                let mut s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
                for p in chunks * 8..k {
                    s = arow[p].mul_add(bcol[p], s);
                }
                let cj = crow.add(j);
                *cj = if accumulate { *cj + s } else { s };
            }
        } else {
            for j in 0..n {
                let mut s = 0f32;
                for p in 0..k {
                    s = a.at(i, p).mul_add(b.at(p, j), s);
                }
                let cj = crow.add(j);
                *cj = if accumulate { *cj + s } else { s };
            }
        }
        if epi.active() {
            finish_row(crow, n, 0, epi);
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn direct_avx2(m: usize, n: usize, k: usize, a: Mat, b: Mat, c: *mut f32, ldc: usize, accumulate: bool, epi: &Epi) {
    direct_body(m, n, k, a, b, c, ldc, accumulate, epi)
}

unsafe fn direct_plain(m: usize, n: usize, k: usize, a: Mat, b: Mat, c: *mut f32, ldc: usize, accumulate: bool, epi: &Epi) {
    // without FMA hardware mul_add is a libm call: use separate multiply and add instead
    for i in 0..m {
        let crow = c.add(i * ldc);
        for j in 0..n {
            let mut s = 0f32;
            for p in 0..k {
                s += a.at(i, p) * b.at(p, j);
            }
            let cj = crow.add(j);
            *cj = if accumulate { *cj + s } else { s };
        }
        if epi.active() {
            finish_row(crow, n, 0, epi);
        }
    }
}

unsafe fn direct(m: usize, n: usize, k: usize, a: Mat, b: Mat, c: *mut f32, ldc: usize, accumulate: bool, epi: &Epi) {
    #[cfg(target_arch = "x86_64")]
    {
        if cpu::avx2() {
            return direct_avx2(m, n, k, a, b, c, ldc, accumulate, epi);
        }
    }
    direct_plain(m, n, k, a, b, c, ldc, accumulate, epi)
}

/// `C[i, j] (+)= Σ_p A[i, p]·B[p, j]` then the epilogue, for `i < m, j < n`; C is row-major
/// with leading dimension `ldc`. With `accumulate` false C is overwritten. Uses up to
/// `threads` threads.
///
/// # Safety
/// Every addressed element of A, B and C must be valid; C must not overlap A or B.
#[allow(clippy::too_many_arguments)]
pub unsafe fn sgemm(m: usize, n: usize, k: usize, a: Mat, b: Mat, c: *mut f32, ldc: usize, accumulate: bool, epi: &Epi, threads: usize) -> Result<(), String> {
    if m == 0 || n == 0 {
        return Ok(());
    }
    if k == 0 {
        for i in 0..m {
            let row = c.add(i * ldc);
            if !accumulate {
                std::slice::from_raw_parts_mut(row, n).fill(0.0);
            }
            finish_row(row, n, 0, epi);
        }
        return Ok(());
    }
    let macs = m * n * k;
    let nt = threads.max(1).min((macs / PAR_MACS).max(1));
    let cp = SendPtr(c);
    if m < 4 || n < 4 || macs <= 8192 {
        if nt > 1 && m >= 2 * nt {
            return pool::par_ranges(m, 1, nt, &|s, e| direct(e - s, n, k, a.shift(s, 0), b, cp.get().add(s * ldc), ldc, accumulate, epi));
        }
        if nt > 1 && n >= 64 * nt {
            let units = n.div_ceil(16);
            return pool::par_ranges(units, 1, nt, &|s, e| {
                let (j0, j1) = (s * 16, (e * 16).min(n));
                direct(m, j1 - j0, k, a, b.shift(0, j0), cp.get().add(j0), ldc, accumulate, &epi.shift(j0))
            });
        }
        direct(m, n, k, a, b, c, ldc, accumulate, epi);
        return Ok(());
    }
    blocked(m, n, k, ASrc::Mat(a), b, c, ldc, accumulate, epi, nt)
}

/// `C (+)= act(patches · B + bias)` with A read straight from an image (implicit im2col).
///
/// # Safety
/// As [`sgemm`]; the source must hold `(rows / rplane) × src_h × src_w × ch` floats.
#[allow(clippy::too_many_arguments)]
pub unsafe fn sgemm_patches(m: usize, n: usize, k: usize, a: &Patches, b: Mat, c: *mut f32, ldc: usize, accumulate: bool, epi: &Epi, threads: usize) -> Result<(), String> {
    if m == 0 || n == 0 {
        return Ok(());
    }
    if k == 0 {
        return sgemm(m, n, 0, Mat { ptr: std::ptr::null(), rs: 0, cs: 0 }, b, c, ldc, accumulate, epi, threads);
    }
    let nt = threads.max(1).min((m * n * k / PAR_MACS).max(1));
    blocked(m, n, k, ASrc::Patches(a), b, c, ldc, accumulate, epi, nt)
}

/// The packed paths: serial, row blocks handed out to threads, or (few rows) column splits,
/// with the AVX-512 12×32 micro-kernel where the CPU has it and the 6×16 one otherwise.
#[allow(clippy::too_many_arguments)]
unsafe fn blocked(m: usize, n: usize, k: usize, a: ASrc, b: Mat, c: *mut f32, ldc: usize, accumulate: bool, epi: &Epi, nt: usize) -> Result<(), String> {
    #[cfg(target_arch = "x86_64")]
    {
        if cpu::avx512() {
            return blocked_with::<MR512, NR512>(m, n, k, a, b, c, ldc, accumulate, epi, nt, ukr_avx512);
        }
    }
    blocked_with::<MR, NR>(m, n, k, a, b, c, ldc, accumulate, epi, nt, micro_kernel())
}

/// [`blocked`] with a given micro-kernel and its `MR × NR` register tile.
#[allow(clippy::too_many_arguments)]
unsafe fn blocked_with<const MR: usize, const NR: usize>(m: usize, n: usize, k: usize, a: ASrc, b: Mat, c: *mut f32, ldc: usize, accumulate: bool, epi: &Epi, nt: usize, ukr: Ukr) -> Result<(), String> {
    if nt <= 1 {
        gemm_blocked::<MR, NR>(m, n, k, a, b, c, ldc, accumulate, epi, ukr);
        return Ok(());
    }
    if m >= 2 * MR * nt {
        return gemm_threaded::<MR, NR>(m, n, k, a, b, c, ldc, accumulate, epi, ukr, nt);
    }
    // few rows: split the columns, each thread packing its own (small) A and its B strips
    let cp = SendPtr(c);
    let nu = n.div_ceil(NR);
    let nt = nt.min(nu);
    pool::run(nt, nt, &|t| {
        let (s, e) = ((nu * t / nt) * NR, ((nu * (t + 1) / nt) * NR).min(n));
        if s < e {
            gemm_blocked::<MR, NR>(m, e - s, k, a, b.shift(0, s), cp.get().add(s), ldc, accumulate, &epi.shift(s), ukr);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lcg(seed: &mut u64) -> f32 {
        *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((*seed >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }

    /// Which path [`check_with`] runs.
    #[derive(Clone, Copy, PartialEq)]
    enum Path {
        /// `sgemm` as dispatched on this CPU.
        Auto,
        /// The packed path with the portable 6×16 micro-kernel.
        Scalar,
        /// The packed path (threads as given) with the AVX2 6×16 micro-kernel.
        Avx2,
        /// The packed path (threads as given) with the AVX-512 12×32 micro-kernel.
        Avx512,
    }

    /// Checks sgemm against a float64 reference for one shape and layout.
    fn check(m: usize, n: usize, k: usize, ta: bool, tb: bool, accumulate: bool, act: Act, bias: bool, threads: usize, force_scalar: bool) {
        check_with(m, n, k, ta, tb, accumulate, act, bias, threads, if force_scalar { Path::Scalar } else { Path::Auto })
    }

    #[allow(clippy::too_many_arguments)]
    fn check_with(m: usize, n: usize, k: usize, ta: bool, tb: bool, accumulate: bool, act: Act, bias: bool, threads: usize, path: Path) {
        let mut seed = (m * 1000003 + n * 1009 + k) as u64;
        let a: Vec<f32> = (0..m * k).map(|_| lcg(&mut seed)).collect();
        let b: Vec<f32> = (0..k * n).map(|_| lcg(&mut seed)).collect();
        let bias_v: Vec<f32> = (0..n).map(|_| lcg(&mut seed)).collect();
        let c0: Vec<f32> = (0..m * (n + 3)).map(|_| lcg(&mut seed)).collect();
        let ldc = n + 3;
        let am = if ta { Mat { ptr: a.as_ptr(), rs: 1, cs: m as isize } } else { Mat { ptr: a.as_ptr(), rs: k as isize, cs: 1 } };
        let bm = if tb { Mat { ptr: b.as_ptr(), rs: 1, cs: k as isize } } else { Mat { ptr: b.as_ptr(), rs: n as isize, cs: 1 } };
        let mut c = c0.clone();
        let epi = Epi { bias: if bias { Some(&bias_v) } else { None }, act };
        unsafe {
            match path {
                Path::Auto => sgemm(m, n, k, am, bm, c.as_mut_ptr(), ldc, accumulate, &epi, threads).unwrap(),
                Path::Scalar => gemm_blocked::<MR, NR>(m, n, k, ASrc::Mat(am), bm, c.as_mut_ptr(), ldc, accumulate, &epi, ukr_scalar),
                #[cfg(target_arch = "x86_64")]
                Path::Avx2 => blocked_with::<MR, NR>(m, n, k, ASrc::Mat(am), bm, c.as_mut_ptr(), ldc, accumulate, &epi, threads, ukr_avx2).unwrap(),
                #[cfg(target_arch = "x86_64")]
                Path::Avx512 => blocked_with::<MR512, NR512>(m, n, k, ASrc::Mat(am), bm, c.as_mut_ptr(), ldc, accumulate, &epi, threads, ukr_avx512).unwrap(),
                #[cfg(not(target_arch = "x86_64"))]
                _ => unreachable!(),
            }
        }
        for i in 0..m {
            for j in 0..n {
                let mut s = 0f64;
                let mut mag = 0f64;
                for p in 0..k {
                    let x = unsafe { am.at(i, p) as f64 * bm.at(p, j) as f64 };
                    s += x;
                    mag += x.abs();
                }
                if accumulate {
                    s += c0[i * ldc + j] as f64;
                }
                if bias {
                    s += bias_v[j] as f64;
                }
                let r = match act {
                    Act::Linear => s,
                    Act::Relu => s.max(0.0),
                    Act::Sigmoid => math::sigmoid(s),
                    Act::Tanh => s.tanh(),
                    Act::Gelu => math::gelu(s),
                };
                let g = c[i * ldc + j] as f64;
                let tol = 1e-5 * (mag + 1.0) + 1e-6;
                assert!((g - r).abs() <= tol, "m{m} n{n} k{k} ta{ta} tb{tb} acc{accumulate} {act:?} t{threads}: c[{i},{j}] = {g}, want {r}");
            }
            for j in n..ldc {
                assert_eq!(c[i * ldc + j], c0[i * ldc + j], "wrote outside the tile at [{i},{j}]");
            }
        }
    }

    #[test]
    fn ragged_sizes_all_layouts() {
        let sizes = [(1, 1, 1), (7, 17, 5), (6, 16, 256), (5, 15, 257), (13, 33, 3), (2, 100, 40), (100, 2, 40), (37, 41, 300), (129, 130, 67), (61, 200, 513)];
        for &(m, n, k) in &sizes {
            for &(ta, tb) in &[(false, false), (true, false), (false, true), (true, true)] {
                check(m, n, k, ta, tb, false, Act::Linear, false, 1, false);
            }
            check(m, n, k, false, false, true, Act::Linear, false, 1, false);
            check(m, n, k, false, false, false, Act::Relu, true, 2, false);
            check(m, n, k, false, true, false, Act::Gelu, true, 1, false);
            check(m, n, k, false, false, false, Act::Sigmoid, true, 3, false);
            check(m, n, k, true, false, false, Act::Tanh, false, 2, false);
            check(m, n, k, false, false, false, Act::Relu, true, 1, true);
            check(m, n, k, true, true, true, Act::Linear, true, 1, true);
        }
    }

    /// Each SIMD micro-kernel (where this CPU has it) on ragged sizes around its tile, every
    /// layout, the epilogues, and threads, against the float64 reference.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn simd_kernels_ragged() {
        let mut paths = Vec::new();
        if crate::cpu::avx2() {
            paths.push(Path::Avx2);
        }
        if crate::cpu::avx512() {
            paths.push(Path::Avx512);
        }
        let sizes = [
            (1, 1, 1),
            (11, 31, 5),
            (12, 32, 256),
            (13, 33, 257),
            (12, 17, 3),
            (25, 48, 40),
            (23, 65, 1),
            (145, 97, 300),
            (150, 16, 513),
            (64, 4100, 20),
            (289, 129, 67),
        ];
        for path in paths {
            for &(m, n, k) in &sizes {
                for &(ta, tb) in &[(false, false), (true, false), (false, true), (true, true)] {
                    check_with(m, n, k, ta, tb, false, Act::Linear, false, 1, path);
                }
                check_with(m, n, k, false, false, true, Act::Linear, false, 1, path);
                check_with(m, n, k, false, false, false, Act::Relu, true, 1, path);
                check_with(m, n, k, false, false, true, Act::Relu, true, 2, path);
                check_with(m, n, k, false, true, false, Act::Gelu, true, 2, path);
                check_with(m, n, k, true, false, false, Act::Sigmoid, true, 3, path);
                check_with(m, n, k, false, false, false, Act::Linear, true, 2, path);
            }
        }
    }

    #[test]
    fn threaded_large() {
        check(300, 290, 280, false, false, false, Act::Relu, true, 2, false);
        check(40, 1100, 300, false, true, false, Act::Linear, false, 3, false);
        check(1, 5000, 300, false, false, false, Act::Linear, true, 2, false);
        check(5000, 1, 300, false, false, false, Act::Linear, false, 2, false);
        check(20, 20, 0, false, false, false, Act::Sigmoid, true, 2, false);
        // more than one NC panel and several KC blocks, threaded, with the epilogue
        check(30, 4200, 300, true, false, false, Act::Relu, true, 2, false);
        check(30, 4200, 300, false, true, true, Act::Linear, false, 1, false);
    }
}

#[cfg(test)]
mod peak {
    /// The micro-kernel alone on L1-resident panels: GFLOP/s of this core right now (run with
    /// `cargo test --release peak -- --ignored --nocapture`).
    #[test]
    #[ignore]
    fn micro_kernel_peak() {
        use super::*;
        let kc = 256;
        #[cfg(target_arch = "x86_64")]
        let (mr, nr, ukr): (usize, usize, Ukr) = if crate::cpu::avx512() { (MR512, NR512, ukr_avx512) } else { (MR, NR, micro_kernel()) };
        #[cfg(not(target_arch = "x86_64"))]
        let (mr, nr, ukr): (usize, usize, Ukr) = (MR, NR, micro_kernel());
        let a = vec![1.0f32; mr * kc + 64];
        let b = vec![1.0f32; nr * kc + 64];
        let ap = (a.as_ptr() as usize).next_multiple_of(64) as *const f32;
        let bp = (b.as_ptr() as usize).next_multiple_of(64) as *const f32;
        let mut c = vec![0f32; mr * nr];
        extern "C" {
            fn clock_gettime(clock: i32, ts: *mut [i64; 2]) -> i32;
        }
        let cpu = || {
            let mut ts = [0i64; 2];
            unsafe { clock_gettime(3 /* CLOCK_THREAD_CPUTIME_ID */, &mut ts) };
            ts[0] as f64 + ts[1] as f64 * 1e-9
        };
        let reps = 200_000;
        let (mut best, mut best_cpu) = (f64::MAX, f64::MAX);
        for _ in 0..5 {
            let (t, c0) = (std::time::Instant::now(), cpu());
            for _ in 0..reps {
                unsafe { ukr(kc, ap, bp, c.as_mut_ptr(), nr, mr, nr, false, &Fin::NONE) };
            }
            best = best.min(t.elapsed().as_secs_f64());
            best_cpu = best_cpu.min(cpu() - c0);
        }
        let flop = 2.0 * (mr * nr * kc) as f64 * reps as f64;
        println!("micro-kernel {}: {:.1} GFLOP/s wall, {:.1} per thread CPU-second (best of 5)", kernel_name(), flop / best / 1e9, flop / best_cpu / 1e9);
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod fma_peak {
    /// Register-only FMA throughput of this core right now (the ceiling for the micro-kernel):
    /// `cargo test --release fma_peak -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn fma_peak() {
        if !crate::cpu::avx2() {
            return;
        }
        #[target_feature(enable = "avx2,fma")]
        unsafe fn spin(iters: usize) -> f32 {
            use std::arch::x86_64::*;
            let mut acc = [_mm256_set1_ps(0.0); 12];
            let a = _mm256_set1_ps(0.999_999);
            let b = _mm256_set1_ps(1e-7);
            for _ in 0..iters {
                for v in acc.iter_mut() {
                    *v = _mm256_fmadd_ps(*v, a, b);
                }
            }
            let mut out = [0f32; 8];
            let mut s = acc[0];
            for v in &acc[1..] {
                s = _mm256_add_ps(s, *v);
            }
            _mm256_storeu_ps(out.as_mut_ptr(), s);
            out[0]
        }
        let iters = 20_000_000;
        let mut best = f64::MAX;
        for _ in 0..3 {
            let t = std::time::Instant::now();
            std::hint::black_box(unsafe { spin(iters) });
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!("register FMA peak: {:.1} GFLOP/s", (iters * 12 * 16) as f64 / best / 1e9);
    }
}
