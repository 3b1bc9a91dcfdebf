//! A persistent thread pool: `run(ntasks, f)` calls `f(0..ntasks)` across the calling thread
//! and the workers, and returns when every task has finished.
//!
//! Tasks are claimed from a shared counter, and the caller claims too, so it never waits for
//! a worker that has not started: on a busy machine (or when a worker is still asleep) the
//! caller simply runs the remaining tasks itself, and waits only for tasks a worker actually
//! claimed. Workers spin briefly after a job (back-to-back kernels skip the wake-up) and then
//! sleep on a condition variable. One job runs at a time; a caller that finds the pool busy
//! (another Node-API environment, e.g. a worker_thread) runs its tasks itself.

use std::any::Any;
use std::cell::UnsafeCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};

/// How many polls a worker spins for a next job (and the caller for the last tasks) before
/// sleeping: a few microseconds (the caller never waits for a sleeping worker, so longer
/// spinning would only burn a core of a possibly shared machine).
const SPIN: u32 = 1 << 9;

type TaskFn = dyn Fn(usize) + Sync;

struct Job {
    f: *const TaskFn,
    ntasks: usize,
}

struct Shared {
    /// `(epoch << 1) | open`: workers may enter the current job only while it is open.
    gate: AtomicU64,
    /// Workers currently inside a job (between entering and leaving).
    inside: AtomicUsize,
    /// Next task index to claim.
    next: AtomicUsize,
    /// Tasks finished.
    done: AtomicUsize,
    job: UnsafeCell<Job>,
    panicked: AtomicBool,
    panic_msg: Mutex<Option<String>>,
    lock: Mutex<()>,
    work_cv: Condvar,
    done_cv: Condvar,
}

// The job pointer is only dereferenced by workers inside an open job, and the submitting
// caller does not return before the job is closed and no worker is inside.
unsafe impl Sync for Shared {}
unsafe impl Send for Shared {}

struct Pool {
    shared: Arc<Shared>,
    /// Held for the duration of a job; holds the number of workers.
    submit: Mutex<usize>,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool {
        shared: Arc::new(Shared {
            gate: AtomicU64::new(0),
            inside: AtomicUsize::new(0),
            next: AtomicUsize::new(0),
            done: AtomicUsize::new(0),
            job: UnsafeCell::new(Job { f: std::ptr::null::<fn(usize)>() as *const TaskFn, ntasks: 0 }),
            panicked: AtomicBool::new(false),
            panic_msg: Mutex::new(None),
            lock: Mutex::new(()),
            work_cv: Condvar::new(),
            done_cv: Condvar::new(),
        }),
        submit: Mutex::new(0),
    })
}

thread_local! {
    /// This thread waits for a busy pool instead of running its tasks alone.
    static BLOCK_ON_BUSY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// This thread is submitting a job right now (a nested `run` must not wait for itself).
    static SUBMITTING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Makes `run` on the calling thread wait for a busy pool rather than run serially. The
/// background worker (`queue.rs`) uses this: its jobs are long, while the JS thread only
/// holds the pool for short kernels, so waiting beats running a long GEMM on one thread.
pub fn block_on_busy_pool() {
    BLOCK_ON_BUSY.with(|b| b.set(true));
}

/// Hardware threads available to this process.
pub fn hardware_threads() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// What every panic message starts with (so callers can tell panics from argument errors).
pub const PANIC_MARK: &str = "internal error (Rust panic)";

/// The error message for a caught panic.
pub fn panic_error(p: &(dyn Any + Send)) -> String {
    format!("{PANIC_MARK}: {}", panic_text(p))
}

/// Text of a panic payload.
pub fn panic_text(p: &(dyn Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

/// Claims and runs tasks of the current (open) job until none are left.
fn exec_tasks(sh: &Shared) {
    // SAFETY: called only while the job is open and this thread is counted in `inside`
    // (workers) or is the submitter; the job was written before the gate opened.
    let job = unsafe { &*sh.job.get() };
    let f = unsafe { &*job.f };
    loop {
        let i = sh.next.fetch_add(1, Ordering::Relaxed);
        if i >= job.ntasks {
            break;
        }
        if let Err(p) = catch_unwind(AssertUnwindSafe(|| f(i))) {
            sh.panicked.store(true, Ordering::Relaxed);
            let mut m = sh.panic_msg.lock().unwrap_or_else(|e| e.into_inner());
            if m.is_none() {
                *m = Some(panic_error(&*p));
            }
        }
        if sh.done.fetch_add(1, Ordering::AcqRel) + 1 == job.ntasks {
            let _g = sh.lock.lock().unwrap_or_else(|e| e.into_inner());
            sh.done_cv.notify_all();
        }
    }
}

fn worker(sh: Arc<Shared>) {
    let mut seen = sh.gate.load(Ordering::Acquire) >> 1;
    loop {
        let mut spins = 0;
        while sh.gate.load(Ordering::Acquire) >> 1 == seen && spins < SPIN {
            std::hint::spin_loop();
            spins += 1;
        }
        if sh.gate.load(Ordering::Acquire) >> 1 == seen {
            let mut g = sh.lock.lock().unwrap_or_else(|e| e.into_inner());
            while sh.gate.load(Ordering::Acquire) >> 1 == seen {
                g = sh.work_cv.wait(g).unwrap_or_else(|e| e.into_inner());
            }
        }
        sh.inside.fetch_add(1, Ordering::AcqRel);
        let gate = sh.gate.load(Ordering::Acquire);
        seen = gate >> 1;
        if gate & 1 == 1 {
            exec_tasks(&sh);
        }
        sh.inside.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Runs `f(i)` for every `i < ntasks` on up to `threads` threads (the caller included) and
/// waits for all of them. A panic in any task is caught and returned as `Err(message)`.
pub fn run(ntasks: usize, threads: usize, f: &(dyn Fn(usize) + Sync)) -> Result<(), String> {
    if ntasks == 0 {
        return Ok(());
    }
    let serial = |f: &(dyn Fn(usize) + Sync)| -> Result<(), String> {
        for i in 0..ntasks {
            catch_unwind(AssertUnwindSafe(|| f(i))).map_err(|p| panic_error(&*p))?;
        }
        Ok(())
    };
    if ntasks == 1 || threads <= 1 {
        return serial(f);
    }
    let p = pool();
    if SUBMITTING.with(|b| b.get()) {
        return serial(f); // a task of this thread's own job
    }
    let lock = if BLOCK_ON_BUSY.with(|b| b.get()) { p.submit.lock().map_err(|_| ()) } else { p.submit.try_lock().map_err(|_| ()) };
    let mut workers = match lock {
        Ok(g) => g,
        Err(()) => return serial(f), // busy (another thread or environment) or poisoned
    };
    let sh = &p.shared;
    while *workers < threads - 1 {
        let s2 = sh.clone();
        let spawned = std::thread::Builder::new().name(format!("tessera-native-{}", *workers + 1)).spawn(move || worker(s2));
        if spawned.is_err() {
            break;
        }
        *workers += 1;
    }
    if *workers == 0 {
        return serial(f);
    }
    // No worker is inside (the previous job waited for that), and the gate is closed, so
    // nobody reads the job while it is written.
    unsafe {
        let fp: *const TaskFn = std::mem::transmute::<&(dyn Fn(usize) + Sync), &'static TaskFn>(f);
        *sh.job.get() = Job { f: fp, ntasks };
    }
    sh.next.store(0, Ordering::Relaxed);
    sh.done.store(0, Ordering::Relaxed);
    sh.panicked.store(false, Ordering::Relaxed);
    let epoch = (sh.gate.load(Ordering::Relaxed) >> 1) + 1;
    {
        let _g = sh.lock.lock().unwrap_or_else(|e| e.into_inner());
        sh.gate.store((epoch << 1) | 1, Ordering::Release);
    }
    sh.work_cv.notify_all();
    SUBMITTING.with(|b| b.set(true));
    exec_tasks(sh);
    SUBMITTING.with(|b| b.set(false));
    // wait for tasks that workers claimed
    let mut spins = 0;
    while sh.done.load(Ordering::Acquire) != ntasks && spins < SPIN * 8 {
        std::hint::spin_loop();
        spins += 1;
    }
    if sh.done.load(Ordering::Acquire) != ntasks {
        let mut g = sh.lock.lock().unwrap_or_else(|e| e.into_inner());
        while sh.done.load(Ordering::Acquire) != ntasks {
            g = sh.done_cv.wait(g).unwrap_or_else(|e| e.into_inner());
        }
    }
    // close the job and wait until no worker can still be reading it
    sh.gate.store(epoch << 1, Ordering::Release);
    let mut spins = 0u32;
    while sh.inside.load(Ordering::Acquire) != 0 {
        spins += 1;
        if spins.is_multiple_of(64) {
            std::thread::yield_now(); // a worker was preempted between entering and leaving
        } else {
            std::hint::spin_loop();
        }
    }
    let result = if sh.panicked.load(Ordering::Relaxed) {
        let msg = sh.panic_msg.lock().unwrap_or_else(|e| e.into_inner()).take();
        Err(msg.unwrap_or_else(|| "panic in a worker thread".into()))
    } else {
        Ok(())
    };
    drop(workers);
    result
}

/// Splits `[0, total)` into at most `threads` ranges of at least `grain` items (fewer ranges
/// when the work is small) and calls `f(start, end)` for each, in parallel.
pub fn par_ranges(total: usize, grain: usize, threads: usize, f: &(dyn Fn(usize, usize) + Sync)) -> Result<(), String> {
    if total == 0 {
        return Ok(());
    }
    let nt = threads.max(1).min(total.div_ceil(grain.max(1))).max(1);
    if nt == 1 {
        return catch_unwind(AssertUnwindSafe(|| f(0, total))).map_err(|p| panic_error(&*p));
    }
    run(nt, nt, &|t| {
        let s = total * t / nt;
        let e = total * (t + 1) / nt;
        if s < e {
            f(s, e)
        }
    })
}

/// A raw pointer that may be shared with worker threads (the kernels guarantee that tasks
/// touch disjoint elements, or only read).
#[derive(Clone, Copy)]
pub struct SendPtr<T>(pub *mut T);
impl<T> SendPtr<T> {
    /// The pointer (a method, so closures capture the whole `Sync` wrapper).
    #[inline(always)]
    pub fn get(&self) -> *mut T {
        self.0
    }
}
unsafe impl<T> Send for SendPtr<T> {}
unsafe impl<T> Sync for SendPtr<T> {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn runs_every_task_once() {
        for threads in 1..=4 {
            for n in [0usize, 1, 2, 3, 17, 1000] {
                let hits: Vec<AtomicUsize> = (0..n).map(|_| AtomicUsize::new(0)).collect();
                run(n, threads, &|i| {
                    hits[i].fetch_add(1, Ordering::Relaxed);
                })
                .unwrap();
                assert!(hits.iter().all(|h| h.load(Ordering::Relaxed) == 1));
            }
        }
    }

    #[test]
    fn ranges_cover_exactly() {
        let total = 12345;
        let sum = AtomicUsize::new(0);
        par_ranges(total, 100, 3, &|s, e| {
            sum.fetch_add(e - s, Ordering::Relaxed);
        })
        .unwrap();
        assert_eq!(sum.load(Ordering::Relaxed), total);
    }

    #[test]
    fn panics_become_errors() {
        let r = run(8, 2, &|i| {
            if i == 5 {
                panic!("boom {i}");
            }
        });
        assert_eq!(r.unwrap_err(), format!("{PANIC_MARK}: boom 5"));
        // The pool still works afterwards.
        run(4, 2, &|_| {}).unwrap();
    }
}

#[cfg(test)]
mod participation {
    /// How often a worker joins jobs of ~50 µs issued back to back (diagnostic:
    /// `cargo test --release participation -- --ignored --nocapture`).
    #[test]
    #[ignore]
    fn worker_participation() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let main = std::thread::current().id();
        for gap_us in [0u64, 20, 200] {
            let by_worker = AtomicUsize::new(0);
            let total = 400 * 8;
            for _ in 0..400 {
                super::run(8, 2, &|_| {
                    let t = std::time::Instant::now();
                    while t.elapsed().as_micros() < 6 {
                        std::hint::spin_loop();
                    }
                    if std::thread::current().id() != main {
                        by_worker.fetch_add(1, Ordering::Relaxed);
                    }
                })
                .unwrap();
                let t = std::time::Instant::now();
                while t.elapsed().as_micros() < gap_us as u128 {
                    std::hint::spin_loop();
                }
            }
            println!("gap {gap_us:>3} µs between jobs: workers ran {:.0}% of tasks", 100.0 * by_worker.load(Ordering::Relaxed) as f64 / total as f64);
        }
    }
}
