//! Batched matmul on strided views, with the fused bias/activation epilogue.

use crate::elementwise::copy;
use crate::gemm::{sgemm, Act, Epi, Mat};
use crate::pool::{self, SendPtr};
use crate::view::{offsets_of, shape_text, DType, Iter, Res, Temp, View};

/// Multiply-adds per batch item below which a batch runs items in parallel (one thread each)
/// rather than items one after another with a threaded GEMM.
const SMALL_ITEM: usize = 1 << 21;

/// The elements of a float32 view, row-major, in a new vector.
pub fn to_vec_f32(v: &View) -> Vec<f32> {
    let mut out = Vec::with_capacity(v.size);
    if v.size == 0 {
        return out;
    }
    let it = Iter::<1>::of([v]);
    let [s] = it.steps();
    it.walk(0, v.size, |o, n| unsafe {
        let p = v.at::<f32>(o[0]);
        if s == 1 {
            out.extend_from_slice(std::slice::from_raw_parts(p, n));
        } else {
            for i in 0..n as isize {
                out.push(*p.offset(i * s));
            }
        }
    });
    out
}

/// Checks matmul operands (dtypes, ranks, fitting shapes, the bias) and returns the
/// multiply-adds the product takes.
pub fn check(a: &View, b: &View, bias: Option<&View>, out: &View) -> Res<f64> {
    for (v, w) in [(a, "a"), (b, "b"), (out, "out")] {
        v.expect(DType::F32, &format!("matmul: {w}"))?;
    }
    let r = out.rank;
    if r < 2 || a.rank != r || b.rank != r {
        return Err(format!("matmul: ranks of a {}, b {} and out {} must be equal and >= 2", shape_text(a), shape_text(b), shape_text(out)));
    }
    let (m, n, k) = (out.shape[r - 2], out.shape[r - 1], a.shape[r - 1]);
    if a.shape[r - 2] != m || b.shape[r - 2] != k || b.shape[r - 1] != n || a.shape[..r - 2] != out.shape[..r - 2] || b.shape[..r - 2] != out.shape[..r - 2] {
        return Err(format!("matmul: shapes a {}, b {}, out {} do not fit", shape_text(a), shape_text(b), shape_text(out)));
    }
    if let Some(bv) = bias {
        bv.expect(DType::F32, "matmulFused: bias")?;
        if bv.size != n || bv.rank != 1 {
            return Err(format!("matmulFused: bias {} must be [{n}]", shape_text(bv)));
        }
    }
    Ok(out.size as f64 * k as f64)
}

/// `out = act(a @ b + bias)`: a `[...batch, m, k]`, b `[...batch, k, n]`, out
/// `[...batch, m, n]`, batch axes equal (broadcast ones have stride 0); bias `[n]` or none.
pub fn matmul(a: &View, b: &View, bias: Option<&View>, act: Act, out: &View, threads: usize) -> Res<()> {
    check(a, b, bias, out)?;
    let bias_vec = bias.map(to_vec_f32);
    if out.size == 0 {
        return Ok(());
    }
    let epi = Epi { bias: bias_vec.as_deref(), act };
    if !out.is_contiguous() || out.overlaps(a) || out.overlaps(b) {
        let t = Temp::new(out, DType::F32);
        run(a, b, &epi, &t.view, threads)?;
        return copy(&t.view, out, threads);
    }
    run(a, b, &epi, out, threads)
}

fn run(a: &View, b: &View, epi: &Epi, out: &View, threads: usize) -> Res<()> {
    let r = out.rank;
    let (m, n, k) = (out.shape[r - 2], out.shape[r - 1], a.shape[r - 1]);
    let mat = |v: &View, off: isize| Mat { ptr: v.at::<f32>(off), rs: v.strides[r - 2], cs: v.strides[r - 1] };
    let batch_shape = &out.shape[..r - 2];
    let batch: usize = batch_shape.iter().product();
    let c = out.first::<f32>();
    unsafe {
        if batch == 1 {
            return sgemm(m, n, k, mat(a, a.off), mat(b, b.off), c, n, false, epi, threads);
        }
        // b shared across the batch and a's batch folding into its rows: one GEMM
        let b_shared = (0..r - 2).all(|d| out.shape[d] == 1 || b.strides[d] == 0);
        if b_shared {
            let folded = Iter::<1>::new(&out.shape[..r - 1], [&a.strides[..r - 1]], [0]);
            if folded.rank == 1 {
                let am = Mat { ptr: a.first::<f32>(), rs: folded.st[0][0], cs: a.strides[r - 1] };
                return sgemm(batch * m, n, k, am, mat(b, b.off), c, n, false, epi, threads);
            }
        }
        let a_off = offsets_of(batch_shape, &a.strides[..r - 2], a.off);
        let b_off = offsets_of(batch_shape, &b.strides[..r - 2], b.off);
        let cp = SendPtr(c);
        if threads > 1 && m * n * k < SMALL_ITEM {
            let err: std::sync::Mutex<Res<()>> = std::sync::Mutex::new(Ok(()));
            pool::par_ranges(batch, 1, threads, &|s, e| {
                for i in s..e {
                    if let Err(msg) = sgemm(m, n, k, mat(a, a_off[i]), mat(b, b_off[i]), cp.get().add(i * m * n), n, false, epi, 1) {
                        *err.lock().unwrap_or_else(|e| e.into_inner()) = Err(msg);
                    }
                }
            })?;
            return err.into_inner().unwrap_or_else(|e| e.into_inner());
        }
        for i in 0..batch {
            sgemm(m, n, k, mat(a, a_off[i]), mat(b, b_off[i]), c.add(i * m * n), n, false, epi, threads)?;
        }
    }
    Ok(())
}
