//! Indexing kernels: `gather` along one axis and its adjoint `scatterAdd`.

use crate::elementwise::{copy, out_threads, GRAIN};
use crate::pool::{self, SendPtr};
use crate::view::{offsets_of, shape_text, DType, Iter, Res, Temp, View};

/// The int32 index values of a view, row-major.
fn indices_of(idx: &View) -> Res<Vec<i32>> {
    idx.expect(DType::I32, "indices")?;
    let mut out = Vec::with_capacity(idx.size);
    if idx.size > 0 {
        let it = Iter::<1>::of([idx]);
        let [s] = it.steps();
        it.walk(0, idx.size, |o, n| unsafe {
            for i in 0..n as isize {
                out.push(*idx.at::<i32>(o[0] + i * s));
            }
        });
    }
    Ok(out)
}

/// `out = x` indexed along `axis` by int32 `indices` (out's shape is
/// `x.shape[:axis] ++ indices.shape ++ x.shape[axis+1:]`); out-of-range indices give zeros.
pub fn gather(x: &View, indices: &View, axis: usize, out: &View, threads: usize) -> Res<()> {
    if axis >= x.rank {
        return Err(format!("gather: axis {axis} out of range for x {}", shape_text(x)));
    }
    if out.dt != x.dt {
        return Err("gather: out must have x's dtype".into());
    }
    let want: Vec<usize> = x.shape[..axis].iter().chain(indices.shape()).chain(&x.shape[axis + 1..x.rank]).copied().collect();
    if out.shape() != want.as_slice() {
        return Err(format!("gather: out {} must be {:?}", shape_text(out), want));
    }
    let idx = indices_of(indices)?;
    if out.size == 0 {
        return Ok(());
    }
    if !out.is_contiguous() || out.overlaps(x) {
        let t = Temp::new(out, out.dt);
        gather(x, indices, axis, &t.view, threads)?;
        return copy(&t.view, out, threads);
    }
    let len = x.shape[axis] as i64;
    let s_axis = x.strides[axis];
    let outer = offsets_of(&x.shape[..axis], &x.strides[..axis], x.off);
    let inner = Iter::<1>::new(&x.shape[axis + 1..x.rank], [&x.strides[axis + 1..x.rank]], [0]);
    let block = inner.total();
    let [rs] = inner.steps();
    fn go<T: Copy + Default>(x: &View, out: &View, idx: &[i32], outer: &[isize], inner: &Iter<1>, block: usize, len: i64, s_axis: isize, rs: isize, threads: usize) -> Res<()> {
        let ni = idx.len();
        let o = SendPtr(out.first::<T>());
        pool::par_ranges(outer.len() * ni, (GRAIN / block.max(1)).max(1), threads, &|s, e| unsafe {
            for pair in s..e {
                let (oi, t) = (pair / ni, pair % ni);
                let dst = o.get().add(pair * block);
                let j = idx[t] as i64;
                if j < 0 || j >= len {
                    std::slice::from_raw_parts_mut(dst, block).fill(T::default());
                    continue;
                }
                let base = outer[oi] + j as isize * s_axis;
                let mut q = 0;
                inner.walk(0, block, |r, n| {
                    let src = x.at::<T>(base + r[0]);
                    if rs == 1 {
                        std::ptr::copy_nonoverlapping(src, dst.add(q), n);
                    } else {
                        for i in 0..n {
                            *dst.add(q + i) = *src.offset(i as isize * rs);
                        }
                    }
                    q += n;
                });
            }
        })
    }
    if x.dt.size() == 4 {
        go::<u32>(x, out, &idx, &outer, &inner, block, len, s_axis, rs, threads)
    } else {
        go::<u8>(x, out, &idx, &outer, &inner, block, len, s_axis, rs, threads)
    }
}

/// Adds `updates` (shaped like a gather output) into `out` (shaped like the gathered x) at
/// `indices` along `axis`. Repeated indices accumulate; out-of-range ones are dropped; bool
/// accumulates with `or`. Threads split the axes before `axis` (disjoint outputs).
pub fn scatter_add(indices: &View, updates: &View, axis: usize, out: &View, threads: usize) -> Res<()> {
    if axis >= out.rank {
        return Err(format!("scatterAdd: axis {axis} out of range for out {}", shape_text(out)));
    }
    if updates.dt != out.dt {
        return Err("scatterAdd: updates must have out's dtype".into());
    }
    let ir = indices.rank;
    let want: Vec<usize> = out.shape[..axis].iter().chain(indices.shape()).chain(&out.shape[axis + 1..out.rank]).copied().collect();
    if updates.shape() != want.as_slice() {
        return Err(format!("scatterAdd: updates {} must be {:?}", shape_text(updates), want));
    }
    let idx = indices_of(indices)?;
    if updates.size == 0 || out.size == 0 {
        return Ok(());
    }
    if updates.overlaps(out) {
        let t = Temp::new(updates, updates.dt);
        copy(updates, &t.view, threads)?;
        return scatter_add(indices, &t.view, axis, out, threads);
    }
    let len = out.shape[axis] as i64;
    let s_axis = out.strides[axis];
    let outer_o = offsets_of(&out.shape[..axis], &out.strides[..axis], out.off);
    let outer_u = offsets_of(&out.shape[..axis], &updates.strides[..axis], updates.off);
    let idx_u = offsets_of(indices.shape(), &updates.strides[axis..axis + ir], 0);
    let inner = Iter::<2>::new(&out.shape[axis + 1..out.rank], [&out.strides[axis + 1..out.rank], &updates.strides[axis + ir..updates.rank]], [0, 0]);
    let inner_n = inner.total();
    let [so, su] = inner.steps();
    let body = |o0: usize, o1: usize| unsafe {
        for o in o0..o1 {
            for (t, &j) in idx.iter().enumerate() {
                let j = j as i64;
                if j < 0 || j >= len {
                    continue;
                }
                let (bo, bu) = (outer_o[o] + j as isize * s_axis, outer_u[o] + idx_u[t]);
                inner.walk(0, inner_n, |r, n| {
                    let (mut q, mut p) = (bo + r[0], bu + r[1]);
                    for _ in 0..n {
                        match out.dt {
                            DType::F32 => *out.at::<f32>(q) += *updates.at::<f32>(p),
                            DType::I32 => *out.at::<i32>(q) = (*out.at::<i32>(q)).wrapping_add(*updates.at::<i32>(p)),
                            DType::Bool => *out.at::<u8>(q) = (*out.at::<u8>(q) != 0 || *updates.at::<u8>(p) != 0) as u8,
                        }
                        q += so;
                        p += su;
                    }
                });
            }
        }
    };
    let work = idx.len() * inner_n;
    pool::par_ranges(outer_o.len(), (GRAIN / work.max(1)).max(1), out_threads(out, threads), &body)
}
