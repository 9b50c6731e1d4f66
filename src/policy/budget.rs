//! The budget of one evaluation (comprehension steps, wall time, bytes allocated) and the meter
//! that enforces it, with the run's cancel flag, from inside the CEL interpreter.

use cel::ExecutionError;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Limits on evaluating one condition on one resource. Over any of them the finding is `error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Comprehension iterations (`all`, `exists`, `exists_one`, `map`, `filter`), nested ones
    /// included: four nested loops over 100 elements take 100,000,000.
    pub steps: u64,
    /// Wall time.
    pub time: Duration,
    /// Bytes the evaluating thread holds beyond what it held when the evaluation began
    /// (allocated minus freed, counted by [`crate::alloc::Counting`]).
    pub memory: u64,
}

impl Default for Budget {
    /// 1,000,000 steps, 1 s, 256 MiB: a hundred times what the shipped catalog needs.
    fn default() -> Budget {
        Budget { steps: 1_000_000, time: Duration::from_secs(1), memory: 256 << 20 }
    }
}

/// Why an evaluation was stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// More comprehension steps than the budget.
    Steps(u64),
    /// Longer than the budget.
    Time(Duration),
    /// More bytes allocated than the budget.
    Memory(u64),
    /// The run was cancelled.
    Cancelled,
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stop::Steps(n) => write!(f, "evaluation budget exceeded: more than {n} comprehension steps"),
            Stop::Time(t) => write!(f, "evaluation budget exceeded: ran longer than {t:?}"),
            Stop::Memory(b) => write!(f, "evaluation budget exceeded: held more than {} MiB", b >> 20),
            Stop::Cancelled => write!(f, "evaluation cancelled"),
        }
    }
}

impl Stop {
    fn code(self) -> u8 {
        match self {
            Stop::Steps(_) => 1,
            Stop::Time(_) => 2,
            Stop::Memory(_) => 3,
            Stop::Cancelled => 4,
        }
    }
}

/// The clock is read every this many steps; steps, memory and cancel are checked on each.
const TIME_STRIDE: u64 = 64;

/// One evaluator's meter, shared with the functions the interpreter calls. Only the thread that
/// evaluates touches it; the atomics are there because CEL functions must be `Sync`.
#[derive(Debug)]
pub(super) struct Meter {
    budget: Budget,
    cancel: Arc<AtomicBool>,
    epoch: Instant,
    steps: AtomicU64,
    started_ns: AtomicU64,
    started_bytes: AtomicI64,
    stop: AtomicU8,
}

impl Meter {
    /// A meter for `budget` that also stops when `cancel` is set.
    pub(super) fn new(budget: Budget, cancel: Arc<AtomicBool>) -> Meter {
        Meter {
            budget,
            cancel,
            epoch: Instant::now(),
            steps: AtomicU64::new(0),
            started_ns: AtomicU64::new(0),
            started_bytes: AtomicI64::new(0),
            stop: AtomicU8::new(0),
        }
    }

    /// Start metering a new evaluation.
    pub(super) fn begin(&self) {
        self.steps.store(0, Ordering::Relaxed);
        self.started_ns.store(self.now_ns(), Ordering::Relaxed);
        self.started_bytes.store(crate::alloc::net_allocated(), Ordering::Relaxed);
        let stop = if self.cancel.load(Ordering::Relaxed) { Stop::Cancelled.code() } else { 0 };
        self.stop.store(stop, Ordering::Relaxed);
    }

    /// Give the interpreter a fresh count of steps when it takes over an evaluation that a
    /// compiled condition left undecided; its time and memory still count from [`Self::begin`].
    pub(super) fn restart_steps(&self) {
        self.steps.store(0, Ordering::Relaxed);
    }

    /// Why the current evaluation was stopped, if it was.
    pub(super) fn stopped(&self) -> Option<Stop> {
        match self.stop.load(Ordering::Relaxed) {
            0 => None,
            1 => Some(Stop::Steps(self.budget.steps)),
            2 => Some(Stop::Time(self.budget.time)),
            3 => Some(Stop::Memory(self.budget.memory)),
            _ => Some(Stop::Cancelled),
        }
    }

    /// Charge one comprehension step; an error once any limit is passed (and on every later
    /// call, so enclosing loops end at their next step too).
    pub(super) fn step(&self) -> Result<(), ExecutionError> {
        let n = self.steps.load(Ordering::Relaxed) + 1;
        self.steps.store(n, Ordering::Relaxed);
        if n > self.budget.steps {
            return self.fail(Stop::Steps(self.budget.steps));
        }
        if n.is_multiple_of(TIME_STRIDE) { self.check() } else { self.check_cheap() }
    }

    /// Check every limit but steps now: before and after work that is not a step.
    pub(super) fn check(&self) -> Result<(), ExecutionError> {
        self.check_cheap()?;
        if self.now_ns().saturating_sub(self.started_ns.load(Ordering::Relaxed)) > self.budget.time.as_nanos() as u64 {
            return self.fail(Stop::Time(self.budget.time));
        }
        Ok(())
    }

    /// Fail unless `bytes` more can still be allocated within the budget (for a function that
    /// knows its result's size before building it).
    pub(super) fn reserve(&self, bytes: u64) -> Result<(), ExecutionError> {
        if self.used_bytes().saturating_add(bytes) > self.budget.memory {
            return self.fail(Stop::Memory(self.budget.memory));
        }
        self.check_cheap()
    }

    /// An earlier stop, cancel and memory: no clock read.
    fn check_cheap(&self) -> Result<(), ExecutionError> {
        if let Some(stop) = self.stopped() {
            return Err(error(stop));
        }
        if self.cancel.load(Ordering::Relaxed) {
            return self.fail(Stop::Cancelled);
        }
        if self.used_bytes() > self.budget.memory {
            return self.fail(Stop::Memory(self.budget.memory));
        }
        Ok(())
    }

    fn used_bytes(&self) -> u64 {
        let held = crate::alloc::net_allocated().saturating_sub(self.started_bytes.load(Ordering::Relaxed));
        u64::try_from(held).unwrap_or(0)
    }

    fn fail(&self, stop: Stop) -> Result<(), ExecutionError> {
        // The first reason stays: later checks only repeat it.
        let _ = self.stop.compare_exchange(0, stop.code(), Ordering::Relaxed, Ordering::Relaxed);
        Err(error(self.stopped().unwrap_or(stop)))
    }

    fn now_ns(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

fn error(stop: Stop) -> ExecutionError {
    ExecutionError::function_error("budget", stop.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meter(budget: Budget) -> (Meter, Arc<AtomicBool>) {
        let cancel = Arc::new(AtomicBool::new(false));
        let m = Meter::new(budget, Arc::clone(&cancel));
        m.begin();
        (m, cancel)
    }

    #[test]
    fn steps_run_out_and_stay_out() {
        let (m, _) = meter(Budget { steps: 3, ..Budget::default() });
        for _ in 0..3 {
            m.step().unwrap();
        }
        assert!(m.step().is_err());
        assert_eq!(m.stopped(), Some(Stop::Steps(3)));
        // a later check repeats the first reason
        assert!(m.check().is_err());
        assert_eq!(m.stopped(), Some(Stop::Steps(3)));
        // the next evaluation starts afresh
        m.begin();
        assert_eq!(m.stopped(), None);
        m.step().unwrap();
    }

    #[test]
    fn zero_time_trips_on_the_first_clock_read() {
        let (m, _) = meter(Budget { time: Duration::ZERO, ..Budget::default() });
        // the clock is read every TIME_STRIDE steps, not on each
        for _ in 1..TIME_STRIDE {
            m.step().unwrap();
        }
        assert!(m.step().is_err());
        assert_eq!(m.stopped(), Some(Stop::Time(Duration::ZERO)));
        assert!(m.stopped().unwrap().to_string().contains("evaluation budget exceeded: ran longer"));
    }

    #[test]
    fn memory_counts_what_this_thread_holds_since_begin() {
        let (m, _) = meter(Budget { memory: 1 << 20, ..Budget::default() });
        m.step().unwrap();
        let big = vec![1u8; 2 << 20];
        std::hint::black_box(&big);
        assert!(m.step().is_err());
        assert_eq!(m.stopped(), Some(Stop::Memory(1 << 20)));
        // churn is not memory: allocating and freeing 8 MiB in all holds nothing
        m.begin();
        for _ in 0..8 {
            std::hint::black_box(vec![1u8; 1 << 20]);
            m.step().unwrap();
        }
        m.begin();
        m.step().unwrap();
        assert!(m.reserve(2 << 20).is_err());
    }

    #[test]
    fn cancel_stops_at_the_next_step_or_at_begin() {
        let (m, cancel) = meter(Budget::default());
        m.step().unwrap();
        cancel.store(true, Ordering::Relaxed);
        assert!(m.step().is_err());
        assert_eq!(m.stopped(), Some(Stop::Cancelled));
        m.begin();
        assert_eq!(m.stopped(), Some(Stop::Cancelled));
    }
}
