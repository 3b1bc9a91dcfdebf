//! Fused NN kernels: softmax / log-softmax, softmax cross-entropy, layer norm and the
//! in-place multi-tensor optimizer step. Rows run in parallel; edge semantics (NaN, ±Inf)
//! follow the core's reference decompositions.

use crate::elementwise::GRAIN;
use crate::math::fmax32;
use crate::matmul::to_vec_f32;
use crate::pool::{self, SendPtr};
use crate::unary::{simd_map, SimdOp};
use crate::view::{check_same_shape, shape_text, DType, Iter, Res, View};

/// Walks the rows (last axis of `views[0]`) in parallel: `f(row start offset in each view,
/// scratch)`. Every view has `views[0]`'s leading axes (and maybe its last axis).
fn rows<const K: usize>(views: [&View; K], d: usize, threads: usize, f: &(dyn Fn([isize; K], &mut Vec<f32>) + Sync)) -> Res<()> {
    let r = views[0].rank;
    let lead = &views[0].shape[..r - 1];
    let mut st: [&[isize]; K] = [&[]; K];
    let mut off = [0isize; K];
    for j in 0..K {
        st[j] = &views[j].strides[..r - 1];
        off[j] = views[j].off;
    }
    let it = Iter::<K>::new(lead, st, off);
    let steps = it.steps();
    pool::par_ranges(it.total(), (GRAIN / d.max(1)).max(1), threads, &|s, e| {
        let mut buf = Vec::new();
        it.walk(s, e, |o, n| {
            for i in 0..n as isize {
                let mut oo = o;
                for j in 0..K {
                    oo[j] += i * steps[j];
                }
                f(oo, &mut buf);
            }
        })
    })
}

/// Reads a row of `d` floats at element offset `o` with stride `s` (borrowing when contiguous).
#[inline]
unsafe fn row_in<'a>(v: &View, o: isize, s: isize, d: usize, buf: &'a mut Vec<f32>) -> &'a [f32] {
    if s == 1 {
        return std::slice::from_raw_parts(v.at::<f32>(o), d);
    }
    buf.clear();
    for i in 0..d as isize {
        buf.push(*v.at::<f32>(o + i * s));
    }
    buf
}

fn last_stride(v: &View) -> isize {
    v.strides[v.rank - 1]
}

/// Softmax (or log-softmax) over the last axis.
pub fn softmax(x: &View, log: bool, out: &View, threads: usize) -> Res<()> {
    x.expect(DType::F32, "softmax: x")?;
    out.expect(DType::F32, "softmax: out")?;
    check_same_shape(x, out, "softmax")?;
    if x.rank == 0 {
        return Err("softmax: x must have rank >= 1".into());
    }
    if out.size == 0 {
        return Ok(());
    }
    if x.overlaps(out) {
        return Err("softmax: out overlaps x".into());
    }
    let d = x.shape[x.rank - 1];
    let (sx, so) = (last_stride(x), last_stride(out));
    rows([x, out], d, crate::elementwise::out_threads(out, threads), &|o, buf| unsafe {
        let xr = row_in(x, o[0], sx, d, buf);
        let m = xr.iter().fold(f32::NEG_INFINITY, |a, &v| fmax32(a, v));
        // e = exp(x - shift) written to out (contiguous rows) or a local row
        let mut local: Vec<f32>;
        let e: &mut [f32] = if so == 1 {
            std::slice::from_raw_parts_mut(out.at::<f32>(o[1]), d)
        } else {
            local = vec![0f32; d];
            &mut local
        };
        let shift = if log && !m.is_finite() { 0.0 } else { m };
        for (y, &v) in e.iter_mut().zip(xr) {
            *y = v - shift;
        }
        if log {
            let mut ex = e.to_vec();
            simd_map(SimdOp::Exp, ex.as_ptr(), ex.as_mut_ptr(), d);
            let s: f64 = ex.iter().map(|&v| v as f64).sum();
            let lse = s.ln() as f32;
            for y in e.iter_mut() {
                *y -= lse;
            }
        } else {
            simd_map(SimdOp::Exp, e.as_ptr(), e.as_mut_ptr(), d);
            let s = e.iter().map(|&v| v as f64).sum::<f64>() as f32;
            for y in e.iter_mut() {
                *y /= s;
            }
        }
        if so != 1 {
            for (i, &v) in e.iter().enumerate() {
                *out.at::<f32>(o[1] + i as isize * so) = v;
            }
        }
    })
}

/// `out[r] = -Σ labels·logSoftmax(logits)` over the last axis.
pub fn softmax_cross_entropy(logits: &View, labels: &View, out: &View, threads: usize) -> Res<()> {
    logits.expect(DType::F32, "softmaxCrossEntropy: logits")?;
    labels.expect(DType::F32, "softmaxCrossEntropy: labels")?;
    out.expect(DType::F32, "softmaxCrossEntropy: out")?;
    check_same_shape(logits, labels, "softmaxCrossEntropy")?;
    let r = logits.rank;
    if r == 0 || out.shape() != &logits.shape[..r - 1] {
        return Err(format!("softmaxCrossEntropy: out {} must be logits {} without the last axis", shape_text(out), shape_text(logits)));
    }
    if out.size == 0 {
        return Ok(());
    }
    let d = logits.shape[r - 1];
    let (sx, sl) = (last_stride(logits), last_stride(labels));
    rows([logits, labels, out], d, crate::elementwise::out_threads(out, threads), &|o, buf| unsafe {
        let xr = row_in(logits, o[0], sx, d, buf).to_vec();
        let lr = row_in(labels, o[1], sl, d, buf);
        let m = xr.iter().fold(f32::NEG_INFINITY, |a, &v| fmax32(a, v));
        let shift = if m.is_finite() { m } else { 0.0 };
        let mut ex: Vec<f32> = xr.iter().map(|&v| v - shift).collect();
        simd_map(SimdOp::Exp, ex.as_ptr(), ex.as_mut_ptr(), d);
        let lse = ex.iter().map(|&v| v as f64).sum::<f64>().ln() as f32;
        let mut s = 0f64;
        for i in 0..d {
            let ls = (xr[i] - shift) - lse;
            s += (lr[i] * ls) as f64;
        }
        *out.at::<f32>(o[2]) = -(s as f32);
    })
}

/// Layer norm over the last axis: `(x - mean)/√(var + eps)·gamma + beta`, biased variance.
pub fn layer_norm(x: &View, gamma: &View, beta: &View, eps: f64, out: &View, threads: usize) -> Res<()> {
    for (v, w) in [(x, "x"), (gamma, "gamma"), (beta, "beta"), (out, "out")] {
        v.expect(DType::F32, &format!("layerNorm: {w}"))?;
    }
    check_same_shape(x, out, "layerNorm")?;
    if x.rank == 0 {
        return Err("layerNorm: x must have rank >= 1".into());
    }
    let d = x.shape[x.rank - 1];
    if gamma.size != d || beta.size != d {
        return Err(format!("layerNorm: gamma {} and beta {} must have {d} elements", shape_text(gamma), shape_text(beta)));
    }
    if out.size == 0 {
        return Ok(());
    }
    let (g, b) = (to_vec_f32(gamma), to_vec_f32(beta));
    let (sx, so) = (last_stride(x), last_stride(out));
    rows([x, out], d, crate::elementwise::out_threads(out, threads), &|o, buf| unsafe {
        let xr = row_in(x, o[0], sx, d, buf);
        let mean = xr.iter().map(|&v| v as f64).sum::<f64>() / d as f64;
        let var = xr.iter().map(|&v| (v as f64 - mean) * (v as f64 - mean)).sum::<f64>() / d as f64;
        let rstd = 1.0 / (var + eps).sqrt();
        for i in 0..d {
            let y = ((xr[i] as f64 - mean) * rstd) as f32 * g[i] + b[i];
            *out.at::<f32>(o[1] + i as isize * so) = y;
        }
    })
}

/// Hyper-parameters, resolved (defaults applied) by the JS side.
pub struct Hyper {
    pub lr: f64,
    pub step: f64,
    pub momentum: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
}

pub struct Group {
    pub p: View,
    pub g: View,
    pub state: Vec<View>,
}

pub const SGD: i64 = 0;
pub const MOMENTUM: i64 = 1;
pub const NESTEROV: i64 = 2;
pub const ADAM: i64 = 3;

/// Scalars of one optimizer step, rounded to float32 like the decomposition's scalar operands.
struct Consts {
    lr: f32,
    m: f32,
    b1: f32,
    b2: f32,
    eps: f32,
    one_b1: f32,
    one_b2: f32,
    lr_wd: f32,
    wd: bool,
    alpha: f32,
}

/// One element range of one parameter: a separate slice loop per kind (vectorised).
#[inline(always)]
fn update_body(kind: i64, p: &mut [f32], g: &[f32], s0: &mut [f32], s1: &mut [f32], k: &Consts) {
    match kind {
        SGD => {
            for (p, &g) in p.iter_mut().zip(g) {
                *p -= g * k.lr;
            }
        }
        MOMENTUM | NESTEROV => {
            let nesterov = kind == NESTEROV;
            for ((p, &g), v) in p.iter_mut().zip(g).zip(s0.iter_mut()) {
                let nv = *v * k.m - g * k.lr;
                *v = nv;
                *p += if nesterov { nv * k.m - g * k.lr } else { nv };
            }
        }
        _ => {
            for (((p, &g), mm), vv) in p.iter_mut().zip(g).zip(s0.iter_mut()).zip(s1.iter_mut()) {
                let base = if k.wd { *p - *p * k.lr_wd } else { *p };
                let nm = *mm * k.b1 + g * k.one_b1;
                let nv = *vv * k.b2 + (g * g) * k.one_b2;
                *mm = nm;
                *vv = nv;
                *p = base - (nm * k.alpha) / (nv.sqrt() + k.eps);
            }
        }
    }
}

/// The same loops 16 lanes wide (the same operations, so the same bits). Moments of weights
/// whose gradient stays zero decay into the denormal range, where every vector operation
/// takes a microcode assist on x86; half as many instructions means half as many assists.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn update_avx512(kind: i64, p: &mut [f32], g: &[f32], s0: &mut [f32], s1: &mut [f32], k: &Consts) {
    update_body(kind, p, g, s0, s1, k)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn update_avx2(kind: i64, p: &mut [f32], g: &[f32], s0: &mut [f32], s1: &mut [f32], k: &Consts) {
    update_body(kind, p, g, s0, s1, k)
}

fn update(kind: i64, p: &mut [f32], g: &[f32], s0: &mut [f32], s1: &mut [f32], k: &Consts) {
    #[cfg(target_arch = "x86_64")]
    {
        if crate::cpu::avx512() {
            return unsafe { update_avx512(kind, p, g, s0, s1, k) };
        }
        if crate::cpu::avx2() {
            return unsafe { update_avx2(kind, p, g, s0, s1, k) };
        }
    }
    update_body(kind, p, g, s0, s1, k)
}

/// Updates each contiguous `params[i]` and its state in place from `grads[i]`, with the
/// same float32 operation sequence as the core's decomposition.
pub fn optimizer_step(kind: i64, groups: &[Group], h: &Hyper, threads: usize) -> Res<()> {
    let want = match kind {
        SGD => 0,
        MOMENTUM | NESTEROV => 1,
        ADAM => 2,
        _ => return Err(format!("unknown optimizer kind code {kind}")),
    };
    for (i, gr) in groups.iter().enumerate() {
        for v in [&gr.p, &gr.g].into_iter().chain(&gr.state) {
            v.expect(DType::F32, "optimizerStep: tensors")?;
            if v.size != gr.p.size {
                return Err(format!("optimizerStep: group {i}: sizes differ ({} vs {})", v.size, gr.p.size));
            }
        }
        if gr.state.len() != want {
            return Err(format!("optimizerStep: group {i} has {} state tensors, expected {want}", gr.state.len()));
        }
        for v in std::iter::once(&gr.p).chain(&gr.state) {
            if !v.is_contiguous() {
                return Err(format!("optimizerStep: group {i}: params and state must be contiguous"));
            }
        }
        let mut all: Vec<&View> = vec![&gr.p];
        all.extend(&gr.state);
        for a in 0..all.len() {
            for b in a + 1..all.len() {
                if all[a].overlaps(all[b]) {
                    return Err(format!("optimizerStep: group {i}: a parameter and its state overlap"));
                }
            }
        }
    }
    let lr = h.lr as f32;
    let m = h.momentum as f32;
    let (b1, b2, eps) = (h.beta1 as f32, h.beta2 as f32, h.eps as f32);
    let (one_b1, one_b2) = ((1.0 - h.beta1) as f32, (1.0 - h.beta2) as f32);
    let lr_wd = (h.lr * h.weight_decay) as f32;
    let wd = h.weight_decay > 0.0;
    let alpha = (h.lr * (1.0 - h.beta2.powf(h.step)).sqrt() / (1.0 - h.beta1.powf(h.step))) as f32;
    let k = Consts { lr, m, b1, b2, eps, one_b1, one_b2, lr_wd, wd, alpha };
    for gr in groups {
        let n = gr.p.size;
        if n == 0 {
            continue;
        }
        let gv = if gr.g.is_contiguous() && !gr.g.overlaps(&gr.p) { None } else { Some(to_vec_f32(&gr.g)) };
        let gp = SendPtr(gv.as_ref().map_or(gr.g.first::<f32>(), |v| v.as_ptr() as *mut f32));
        let pp = SendPtr(gr.p.first::<f32>());
        let s0 = SendPtr(gr.state.first().map_or(std::ptr::null_mut(), |v| v.first::<f32>()));
        let s1 = SendPtr(gr.state.get(1).map_or(std::ptr::null_mut(), |v| v.first::<f32>()));
        pool::par_ranges(n, GRAIN, threads, &|s, e| unsafe {
            let len = e - s;
            let g = std::slice::from_raw_parts(gp.get().add(s), len);
            let p = std::slice::from_raw_parts_mut(pp.get().add(s), len);
            let st0 = if s0.get().is_null() { &mut [][..] } else { std::slice::from_raw_parts_mut(s0.get().add(s), len) };
            let st1 = if s1.get().is_null() { &mut [][..] } else { std::slice::from_raw_parts_mut(s1.get().add(s), len) };
            update(kind, p, g, st0, st1, &k);
        })?;
    }
    Ok(())
}
