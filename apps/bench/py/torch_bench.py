#!/usr/bin/env python3
"""PyTorch / NumPy rows of the Tessera benchmark (apps/bench).

Three modes, all driven by the Node harness (src/subjects/python.ts, src/train/python.ts):

  torch_bench.py probe
      Prints one JSON line: versions, threads, and which BLAS library is really loaded.
  torch_bench.py serve
      A line protocol on stdin/stdout so the harness can interleave these rows with the
      Node subjects (A, B, A, B ...). Requests are JSON objects, one per line:
        {"op": "prepare", "lib": "torch"|"numpy", "workload": "matmul", "n": 512}
        {"op": "prepare", "lib": "torch", "workload": "add"|"chain", "n": 1000000}
        {"op": "prepare", "lib": "torch", "workload": "overhead", "autograd": true, "count": 10000}
        {"op": "run", "handle": 3, "reps": 10}       -> {"ok": true, "sec": 0.0123}
        {"op": "dispose", "handle": 3}
      Every reply is one JSON line with "ok". Timing happens here (perf_counter), so the pipe
      round trip is not measured.
  torch_bench.py train '<json spec>'
      One MNIST MLP epoch (or CNN steps) in this process, then prints
      `RESULT {json}` with samples/s, accuracy, inference latencies and the peak RSS (VmHWM).

The thread count comes from the TESSERA_BENCH_THREADS environment variable (the harness also
sets OMP_NUM_THREADS / OPENBLAS_NUM_THREADS / MKL_NUM_THREADS before Python starts).
"""
import gc
import json
import os
import re
import resource
import sys
import time

THREADS = int(os.environ.get("TESSERA_BENCH_THREADS", "0") or "0") or (os.cpu_count() or 1)


def loaded_libs():
    """Names of the BLAS/LAPACK/OpenMP/oneDNN libraries mapped into this process."""
    try:
        maps = open("/proc/self/maps").read()
    except OSError:
        return []
    pat = r"/\S*(?:blas|lapack|mkl|blis|dnnl|gomp|omp)\S*\.so\S*"
    return sorted({os.path.basename(p) for p in re.findall(pat, maps)})


def blas_name(libs):
    joined = " ".join(libs)
    if "openblas" in joined:
        return "OpenBLAS"
    if "mkl" in joined:
        return "MKL"
    if "blis" in joined:
        return "BLIS"
    m = re.search(r"libblas\.so[\d.]*", joined)
    if m:
        # Debian's libblas.so.3 alternative: the netlib reference BLAS unless an optimised
        # one is registered through update-alternatives (then its name shows above).
        real = os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")
        if "openblas" in real:
            return "OpenBLAS"
        return "reference BLAS (netlib %s)" % os.path.basename(real)
    return "unknown BLAS"


def setup_torch():
    import torch

    torch.set_num_threads(THREADS)
    return torch


def probe():
    import numpy as np
    import torch

    torch.set_num_threads(THREADS)
    a = np.ones((64, 64), dtype=np.float32)
    (a @ a).sum()
    t = torch.ones(64, 64)
    (t @ t).sum()
    libs = loaded_libs()
    cfg = torch.__config__.show()
    m = re.search(r"BLAS_INFO=(\w+)", cfg)
    print(json.dumps({
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "libs": libs,
        "blas": blas_name(libs),
        "torch_blas_info": m.group(1) if m else "?",
    }))


# ---------------------------------------------------------------- serve: kernel workloads

class Prepared:
    def __init__(self, fn, cleanup=None):
        self.fn = fn
        self.cleanup = cleanup


def prepare(req):
    import numpy as np

    lib = req.get("lib", "torch")
    wl = req["workload"]
    if lib == "numpy":
        if wl != "matmul":
            raise ValueError("numpy row is offered for matmul only")
        n = int(req["n"])
        rng = np.random.default_rng(1)
        a = rng.random((n, n), dtype=np.float32)
        b = rng.random((n, n), dtype=np.float32)

        def run():
            np.matmul(a, b)

        return Prepared(run)
    torch = setup_torch()
    torch.manual_seed(1)
    if wl == "matmul":
        n = int(req["n"])
        a = torch.rand(n, n)
        b = torch.rand(n, n)

        def run():
            torch.matmul(a, b)

        return Prepared(run)
    if wl in ("add", "chain"):
        n = int(req["n"])
        a = torch.rand(n)
        b = torch.rand(n)
        if wl == "add":
            def run():
                torch.add(a, b)
        else:
            def run():
                torch.mul(torch.relu(torch.sub(torch.mul(torch.add(a, b), a), b)), 0.5)
        return Prepared(run)
    if wl == "overhead":
        count = int(req["count"])
        one = torch.tensor([1e-3])
        if req.get("autograd"):
            def run():
                x = torch.tensor([1.0], requires_grad=True)
                y = x
                for _ in range(count):
                    y = torch.add(y, one)
                y.backward()
                x.grad.item()
        else:
            def run():
                with torch.no_grad():
                    y = torch.tensor([1.0])
                    for _ in range(count):
                        y = torch.add(y, one)
                    y.item()
        return Prepared(run)
    raise ValueError("unknown workload %r" % wl)


def serve():
    handles = {}
    next_id = 1
    out = sys.stdout
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
            op = req.get("op")
            if op == "prepare":
                handles[next_id] = prepare(req)
                reply = {"ok": True, "handle": next_id}
                next_id += 1
            elif op == "run":
                p = handles[int(req["handle"])]
                reps = int(req.get("reps", 1))
                gc.collect()
                t0 = time.perf_counter()
                for _ in range(reps):
                    p.fn()
                reply = {"ok": True, "sec": time.perf_counter() - t0}
            elif op == "dispose":
                handles.pop(int(req["handle"]), None)
                gc.collect()
                reply = {"ok": True}
            elif op == "quit":
                out.write(json.dumps({"ok": True}) + "\n")
                out.flush()
                return
            else:
                reply = {"ok": False, "error": "unknown op %r" % op}
        except Exception as e:  # reported to the harness as the cell's reason
            reply = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
        out.write(json.dumps(reply) + "\n")
        out.flush()


# ---------------------------------------------------------------- train: MNIST in a child

def read_idx_images(path, count):
    import numpy as np

    with open(path, "rb") as f:
        f.seek(16)
        raw = np.frombuffer(f.read(count * 784), dtype=np.uint8)
    return (raw.astype(np.float32) / 255.0).reshape(count, 28, 28)


def read_idx_labels(path, count):
    import numpy as np

    with open(path, "rb") as f:
        f.seek(8)
        return np.frombuffer(f.read(count), dtype=np.uint8).astype(np.int64)


def peak_rss_kib():
    """VmHWM of this process image (ru_maxrss survives exec: it would include the Node
    harness's RSS at fork time)."""
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def latency(fn, warmup, samples):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(samples):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1e3)
    return ts


def keras_adam(torch, params, lr=1e-3):
    # Keras' defaults (epsilon 1e-7) so every framework runs the same optimizer.
    return torch.optim.Adam(params, lr=lr, betas=(0.9, 0.999), eps=1e-7)


def train(spec):
    import numpy as np

    torch = setup_torch()
    torch.manual_seed(spec.get("seed", 1))
    d = spec["mnistDir"]
    n_train = int(spec["trainN"])
    batch = int(spec["batch"])
    x_train = torch.from_numpy(read_idx_images(os.path.join(d, "train-images-idx3-ubyte"), n_train).copy())
    y_train = torch.from_numpy(read_idx_labels(os.path.join(d, "train-labels-idx1-ubyte"), n_train).copy())
    nn = torch.nn
    result = {"threads": torch.get_num_threads()}
    if spec["workload"] == "mlp":
        model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
        if spec.get("initWeights"):
            w = np.fromfile(spec["initWeights"], dtype=np.float32)
            o = 0
            w1 = w[o:o + 784 * 128].reshape(784, 128); o += 784 * 128
            b1 = w[o:o + 128]; o += 128
            w2 = w[o:o + 128 * 10].reshape(128, 10); o += 1280
            b2 = w[o:o + 10]
            with torch.no_grad():
                model[1].weight.copy_(torch.from_numpy(w1.T.copy()))
                model[1].bias.copy_(torch.from_numpy(b1.copy()))
                model[3].weight.copy_(torch.from_numpy(w2.T.copy()))
                model[3].bias.copy_(torch.from_numpy(b2.copy()))
        # Softmax + categorical cross-entropy == CrossEntropyLoss on the logits.
        loss_fn = nn.CrossEntropyLoss()
        steps = n_train // batch

        def step(model, opt, i):
            xb = x_train[i * batch:(i + 1) * batch]
            yb = y_train[i * batch:(i + 1) * batch]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            return loss

        # Warm-up epochs on a throwaway copy, then timed epochs each on a fresh copy of the
        # initial model: the rules of the Node trainers' warmupEpochs / timedEpochs
        # (src/train/spec.ts). The first warm-up epoch is reported as the cold epoch.
        import copy

        def epoch(m, o):
            for i in range(steps):
                last = step(m, o, i)
            last.item()
            return last

        initial = copy.deepcopy(model)
        scratch = copy.deepcopy(initial)
        sopt = keras_adam(torch, scratch.parameters())
        first_sec = None
        best = float("inf")
        w0 = time.perf_counter()
        for e in range(int(spec.get("mlpWarmupEpochs", 0))):
            t = time.perf_counter()
            epoch(scratch, sopt)
            s_ = time.perf_counter() - t
            if first_sec is None:
                first_sec = s_
            improving = s_ < 0.95 * best
            best = min(best, s_)
            if time.perf_counter() - w0 >= float(spec.get("mlpWarmupMaxSec", 0)) or (e >= 1 and not improving):
                break
        del scratch, sopt
        secs = []
        t0 = time.perf_counter()
        while True:
            model = copy.deepcopy(initial)
            opt = keras_adam(torch, model.parameters())
            gc.collect()
            t = time.perf_counter()
            loss = epoch(model, opt)
            secs.append(time.perf_counter() - t)
            if len(secs) >= max(1, int(spec.get("mlpTimedEpochs", 1))) or time.perf_counter() - t0 >= float(spec.get("mlpTimedMaxSec", 0)):
                break
        result["epochSec"] = secs[0]
        result["samplesPerSec"] = [steps * batch / x for x in secs]
        result["firstEpochSamplesPerSec"] = steps * batch / (first_sec if first_sec is not None else secs[0])
        n_test = int(spec["testN"])
        x_test = torch.from_numpy(read_idx_images(os.path.join(d, "t10k-images-idx3-ubyte"), n_test).copy())
        y_test = torch.from_numpy(read_idx_labels(os.path.join(d, "t10k-labels-idx1-ubyte"), n_test).copy())
        with torch.no_grad():
            pred = model(x_test).argmax(dim=1)
            result["accuracy"] = float((pred == y_test).float().mean().item())
            result["loss"] = float(loss.item())
            x1 = x_test[:1]
            xk = x_test[:int(spec["inferBatch"])]

            def infer(x):
                return lambda: torch.softmax(model(x), dim=1).numpy()

            result["latency1Ms"] = latency(infer(x1), 5, int(spec["inferSamples1"]))
            result["latencyKMs"] = latency(infer(xk), 2, int(spec["inferSamplesK"]))
    elif spec["workload"] == "cnn":
        model = nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Dropout(0.5), nn.Linear(64 * 5 * 5, 10))
        model.train()
        loss_fn = nn.CrossEntropyLoss()
        opt = keras_adam(torch, model.parameters())
        xs = x_train.reshape(-1, 1, 28, 28)
        steps_total = n_train // batch

        def one(i):
            j = i % steps_total
            xb = xs[j * batch:(j + 1) * batch]
            yb = y_train[j * batch:(j + 1) * batch]
            t0 = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            loss.item()
            return time.perf_counter() - t0

        # Same loop as stepLoop() in src/train/spec.ts.
        ts = []
        budget = float(spec["stepBudgetSec"])
        i = 0
        for _ in range(int(spec.get("warmupSteps", 2))):
            dt = one(i)
            i += 1
            if dt > budget:
                result["note"] = "a warm-up step took %.1f s (> %g s budget): %d warm-up step(s)" % (dt, budget, i)
                break
        spent = 0.0
        for k in range(int(spec["steps"])):
            if k > 0 and spent >= budget:
                break
            dt = one(i)
            i += 1
            spent += dt
            ts.append(dt)
        result["stepSamplesPerSec"] = [batch / t for t in ts]
    else:
        raise ValueError("unknown workload %r" % spec["workload"])
    result["maxRssKiB"] = peak_rss_kib()
    print("RESULT " + json.dumps(result), flush=True)


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "probe"
    if mode == "probe":
        probe()
    elif mode == "serve":
        serve()
    elif mode == "train":
        train(json.loads(sys.argv[2]))
    else:
        sys.exit("usage: torch_bench.py probe|serve|train '<json>'")


if __name__ == "__main__":
    main()
