// gather / scatterAdd along one axis of a contiguous [outer, len, inner] tensor.

@inline function arg(p: usize, i: i32): i32 { return load<i32>(p + (<usize>i << 2)); }

function gatherRange(sh: i32, o0: i32, o1: i32, len: i32, inner: i32, x: usize, idx: usize, ni: i32, o: usize): void {
  const row = <usize>inner << sh;
  for (let a = o0; a < o1; a++) {
    const xa = x + <usize>(a * len) * row;
    let q = o + <usize>(a * ni) * row;
    for (let t = 0; t < ni; t++) {
      const j = load<i32>(idx + (<usize>t << 2));
      if (j < 0 || j >= len) memory.fill(q, 0, row);
      else memory.copy(q, xa + <usize>j * row, row);
      q += row;
    }
  }
}
/** [sh, o0, o1, len, inner, x, idx, ni, o]: o[a, t, :] = x[a, idx[t], :] (0 when out of range). */
export function gather_p(p: usize): void {
  gatherRange(arg(p, 0), arg(p, 1), arg(p, 2), arg(p, 3), arg(p, 4), arg(p, 5), arg(p, 6), arg(p, 7), arg(p, 8));
}

/** o[a, idx[t], :] += u[a, t, :] over contiguous layouts; dt 0 float32, 1 int32, 2 bool (or). */
export function scatter_add(dt: i32, outer: i32, len: i32, inner: i32, idx: usize, ni: i32, u: usize, o: usize): void {
  const sh: usize = dt == 2 ? 0 : 2;
  for (let a = 0; a < outer; a++) {
    const oa = o + (<usize>(a * len * inner) << sh);
    const ua = u + (<usize>(a * ni * inner) << sh);
    for (let t = 0; t < ni; t++) {
      const j = load<i32>(idx + (<usize>t << 2));
      if (j < 0 || j >= len) continue;
      const q = oa + (<usize>(j * inner) << sh), s = ua + (<usize>(t * inner) << sh);
      let i = 0;
      if (dt == 0) {
        for (; i + 4 <= inner; i += 4) {
          const k = <usize>i << 2;
          v128.store(q + k, f32x4.add(v128.load(q + k), v128.load(s + k)));
        }
        for (; i < inner; i++) store<f32>(q + (<usize>i << 2), load<f32>(q + (<usize>i << 2)) + load<f32>(s + (<usize>i << 2)));
      } else if (dt == 1) {
        for (; i + 4 <= inner; i += 4) {
          const k = <usize>i << 2;
          v128.store(q + k, i32x4.add(v128.load(q + k), v128.load(s + k)));
        }
        for (; i < inner; i++) store<i32>(q + (<usize>i << 2), load<i32>(q + (<usize>i << 2)) + load<i32>(s + (<usize>i << 2)));
      } else {
        for (; i < inner; i++) store<u8>(q + <usize>i, <u8>(load<u8>(q + <usize>i) != 0 || load<u8>(s + <usize>i) != 0));
      }
    }
  }
}
