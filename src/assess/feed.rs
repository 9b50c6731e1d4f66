//! The reading stage of a run: sources read and parsed on a thread of their own and handed
//! to evaluation through a bounded queue, so parsing the next batch overlaps judging this one
//! and memory holds at most [`QUEUE`] batches besides the one read and the one judged.

use super::BatchOutput;
use crate::model::Resource;
use crate::sources::{ReadPlan, RelatedTypes, SourceReport, SourceSpec, read_sources_by};
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};
use std::thread::{Scope, ScopedJoinHandle};

/// Batches waiting between reading and evaluation.
pub(super) const QUEUE: usize = 2;

/// What the reading stage hands on, in reading order.
pub(super) enum Feed {
    /// Resources related and scope checks read (from the sources' first pass): all of them
    /// arrive before the first batch.
    Related(Vec<Resource>),
    /// Resources of the source at this index of the specs, to judge.
    Batch(usize, Vec<Resource>),
    /// Every resource of a file of these bytes came before this (progress).
    FileDone(u64),
}

/// What the reading stage reads.
pub(super) struct Reader<'env> {
    /// The sources.
    pub specs: &'env [SourceSpec],
    /// Caps on one string and one record.
    pub limits: crate::sources::Limits,
    /// Most resources per batch.
    pub batch: usize,
    /// The types related and scope checks read (none: nothing is held).
    pub related: &'env BTreeSet<String>,
    /// Stops reading between files.
    pub cancel: &'env AtomicBool,
    /// Batches back from the sink, freed here before each batch is sent (`engine::Sink`).
    pub back: Option<Receiver<BatchOutput>>,
}

impl<'env> Reader<'env> {
    /// Read on a new thread of `scope`, sending to `tx`; the thread's result is the sources'
    /// reports. It stops between files once `cancel` is set or nobody receives any more.
    pub(super) fn spawn<'scope>(
        self,
        scope: &'scope Scope<'scope, 'env>,
        tx: SyncSender<Feed>,
    ) -> ScopedJoinHandle<'scope, Vec<SourceReport>> {
        scope.spawn(move || self.read(&tx))
    }

    fn read(self, tx: &SyncSender<Feed>) -> Vec<SourceReport> {
        let gone = AtomicBool::new(false);
        let back = self.back;
        let send = |feed: Feed| {
            if let Some(b) = &back {
                b.try_iter().for_each(drop);
            }
            if tx.send(feed).is_err() {
                gone.store(true, Ordering::Relaxed);
            }
        };
        let cancel = self.cancel;
        let stop = || cancel.load(Ordering::Relaxed) || gone.load(Ordering::Relaxed);
        let batch = self.batch.max(1);
        // Held until the first batch (or the end), sent in batches of the same size.
        let held = RefCell::new(Vec::new());
        let flush = || {
            let rs = std::mem::take(&mut *held.borrow_mut());
            if !rs.is_empty() {
                send(Feed::Related(rs));
            }
        };
        let mut keep = |r: Resource| {
            held.borrow_mut().push(r);
            if held.borrow().len() >= batch {
                flush();
            }
        };
        let related = (!self.related.is_empty()).then_some(RelatedTypes { types: self.related, on: &mut keep });
        let file_done = |bytes| send(Feed::FileDone(bytes));
        let plan = ReadPlan { limits: self.limits, batch, stop: &stop, file_done: &file_done };
        let reports = read_sources_by(self.specs, plan, related, &mut |source, resources| {
            flush();
            send(Feed::Batch(source, resources));
        });
        flush();
        reports
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Cloud, ResourceRef};
    use std::sync::Arc;

    #[test]
    fn batches_sent_back_are_freed_before_the_next_batch_is_sent() {
        let held = Arc::new(ResourceRef {
            id: "id".into(),
            name: "n".into(),
            rtype: "t".into(),
            cloud: Cloud::Aws,
            scope: "s".into(),
            region: "r".into(),
        });
        let (back_tx, back) = std::sync::mpsc::channel();
        back_tx.send(BatchOutput { resources: vec![Arc::clone(&held)], ..Default::default() }).unwrap();
        let specs = [SourceSpec::Demo];
        let (cancel, related) = (AtomicBool::new(false), BTreeSet::new());
        let reader = Reader {
            specs: &specs,
            limits: Default::default(),
            batch: 5,
            related: &related,
            cancel: &cancel,
            back: Some(back),
        };
        let (n, freed_first) = std::thread::scope(|s| {
            let (tx, rx) = std::sync::mpsc::sync_channel(QUEUE);
            let reading = reader.spawn(s, tx);
            let mut n = 0;
            let mut freed_first = None;
            for feed in rx {
                if let Feed::Batch(_, rs) = feed {
                    freed_first.get_or_insert(Arc::strong_count(&held));
                    n += rs.len();
                }
            }
            reading.join().unwrap();
            (n, freed_first)
        });
        assert!(n > 5, "the demo estate comes in several batches ({n} resources)");
        // Only this test's own reference is left once the first batch arrives.
        assert_eq!(freed_first, Some(1));
        // Once reading is over, nobody takes batches back: the sender learns it.
        assert!(back_tx.send(BatchOutput::default()).is_err());
    }
}
