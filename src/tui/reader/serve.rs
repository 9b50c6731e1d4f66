//! The reader thread's side: its connection to the cache answers each request.

use super::scoped;
use super::{Answer, Counted, Loaded, RESOURCE_FINDINGS, Request, ResourceAnswer, Window, WindowAt};
use crate::catalog::Catalog;
use crate::governance::ExemptionMatcher;
use crate::store::{DiffReport, FindingFilter, FindingRow, PageKey, Store};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Rows and the keys of the first and last.
type WindowRows = (Vec<FindingRow>, Option<(PageKey, PageKey)>);

/// The reader thread's side: the connection and the catalog.
pub(super) struct Serve {
    pub(super) store: Store,
    pub(super) catalog: Arc<Catalog>,
    /// Generation of the latest count the UI sent.
    pub(super) latest_count: Arc<AtomicU64>,
}

impl Serve {
    /// The answer to request `generation` (None: a count that a newer one stopped).
    pub(super) fn answer(&mut self, generation: u64, request: Request) -> Option<Answer> {
        Some(match request {
            Request::Load { run } => Answer::Loaded(self.load(run)),
            Request::Findings { run, filter, at, limit, epoch } => {
                let w = self.window(run, &filter, &at, limit);
                Answer::Findings(w.map(|(rows, keys)| Box::new(Window { run, epoch, at: *at, rows, keys })))
            }
            Request::Count { run, filter, epoch } => {
                let latest = Arc::clone(&self.latest_count);
                let stop = move || latest.load(Ordering::Relaxed) > generation;
                match self.store.count_findings_unless(run, &filter, stop) {
                    Ok(Some(total)) => Answer::Count(Ok(Counted { run, epoch, total })),
                    Ok(None) => return None,
                    Err(e) => Answer::Count(Err(format!("counting findings: {e}"))),
                }
            }
            Request::Resource { run, id } => Answer::Resource(self.resource(run, id)),
            Request::Trends { up_to } => Answer::Trends(
                self.store
                    .trends(up_to, crate::store::TREND_RUNS)
                    .map(Box::new)
                    .map_err(|e| format!("reading the trends: {e}")),
            ),
            Request::Diff { from, to } => Answer::Diff(self.diff(from, to)),
            Request::Save { mut form, author, max_evidence_bytes, now } => {
                let result = form.save(&self.catalog, &mut self.store, &author, max_evidence_bytes, now);
                Answer::Saved { form, result, notices: self.store.take_notices() }
            }
            Request::Catalog(c) => {
                self.catalog = c;
                Answer::CatalogSet
            }
            Request::Review { today, window_days, done } => {
                let at = crate::governance::ReviewAt { today, window_days, done: &|id| done.contains(id) };
                Answer::Review(
                    crate::governance::Review::load(&self.store, at)
                        .map(Box::new)
                        .map_err(|e| format!("reading attestations, exemptions and assignments: {e}")),
                )
            }
            Request::Lookup { run, query } => {
                let found = self.store.find_resources(run, &query, crate::store::LOOKUP_LIMIT);
                Answer::Lookup { run, query, found: found.map_err(|e| format!("looking up resources: {e}")) }
            }
            Request::Assessments { run, list } => Answer::Assessments(run, self.assessments(run, &list)),
            Request::Breakdown { run, subject, checks } => {
                let b = self.store.scope_breakdown(run, &checks, scoped::BREAKDOWN_SCOPES);
                Answer::Breakdown(subject, b.map_err(|e| format!("reading the results per scope: {e}")))
            }
        })
    }

    fn load(&self, run: Option<i64>) -> Result<Box<Loaded>, String> {
        let exemptions = self.store.exemptions().map_err(|e| format!("reading exemptions: {e}"))?;
        let exemptions = ExemptionMatcher::new(exemptions);
        let info = match run {
            Some(id) => Some(self.store.run(id).map_err(|e| format!("run {id}: {e}"))?),
            None => self.store.latest_run().map_err(|e| format!("reading the cache: {e}"))?,
        };
        let Some(info) = info else {
            return Ok(Box::new(Loaded { run: None, rollup: None, scopes: Vec::new(), exemptions }));
        };
        let rollup = crate::pipeline::live_rollup(&self.store, &self.catalog, &info, &[])
            .map_err(|e| format!("reading run {}: {e}", info.id))?;
        let scopes = self.store.scopes(info.id).unwrap_or_default();
        Ok(Box::new(Loaded { run: Some(info), rollup: Some(rollup), scopes, exemptions }))
    }

    fn window(&self, run: i64, filter: &FindingFilter, at: &WindowAt, limit: u64) -> Result<WindowRows, String> {
        let failed = |e: crate::store::StoreError| format!("reading findings: {e}");
        match at {
            WindowAt::Offset(start) => Ok((self.store.findings(run, filter, *start, limit).map_err(failed)?, None)),
            WindowAt::Page(p) => {
                let page = self.store.findings_page(run, filter, p, limit).map_err(failed)?;
                let keys = page.first_key().cloned().zip(page.last_key().cloned());
                Ok((page.rows, keys))
            }
        }
    }

    fn resource(&self, run: i64, id: String) -> Result<ResourceAnswer, String> {
        let filter = FindingFilter { resource: Some(id.clone()), ..Default::default() };
        let findings = self.store.findings(run, &filter, 0, RESOURCE_FINDINGS).map_err(|e| e.to_string())?;
        let doc = self.store.resource_doc(run, &id).map_err(|e| format!("reading resource: {e}"))?;
        Ok(ResourceAnswer { run, id, findings, doc })
    }

    fn diff(&self, from: Option<i64>, to: i64) -> Result<Option<Box<DiffReport>>, String> {
        let from = match from {
            Some(f) => Some(f),
            None => {
                self.store.history(None, 200).map_err(|e| e.to_string())?.iter().map(|e| e.run.id).find(|id| *id < to)
            }
        };
        match from {
            Some(from) => self.store.diff(from, to).map(|d| Some(Box::new(d))).map_err(|e| e.to_string()),
            None => Ok(None),
        }
    }
}
