//! The background worker: long kernels run here, off the JS thread, strictly in the order
//! they were queued.
//!
//! The JS thread parses and validates a kernel's arguments, then either runs it at once or
//! queues it as a [`Job`] (its views already bounds-checked, base pointers captured). Every
//! job gets a sequence number; the buffers it touches carry that number as their *fence*
//! (in `Storage`). A later kernel touching a fenced buffer whose job has not completed is
//! queued behind it, so dependent work keeps call order without blocking the JS thread;
//! independent kernels keep running on the JS thread meanwhile. `completed` only grows, so
//! "job `s` is done" is `completed >= s`.
//!
//! A job that fails (an error or a caught panic) *poisons* the buffers it writes: the
//! failure is kept per buffer until the buffer is freed, and every later read of it (and
//! every kernel that consumes it) reports that failure as a typed error. Jobs whose inputs
//! are poisoned do not run and poison their own outputs.
//!
//! Completion reaches JS through a Node-API thread-safe function (set up in `lib.rs`): the
//! worker calls it after a job when JS has promises waiting, and the JS thread then settles
//! them.

use crate::pool::{self, panic_error};
use crate::view::Res;
use std::collections::{HashMap, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// The body of a queued kernel; gets the thread count.
pub type Task = Box<dyn FnOnce(usize) -> Res<()> + Send>;

/// Why a job failed: the JS error `code` and message.
#[derive(Clone, Debug)]
pub struct Failure {
    pub code: &'static str,
    pub msg: String,
}

/// One queued kernel.
pub struct Job {
    pub seq: u64,
    /// Op name, for error messages.
    pub name: &'static str,
    /// Buffers it reads (poisoned ones stop it).
    pub ins: Vec<u32>,
    /// Buffers it writes (poisoned when it fails).
    pub outs: Vec<u32>,
    pub threads: usize,
    pub task: Task,
    /// Keep its failure by sequence number (a JS promise waits for this job).
    pub report: bool,
}

struct State {
    jobs: VecDeque<Job>,
    submitted: u64,
    shutdown: bool,
    /// Failures of the buffers failed jobs wrote, until the buffer is freed.
    poison: HashMap<u32, Failure>,
    /// Failures of reporting jobs, until JS takes them.
    failures: HashMap<u64, Failure>,
    /// JS promises waiting for completions (the worker signals JS only when there are some).
    waiters: usize,
    /// The thread-safe function that wakes the JS thread (0: none, or torn down).
    tsfn: usize,
    /// A wake-up is on its way to the JS thread.
    signalled: bool,
}

/// Shared by the JS thread and the worker.
pub struct Queue {
    st: Mutex<State>,
    work_cv: Condvar,
    done_cv: Condvar,
    completed: AtomicU64,
    any_poison: AtomicBool,
}

/// Calls the thread-safe function (set by `lib.rs`; a plain function pointer so this module
/// builds without Node-API in `cargo test`).
pub type Signal = unsafe fn(usize);

impl Queue {
    pub fn new() -> Arc<Queue> {
        Arc::new(Queue {
            st: Mutex::new(State {
                jobs: VecDeque::new(),
                submitted: 0,
                shutdown: false,
                poison: HashMap::new(),
                failures: HashMap::new(),
                waiters: 0,
                tsfn: 0,
                signalled: false,
            }),
            work_cv: Condvar::new(),
            done_cv: Condvar::new(),
            completed: AtomicU64::new(0),
            any_poison: AtomicBool::new(false),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.st.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sequence number of the last job that finished (jobs finish in order).
    #[inline(always)]
    pub fn completed(&self) -> u64 {
        self.completed.load(Ordering::Acquire)
    }

    /// Sequence number of the last job queued.
    pub fn submitted(&self) -> u64 {
        self.lock().submitted
    }

    /// Queues a job (its `seq` is assigned here) and returns that sequence number.
    pub fn push(&self, mut job: Job) -> Res<u64> {
        let mut st = self.lock();
        if st.shutdown {
            return Err("the backend was disposed".into());
        }
        st.submitted += 1;
        job.seq = st.submitted;
        st.jobs.push_back(job);
        let seq = st.submitted;
        drop(st);
        self.work_cv.notify_one();
        Ok(seq)
    }

    /// Blocks the calling thread until job `seq` has completed.
    pub fn wait(&self, seq: u64) {
        if self.completed() >= seq {
            return;
        }
        let mut st = self.lock();
        while self.completed() < seq && !st.shutdown {
            st = self.done_cv.wait(st).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Some buffer holds a failure (cheap; `poisoned` says which).
    #[inline(always)]
    pub fn any_poison(&self) -> bool {
        self.any_poison.load(Ordering::Acquire)
    }

    /// The failure a buffer holds, if a failed job wrote it.
    #[inline]
    pub fn poisoned(&self, id: u32) -> Option<Failure> {
        if !self.any_poison.load(Ordering::Acquire) {
            return None;
        }
        self.lock().poison.get(&id).cloned()
    }

    /// Forgets the failures of freed buffers.
    pub fn forget(&self, ids: &[u32]) {
        if ids.is_empty() || !self.any_poison.load(Ordering::Acquire) {
            return;
        }
        let mut st = self.lock();
        for id in ids {
            st.poison.remove(id);
        }
        self.any_poison.store(!st.poison.is_empty(), Ordering::Release);
    }

    /// Takes the failure of a reporting job.
    pub fn take_failure(&self, seq: u64) -> Option<Failure> {
        self.lock().failures.remove(&seq)
    }

    /// Registers `n` more (or fewer) waiting JS promises; returns `completed` as seen under
    /// the lock, so a job finishing concurrently either is seen here or signals JS.
    pub fn set_waiters(&self, n: usize) -> u64 {
        let mut st = self.lock();
        st.waiters = n;
        self.completed()
    }

    /// Clears the "wake-up sent" flag (the JS thread is handling it now).
    pub fn take_signal(&self) {
        self.lock().signalled = false;
    }

    /// Installs (or, with 0, forgets) the thread-safe function. Returns the previous one.
    pub fn set_tsfn(&self, tsfn: usize) -> usize {
        std::mem::replace(&mut self.lock().tsfn, tsfn)
    }

    /// Stops the worker after its current job: queued jobs are dropped.
    pub fn shutdown(&self) {
        let mut st = self.lock();
        st.shutdown = true;
        st.jobs.clear();
        drop(st);
        self.work_cv.notify_all();
        self.done_cv.notify_all();
    }

    /// The worker thread's loop; returns after `shutdown`.
    pub fn work(&self, signal: Signal) {
        pool::block_on_busy_pool();
        loop {
            let (job, blocked) = {
                let mut st = self.lock();
                loop {
                    if st.shutdown {
                        return;
                    }
                    if let Some(j) = st.jobs.pop_front() {
                        let blocked = j.ins.iter().chain(&j.outs).find_map(|id| st.poison.get(id).cloned());
                        break (j, blocked);
                    }
                    st = self.work_cv.wait(st).unwrap_or_else(|e| e.into_inner());
                }
            };
            let Job { seq, name, outs, threads, task, report, .. } = job;
            let failure = match blocked {
                Some(f) => {
                    drop(task);
                    // the consumer reports the failure of the kernel that produced its input
                    Some(f)
                }
                None => match catch_unwind(AssertUnwindSafe(|| task(threads))) {
                    Ok(Ok(())) => None,
                    Ok(Err(msg)) => {
                        let code = if msg.contains(pool::PANIC_MARK) { "ERR_TESSERA_NATIVE_PANIC" } else { "ERR_TESSERA_NATIVE" };
                        Some(Failure { code, msg: format!("{name} (run off the JS thread) failed: {msg}") })
                    }
                    Err(p) => Some(Failure { code: "ERR_TESSERA_NATIVE_PANIC", msg: format!("{name} (run off the JS thread) failed: {}", panic_error(&*p)) }),
                },
            };
            let mut st = self.lock();
            if let Some(f) = failure {
                for id in &outs {
                    st.poison.insert(*id, f.clone());
                }
                if !outs.is_empty() {
                    self.any_poison.store(true, Ordering::Release);
                }
                if report {
                    st.failures.insert(seq, f);
                }
            }
            self.completed.store(seq, Ordering::Release);
            self.done_cv.notify_all();
            if st.waiters > 0 && !st.signalled && st.tsfn != 0 {
                st.signalled = true;
                // Under the lock, so the function cannot be torn down meanwhile.
                unsafe { signal(st.tsfn) };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn job(ins: Vec<u32>, outs: Vec<u32>, task: Task) -> Job {
        Job { seq: 0, name: "test", ins, outs, threads: 1, task, report: true }
    }

    static SIGNALS: AtomicUsize = AtomicUsize::new(0);
    unsafe fn count_signal(_: usize) {
        SIGNALS.fetch_add(1, Ordering::Relaxed);
    }

    #[test]
    fn runs_in_order_and_poisons_failed_outputs() {
        let q = Queue::new();
        let q2 = q.clone();
        let worker = std::thread::spawn(move || q2.work(count_signal));
        q.set_waiters(1);
        q.set_tsfn(1);
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut last = 0;
        for i in 0..50u32 {
            let l = log.clone();
            last = q.push(job(vec![], vec![i], Box::new(move |_| {
                l.lock().unwrap().push(i);
                Ok(())
            })))
            .unwrap();
        }
        q.wait(last);
        assert_eq!(*log.lock().unwrap(), (0..50).collect::<Vec<_>>());
        // a panicking job poisons its output, and a job reading that output does not run
        let ran = Arc::new(AtomicBool::new(false));
        let r2 = ran.clone();
        let s1 = q.push(job(vec![], vec![100], Box::new(|_| panic!("boom")))).unwrap();
        let s2 = q.push(job(vec![100], vec![101], Box::new(move |_| {
            r2.store(true, Ordering::Relaxed);
            Ok(())
        })))
        .unwrap();
        let s3 = q.push(job(vec![], vec![102], Box::new(|_| Err("bad shapes".into())))).unwrap();
        q.wait(s3);
        assert!(!ran.load(Ordering::Relaxed));
        assert_eq!(q.poisoned(100).unwrap().code, "ERR_TESSERA_NATIVE_PANIC");
        assert!(q.poisoned(101).unwrap().msg.contains("boom"));
        assert_eq!(q.poisoned(102).unwrap().code, "ERR_TESSERA_NATIVE");
        assert!(q.take_failure(s1).unwrap().msg.contains("boom"));
        assert!(q.take_failure(s2).is_some());
        assert!(q.take_failure(s2).is_none());
        assert!(q.poisoned(5).is_none());
        q.forget(&[100, 101, 102]);
        assert!(q.poisoned(100).is_none());
        assert!(SIGNALS.load(Ordering::Relaxed) >= 1, "JS is woken when it waits");
        q.shutdown();
        worker.join().unwrap();
        assert!(q.push(job(vec![], vec![], Box::new(|_| Ok(())))).is_err());
    }
}
