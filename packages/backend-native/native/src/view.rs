//! Views (buffer + dtype + shape + strides + offset), their bounds checks, argument parsing
//! from the shared scratch array, and the strided N-operand iterator the element-wise and
//! reduction kernels are built on.

use crate::storage::Storage;

/// Most axes a view may have.
pub const MAXR: usize = 16;

pub type Res<T> = Result<T, String>;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DType {
    F32 = 0,
    I32 = 1,
    Bool = 2,
}

impl DType {
    pub fn from_code(c: i64) -> Res<DType> {
        match c {
            0 => Ok(DType::F32),
            1 => Ok(DType::I32),
            2 => Ok(DType::Bool),
            _ => Err(format!("unknown dtype code {c}")),
        }
    }
    #[inline]
    pub fn size(self) -> usize {
        match self {
            DType::Bool => 1,
            _ => 4,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "float32",
            DType::I32 => "int32",
            DType::Bool => "bool",
        }
    }
}

/// A validated strided view: every element it addresses lies inside its buffer.
#[derive(Clone, Copy)]
pub struct View {
    /// Base of the buffer (element 0 of the buffer, not of the view).
    pub base: *mut u8,
    /// The buffer's storage slot (resolved from the handle, which was checked).
    pub buf: u32,
    pub dt: DType,
    pub off: isize,
    pub rank: usize,
    pub shape: [usize; MAXR],
    pub strides: [isize; MAXR],
    pub size: usize,
}

unsafe impl Send for View {}
unsafe impl Sync for View {}

impl View {
    pub const EMPTY: View = View { base: std::ptr::null_mut(), buf: u32::MAX, dt: DType::F32, off: 0, rank: 0, shape: [0; MAXR], strides: [0; MAXR], size: 0 };

    #[inline]
    pub fn shape(&self) -> &[usize] {
        &self.shape[..self.rank]
    }
    #[inline]
    pub fn strides(&self) -> &[isize] {
        &self.strides[..self.rank]
    }
    /// Row-major and gap-free from `off` (size-1 axes may have any stride).
    pub fn is_contiguous(&self) -> bool {
        let mut expect = 1isize;
        for d in (0..self.rank).rev() {
            let n = self.shape[d];
            if n != 1 {
                if self.strides[d] != expect {
                    return false;
                }
                expect *= n as isize;
            }
        }
        true
    }
    /// The step of a view walked as one flat run: 1 if contiguous, 0 if a broadcast scalar.
    #[inline]
    pub fn flat_step(&self) -> Option<isize> {
        if self.is_contiguous() {
            Some(1)
        } else if self.is_scalar_like() {
            Some(0)
        } else {
            None
        }
    }
    /// Every position is the same memory cell (a broadcast scalar).
    pub fn is_scalar_like(&self) -> bool {
        (0..self.rank).all(|d| self.shape[d] <= 1 || self.strides[d] == 0)
    }
    /// Two positions of the view share a memory cell (a stride-0 axis longer than 1).
    pub fn self_overlapping(&self) -> bool {
        (0..self.rank).any(|d| self.shape[d] > 1 && self.strides[d] == 0)
    }
    /// Pointer to the element at element offset `o` (relative to the buffer base).
    #[inline(always)]
    pub fn at<T>(&self, o: isize) -> *mut T {
        // Offsets come from validated views, so this stays inside the allocation.
        unsafe { (self.base as *mut T).offset(o) }
    }
    /// Pointer to the view's first element.
    #[inline(always)]
    pub fn first<T>(&self) -> *mut T {
        self.at(self.off)
    }
    /// Byte pointer to the view's first element.
    #[inline(always)]
    pub fn first_byte(&self) -> *mut u8 {
        unsafe { self.base.offset(self.off * self.dt.size() as isize) }
    }
    /// The byte range `[lo, hi)` the view may touch, relative to the buffer base.
    pub fn byte_span(&self) -> (usize, usize) {
        if self.size == 0 {
            return (0, 0);
        }
        let (mut lo, mut hi) = (self.off, self.off);
        for d in 0..self.rank {
            let e = (self.shape[d] as isize - 1) * self.strides[d];
            if e < 0 {
                lo += e
            } else {
                hi += e
            }
        }
        let es = self.dt.size();
        (lo as usize * es, (hi as usize + 1) * es)
    }
    /// Same buffer and overlapping byte ranges.
    pub fn overlaps(&self, other: &View) -> bool {
        if self.buf != other.buf || self.size == 0 || other.size == 0 {
            return false;
        }
        let (a0, a1) = self.byte_span();
        let (b0, b1) = other.byte_span();
        a0 < b1 && b0 < a1
    }
    /// A contiguous view of the same shape over another base (e.g. a temporary).
    pub fn contiguous_at(&self, base: *mut u8, dt: DType) -> View {
        let mut v = *self;
        v.base = base;
        v.buf = u32::MAX;
        v.dt = dt;
        v.off = 0;
        let mut acc = 1isize;
        for d in (0..self.rank).rev() {
            v.strides[d] = acc;
            acc *= self.shape[d] as isize;
        }
        v
    }
    /// The view without axis `axis`.
    pub fn without_axis(&self, axis: usize) -> View {
        let mut v = *self;
        for d in axis..self.rank - 1 {
            v.shape[d] = self.shape[d + 1];
            v.strides[d] = self.strides[d + 1];
        }
        v.rank -= 1;
        v.size = v.shape().iter().product();
        v
    }
    pub fn expect(&self, dt: DType, what: &str) -> Res<()> {
        if self.dt != dt {
            return Err(format!("{what} must be {}, got {}", dt.name(), self.dt.name()));
        }
        Ok(())
    }
}

/// A contiguous host buffer with a view over it (kernels use these for temporaries).
pub struct Temp {
    data: Vec<u64>,
    pub view: View,
}

impl Temp {
    /// A zeroed contiguous temporary shaped like `like`, of dtype `dt`.
    pub fn new(like: &View, dt: DType) -> Temp {
        let bytes = like.size * dt.size();
        let mut data = vec![0u64; bytes.div_ceil(8).max(1)];
        let view = like.contiguous_at(data.as_mut_ptr() as *mut u8, dt);
        Temp { data, view }
    }
    pub fn f32(&mut self) -> &mut [f32] {
        unsafe { std::slice::from_raw_parts_mut(self.data.as_mut_ptr() as *mut f32, self.view.size) }
    }
}

/// Reads arguments the JS side packed into the shared Float64Array.
pub struct Args<'a> {
    s: &'a [f64],
    p: usize,
}

impl<'a> Args<'a> {
    pub fn new(s: &'a [f64]) -> Self {
        Args { s, p: 0 }
    }
    #[inline(always)]
    pub fn f(&mut self) -> Res<f64> {
        let v = *self.s.get(self.p).ok_or("argument list overruns the scratch array")?;
        self.p += 1;
        Ok(v)
    }
    #[inline(always)]
    pub fn int(&mut self) -> Res<i64> {
        let v = self.f()?;
        // a conversion round trip (no libm call): rejects fractions, NaN and infinities
        let i = v as i64;
        if i as f64 != v || i.unsigned_abs() > 1 << 53 {
            return Err(format!("expected an integer argument, got {v}"));
        }
        Ok(i)
    }
    #[inline(always)]
    pub fn usize(&mut self) -> Res<usize> {
        let v = self.int()?;
        if v < 0 {
            return Err(format!("expected a non-negative integer, got {v}"));
        }
        Ok(v as usize)
    }
    /// A buffer handle (a non-negative integer; `Storage::get`/`free` decide if it is live).
    #[inline(always)]
    pub fn handle(&mut self) -> Res<u64> {
        Ok(self.usize()? as u64)
    }
    pub fn bool(&mut self) -> Res<bool> {
        Ok(self.f()? != 0.0)
    }
    /// A view: `[handle, dtype, offset, rank, ...shape, ...strides]`, checked against the buffer.
    pub fn view(&mut self, st: &Storage) -> Res<View> {
        let mut v = View::EMPTY;
        self.view_into(st, &mut v)?;
        Ok(v)
    }

    /// Parses a view into `v` in place (no large copies on the per-call path).
    #[inline(always)]
    pub fn view_into(&mut self, st: &Storage, v: &mut View) -> Res<()> {
        let (id, base, bytes) = st.get(self.handle()?)?;
        let dt = DType::from_code(self.int()?)?;
        let off = self.int()?;
        let rank = self.usize()?;
        if rank > MAXR {
            return Err(format!("views of rank {rank} are not supported (at most {MAXR})"));
        }
        v.base = base;
        v.buf = id;
        v.dt = dt;
        v.off = off as isize;
        v.rank = rank;
        // sizes and offsets fit in i64 (each value is at most 2^53); products are checked
        let too_big = || "view is too large".to_string();
        let mut size: usize = 1;
        for d in 0..rank {
            let n = self.usize()?;
            v.shape[d] = n;
            size = size.checked_mul(n).ok_or_else(too_big)?;
        }
        let (mut lo, mut hi) = (off, off);
        for d in 0..rank {
            let s = self.int()?;
            v.strides[d] = s as isize;
            if v.shape[d] > 0 {
                let e = (v.shape[d] as i64 - 1).checked_mul(s).ok_or_else(too_big)?;
                if e < 0 {
                    lo = lo.checked_add(e).ok_or_else(too_big)?;
                } else {
                    hi = hi.checked_add(e).ok_or_else(too_big)?;
                }
            }
        }
        if size > (isize::MAX as usize) / 8 {
            return Err(too_big());
        }
        v.size = size;
        if size > 0 {
            let es = dt.size() as i64;
            if lo < 0 || hi.checked_add(1).and_then(|h| h.checked_mul(es)).is_none_or(|end| end > bytes as i64) {
                return Err(format!(
                    "view out of bounds: a {} view of shape [{}] strides [{}] offset {} reaches elements {}..={} of a {}-byte buffer",
                    dt.name(),
                    join(v.shape()),
                    join(v.strides()),
                    off,
                    lo,
                    hi,
                    bytes
                ));
            }
        }
        Ok(())
    }
    /// A list of `n` non-negative integers.
    pub fn usizes(&mut self, n: usize) -> Res<Vec<usize>> {
        (0..n).map(|_| self.usize()).collect()
    }
}

fn join<T: std::fmt::Display>(xs: &[T]) -> String {
    xs.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(",")
}

pub fn shape_text(v: &View) -> String {
    format!("[{}]", join(v.shape()))
}

pub fn check_same_shape(a: &View, b: &View, what: &str) -> Res<()> {
    if a.shape() != b.shape() {
        return Err(format!("{what}: shapes {} and {} differ", shape_text(a), shape_text(b)));
    }
    Ok(())
}

/// K same-shaped operands with their axes merged where every operand allows it and size-1
/// axes dropped (at least one axis remains). Offsets are in elements from each buffer base.
#[derive(Clone, Copy)]
pub struct Iter<const K: usize> {
    pub rank: usize,
    pub shape: [usize; MAXR],
    pub st: [[isize; MAXR]; K],
    pub off: [isize; K],
}

impl<const K: usize> Iter<K> {
    #[inline(always)]
    pub fn new(shape: &[usize], strides: [&[isize]; K], offs: [isize; K]) -> Self {
        let mut it = Iter { rank: 0, shape: [0; MAXR], st: [[0; MAXR]; K], off: offs };
        for d in 0..shape.len() {
            let n = shape[d];
            if n == 1 {
                continue;
            }
            if it.rank > 0 {
                let last = it.rank - 1;
                if (0..K).all(|j| it.st[j][last] == strides[j][d] * n as isize) {
                    it.shape[last] *= n;
                    for j in 0..K {
                        it.st[j][last] = strides[j][d];
                    }
                    continue;
                }
            }
            it.shape[it.rank] = n;
            for j in 0..K {
                it.st[j][it.rank] = strides[j][d];
            }
            it.rank += 1;
        }
        if it.rank == 0 {
            it.rank = 1;
            it.shape[0] = 1;
        }
        it
    }
    #[inline(always)]
    pub fn of(views: [&View; K]) -> Self {
        let shape = views[0].shape();
        let mut st: [&[isize]; K] = [&[]; K];
        let mut off = [0isize; K];
        for j in 0..K {
            st[j] = views[j].strides();
            off[j] = views[j].off;
        }
        Self::new(shape, st, off)
    }
    #[inline]
    pub fn total(&self) -> usize {
        self.shape[..self.rank].iter().product()
    }
    #[inline]
    pub fn inner(&self) -> usize {
        self.shape[self.rank - 1]
    }
    #[inline]
    pub fn steps(&self) -> [isize; K] {
        let mut s = [0; K];
        for j in 0..K {
            s[j] = self.st[j][self.rank - 1];
        }
        s
    }
    /// Calls `f(offsets, len)` for each run of consecutive elements (along the innermost
    /// merged axis) among the flat row-major positions `[start, end)`.
    #[inline]
    pub fn walk(&self, start: usize, end: usize, mut f: impl FnMut([isize; K], usize)) {
        if start >= end {
            return;
        }
        let r = self.rank;
        let n = self.inner();
        let mut idx = [0usize; MAXR];
        let mut rem = start / n;
        let mut col = start % n;
        let mut off = self.off;
        for d in (0..r - 1).rev() {
            let i = rem % self.shape[d];
            rem /= self.shape[d];
            idx[d] = i;
            for j in 0..K {
                off[j] += i as isize * self.st[j][d];
            }
        }
        let steps = self.steps();
        let mut pos = start;
        loop {
            let len = (n - col).min(end - pos);
            let mut o = off;
            for j in 0..K {
                o[j] += col as isize * steps[j];
            }
            f(o, len);
            pos += len;
            if pos >= end {
                return;
            }
            col = 0;
            // next row
            let mut d = r - 1;
            loop {
                if d == 0 {
                    return;
                }
                d -= 1;
                idx[d] += 1;
                if idx[d] < self.shape[d] {
                    for j in 0..K {
                        off[j] += self.st[j][d];
                    }
                    break;
                }
                idx[d] = 0;
                for j in 0..K {
                    off[j] -= (self.shape[d] as isize - 1) * self.st[j][d];
                }
            }
        }
    }
}

/// Tile edge for walks over transposed operands.
pub const TILE: usize = 32;

impl<const K: usize> Iter<K> {
    /// Worth walking in tiles: some operand is unit-stride along the second-to-last axis but
    /// not along the last (a transpose), so rows would stride through memory.
    pub fn wants_tiles(&self) -> bool {
        let r = self.rank;
        r >= 2 && self.shape[r - 1] >= TILE && self.shape[r - 2] >= TILE && (0..K).any(|j| self.st[j][r - 1].unsigned_abs() > 1 && self.st[j][r - 2].unsigned_abs() == 1)
    }
    /// Units of tiled work: (outer position, block of TILE rows).
    pub fn tile_units(&self) -> usize {
        let r = self.rank;
        self.shape[..r - 2].iter().product::<usize>() * self.shape[r - 2].div_ceil(TILE)
    }
    /// Calls `f(offsets, len)` for every element of units `[u0, u1)`, TILE×TILE block by
    /// block over the two inner axes (any order is fine for element-wise kernels).
    pub fn walk_tiles(&self, u0: usize, u1: usize, mut f: impl FnMut([isize; K], usize)) {
        let r = self.rank;
        let (n1, n0) = (self.shape[r - 2], self.shape[r - 1]);
        let rb = n1.div_ceil(TILE);
        for u in u0..u1 {
            let (mut o, bi) = (u / rb, u % rb);
            let mut off = self.off;
            for d in (0..r - 2).rev() {
                let i = o % self.shape[d];
                o /= self.shape[d];
                for j in 0..K {
                    off[j] += i as isize * self.st[j][d];
                }
            }
            let (i0, i1) = (bi * TILE, ((bi + 1) * TILE).min(n1));
            let mut j0 = 0;
            while j0 < n0 {
                let len = TILE.min(n0 - j0);
                for i in i0..i1 {
                    let mut oo = off;
                    for j in 0..K {
                        oo[j] += i as isize * self.st[j][r - 2] + j0 as isize * self.st[j][r - 1];
                    }
                    f(oo, len);
                }
                j0 += TILE;
            }
        }
    }
}

/// Every element offset of a (small) index space, row-major.
pub fn offsets_of(shape: &[usize], strides: &[isize], base: isize) -> Vec<isize> {
    let n: usize = shape.iter().product();
    let mut out = Vec::with_capacity(n);
    if n == 0 {
        return out;
    }
    let it = Iter::<1>::new(shape, [strides], [base]);
    let s = it.steps()[0];
    it.walk(0, n, |o, len| {
        for i in 0..len {
            out.push(o[0] + i as isize * s);
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collapse_and_walk() {
        let it = Iter::<2>::new(&[2, 3, 4], [&[12, 4, 1], &[0, 0, 1]], [0, 0]);
        assert_eq!(it.rank, 2);
        assert_eq!(&it.shape[..2], &[6, 4]);
        let mut seen = vec![];
        it.walk(3, 11, |o, len| seen.push((o, len)));
        assert_eq!(seen, vec![([3, 3], 1), ([4, 0], 4), ([8, 0], 3)]);
        // negative strides
        let offs = offsets_of(&[2, 2], &[-2, -1], 3);
        assert_eq!(offs, vec![3, 2, 1, 0]);
    }

    #[test]
    fn tiles_visit_every_element_once() {
        for &(a, b, c) in &[(3usize, 70usize, 45usize), (1, 32, 32), (2, 33, 100)] {
            // x transposed over the inner axes, out contiguous
            let it = Iter::<2>::new(&[a, b, c], [&[(b * c) as isize, 1, b as isize], &[(b * c) as isize, c as isize, 1]], [0, 0]);
            assert!(it.wants_tiles());
            let mut seen = vec![0u8; a * b * c];
            let units = it.tile_units();
            it.walk_tiles(0, units / 2, |o, n| (0..n).for_each(|i| seen[(o[1] + i as isize) as usize] += 1));
            it.walk_tiles(units / 2, units, |o, n| (0..n).for_each(|i| seen[(o[1] + i as isize) as usize] += 1));
            assert!(seen.iter().all(|&v| v == 1));
        }
    }
}
