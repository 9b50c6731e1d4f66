//! Reads: runs, paged findings, history, diff. Listings never load a run whole.

use super::PageAt;
use super::codes::state_code;
use super::{Ctx, Result, Store, StoreError};
use crate::assess::{CheckStats, ScStats};
use crate::model::{Cloud, Evidence, FindingState, ResourceRef};
use rusqlite::{OptionalExtension, Row, params_from_iter, types::Value as SqlValue};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// A published run's header.
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    /// Run id.
    pub id: i64,
    /// Start time (RFC 3339).
    pub started_at: String,
    /// End time.
    pub finished_at: Option<String>,
    /// Complete or partial (only published runs are read).
    pub status: crate::assess::RunStatus,
    /// Source reports.
    pub sources: serde_json::Value,
    /// Selected standards (empty: all).
    pub standards: Vec<String>,
    /// Clouds with resources.
    pub clouds: Vec<Cloud>,
    /// Whether it assessed the embedded demo estate.
    pub demo: bool,
    /// Resources read.
    pub resources_seen: u64,
    /// Resources assessed by a check.
    pub resources: u64,
    /// Compliance score at run time.
    pub compliance: crate::assess::ComplianceScore,
    /// Secure score at run time.
    pub secure: crate::assess::SecureScore,
}

/// What the rollup needs from a run.
#[derive(Debug, Clone)]
pub struct RunSnapshot {
    /// Header.
    pub info: RunInfo,
    /// Per check totals.
    pub totals: BTreeMap<String, CheckStats>,
    /// Per security control.
    pub security: BTreeMap<String, ScStats>,
    /// Clouds present.
    pub clouds: BTreeSet<Cloud>,
    /// Scopes with assessed resources, by cloud.
    pub scopes: BTreeSet<(Cloud, String)>,
}

/// A page of findings is selected by these.
#[derive(Debug, Clone, Default)]
pub struct FindingFilter {
    /// Only these checks (None: all).
    pub checks: Option<Vec<String>>,
    /// Only these states (None: all).
    pub states: Option<Vec<FindingState>>,
    /// Substring of the resource name or id.
    pub text: Option<String>,
    /// Only this cloud.
    pub cloud: Option<Cloud>,
    /// Only this scope.
    pub scope: Option<String>,
    /// Only these scopes (an assessment's; `Some(empty)` matches nothing).
    pub scopes: Option<Vec<String>>,
    /// Only this resource id.
    pub resource: Option<String>,
    /// Sort order.
    pub order: FindingOrder,
}

impl FindingFilter {
    /// Whether the filter reads the resource (its name, id, cloud or scope).
    pub(super) fn needs_resource(&self) -> bool {
        self.text.as_ref().is_some_and(|t| !t.is_empty())
            || self.cloud.is_some()
            || self.scope.is_some()
            || self.scopes.is_some()
            || self.resource.is_some()
    }

    /// The tables a query over the findings index needs for this filter: `resources` only
    /// when the filter reads it (the index alone answers about ten times faster).
    pub(super) fn index_from(&self) -> &'static str {
        if self.needs_resource() {
            " FROM findings f JOIN resources r ON r.run_id = f.run_id AND r.rid = f.rid"
        } else {
            " FROM findings f"
        }
    }
}

/// How a page of findings is sorted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FindingOrder {
    /// By check, then resource name (grouped by check).
    #[default]
    Check,
    /// By resource name.
    Resource,
    /// By scope, then check.
    Scope,
}

/// One finding as listed.
#[derive(Debug, Clone, Serialize)]
pub struct FindingRow {
    /// Check id.
    pub check: String,
    /// State.
    pub state: FindingState,
    /// The resource.
    pub resource: ResourceRef,
    /// Fields and values.
    pub evidence: Vec<Evidence>,
    /// Error or exemption text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Who produced it: posture, or the tool whose file it was read from.
    pub origin: crate::model::Origin,
}

pub(super) const RUN_COLS: &str = "id, started_at, finished_at, status, sources, standards, clouds, demo, resources_seen,
    resources_assessed, compliance_achieved, compliance_possible, compliance_pct, secure_current, secure_max, secure_pct";

pub(super) fn run_info(r: &Row) -> rusqlite::Result<RunInfo> {
    let sources: String = r.get(4)?;
    let standards: String = r.get(5)?;
    let clouds: String = r.get(6)?;
    Ok(RunInfo {
        id: r.get(0)?,
        started_at: r.get(1)?,
        finished_at: r.get(2)?,
        status: {
            let word: String = r.get(3)?;
            word.parse().map_err(|e: String| {
                rusqlite::Error::FromSqlConversionFailure(3, rusqlite::types::Type::Text, e.into())
            })?
        },
        sources: serde_json::from_str(&sources).unwrap_or(serde_json::Value::Null),
        standards: serde_json::from_str(&standards).unwrap_or_default(),
        clouds: serde_json::from_str(&clouds).unwrap_or_default(),
        demo: r.get(7)?,
        resources_seen: r.get(8)?,
        resources: r.get(9)?,
        compliance: crate::assess::ComplianceScore {
            achieved: r.get(10)?,
            possible: r.get(11)?,
            percentage: r.get(12)?,
        },
        secure: crate::assess::SecureScore { current: r.get(13)?, max: r.get(14)?, percentage: r.get(15)? },
    })
}

/// The document blob of resource `?2` (its key `?3`) in run `?1`. (Named indexes: with the id
/// compared after the key, SQLite would rather scan the run by its primary key.)
pub(super) const DOC_OF_RESOURCE: &str =
    "SELECT d.blob FROM resource_rows r INDEXED BY resources_id JOIN docs d ON d.run_id = r.run_id AND d.rid = r.rid
     WHERE r.run_id = ?1 AND r.idh = ?3
     AND (SELECT h.head FROM id_heads h WHERE h.id = r.head) || coalesce(r.tail, r.name) = ?2";

impl Store {
    /// What a run imported from other tools (synthetic checks, Defender's standards and
    /// secure scores), if anything.
    pub fn external(&self, run_id: i64) -> Result<Option<crate::assess::imported::External>> {
        let payload: Option<String> = self
            .conn
            .query_row("SELECT payload FROM external WHERE run_id = ?1", [run_id], |r| r.get(0))
            .optional()
            .ctx("reading what the run imported")?;
        Ok(payload.and_then(|p| serde_json::from_str(&p).ok()))
    }

    /// The latest published run: complete if there is one, else the latest partial one.
    pub fn latest_run(&self) -> Result<Option<RunInfo>> {
        let sql = format!(
            "SELECT {RUN_COLS} FROM runs WHERE status IN ('complete','partial')
             ORDER BY (status = 'complete') DESC, id DESC LIMIT 1"
        );
        self.conn.query_row(&sql, [], run_info).optional().ctx("reading the latest run")
    }

    /// The latest published run of any status (what the console shows as "last run").
    pub fn latest_finished(&self) -> Result<Option<RunInfo>> {
        let sql =
            format!("SELECT {RUN_COLS} FROM runs WHERE status IN ('complete','partial') ORDER BY id DESC LIMIT 1");
        self.conn.query_row(&sql, [], run_info).optional().ctx("reading the latest run")
    }

    /// Whether any published run assessed sources other than the demo estate.
    pub fn has_real_runs(&self) -> Result<bool> {
        self.conn
            .query_row(
                "SELECT EXISTS(SELECT 1 FROM runs WHERE demo = 0 AND status IN ('complete','partial'))",
                [],
                |r| r.get(0),
            )
            .ctx("reading the runs")
    }

    /// A published run by id.
    pub fn run(&self, id: i64) -> Result<RunInfo> {
        let sql = format!("SELECT {RUN_COLS} FROM runs WHERE id = ?1 AND status IN ('complete','partial')");
        self.conn
            .query_row(&sql, [id], run_info)
            .optional()
            .ctx("reading a run")?
            .ok_or_else(|| StoreError::NotFound(format!("no run {id} in the cache")))
    }

    /// `--run ID`, or the latest run; an empty cache is an error saying what to do.
    pub fn resolve_run(&self, id: Option<i64>) -> Result<RunInfo> {
        match id {
            Some(id) => self.run(id),
            None => self
                .latest_run()?
                .ok_or_else(|| StoreError::NotFound("the cache holds no run yet: run `posture assess` first".into())),
        }
    }

    /// The counts a rollup needs.
    pub fn snapshot(&self, run: &RunInfo) -> Result<RunSnapshot> {
        let mut totals: BTreeMap<String, CheckStats> = BTreeMap::new();
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT check_id, sum(healthy), sum(unhealthy), sum(not_applicable), sum(error), sum(exempt), sum(manual)
                 FROM check_stats WHERE run_id = ?1 GROUP BY check_id",
            )
            .ctx("reading check stats")?;
        let rows = st.query_map([run.id], super::breakdown::key_and_stats).ctx("reading check stats")?;
        for row in rows {
            let (k, v) = row.ctx("reading check stats")?;
            totals.insert(k, v);
        }
        let mut security = BTreeMap::new();
        let mut st = self
            .conn
            .prepare_cached("SELECT control, healthy, unhealthy FROM security_stats WHERE run_id = ?1")
            .ctx("reading security stats")?;
        let rows = st
            .query_map([run.id], |r| Ok((r.get::<_, String>(0)?, ScStats { healthy: r.get(1)?, unhealthy: r.get(2)? })))
            .ctx("reading security stats")?;
        for row in rows {
            let (k, v) = row.ctx("reading security stats")?;
            security.insert(k, v);
        }
        let mut scopes = BTreeSet::new();
        let mut st =
            self.conn.prepare_cached("SELECT cloud, scope FROM run_scopes WHERE run_id = ?1").ctx("reading scopes")?;
        let rows =
            st.query_map([run.id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))).ctx("reading scopes")?;
        for row in rows {
            let (cloud, scope) = row.ctx("reading scopes")?;
            if let Ok(c) = cloud.parse::<Cloud>() {
                scopes.insert((c, scope));
            }
        }
        Ok(RunSnapshot { clouds: run.clouds.iter().copied().collect(), info: run.clone(), totals, security, scopes })
    }

    /// The WHERE of a filter over findings `f` (with resources `r` when
    /// [`FindingFilter::needs_resource`]); `check` narrows to one stored check id instead of
    /// the filter's checks.
    pub(super) fn finding_where(run_id: i64, f: &FindingFilter, check: Option<i64>) -> (String, Vec<SqlValue>) {
        let mut sql = String::from(" WHERE f.run_id = ?");
        let mut args: Vec<SqlValue> = vec![run_id.into()];
        match (check, &f.checks) {
            (Some(id), _) => {
                sql.push_str(" AND f.check_id = ?");
                args.push(id.into());
            }
            (None, Some(checks)) => {
                let marks = vec!["?"; checks.len().max(1)].join(",");
                sql.push_str(&format!(" AND f.check_id IN (SELECT id FROM check_ids WHERE name IN ({marks}))"));
                if checks.is_empty() {
                    args.push(SqlValue::Null);
                }
                args.extend(checks.iter().map(|c| SqlValue::from(c.clone())));
            }
            (None, None) => {}
        }
        if let Some(states) = &f.states {
            sql.push_str(&format!(" AND f.state IN ({})", vec!["?"; states.len().max(1)].join(",")));
            if states.is_empty() {
                args.push(SqlValue::Null);
            }
            args.extend(states.iter().map(|s| SqlValue::from(state_code(*s))));
        }
        if let Some(t) = f.text.as_ref().filter(|t| !t.is_empty()) {
            sql.push_str(" AND (r.name LIKE ? ESCAPE '\\' OR r.id LIKE ? ESCAPE '\\')");
            let pat = format!("%{}%", t.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
            args.push(pat.clone().into());
            args.push(pat.into());
        }
        if let Some(c) = f.cloud {
            sql.push_str(" AND r.cloud = ?");
            args.push(c.as_str().to_string().into());
        }
        if let Some(s) = &f.scope {
            sql.push_str(" AND r.scope = ?");
            args.push(s.clone().into());
        }
        if let Some(scopes) = &f.scopes {
            // `IN (NULL)` for none: an assessment whose scopes the run lacks covers nothing.
            let marks = if scopes.is_empty() { "NULL".to_string() } else { vec!["?"; scopes.len()].join(", ") };
            sql.push_str(&format!(" AND r.scope IN ({marks})"));
            args.extend(scopes.iter().map(|s| SqlValue::from(s.clone())));
        }
        if let Some(id) = &f.resource {
            sql.push_str(" AND r.idh = ? AND r.id = ?");
            args.push(super::codes::id_key(id).into());
            args.push(id.clone().into());
        }
        (sql, args)
    }

    /// One page of findings at an offset (the order of [`Store::findings_page`]).
    pub fn findings(&self, run_id: i64, f: &FindingFilter, offset: u64, limit: u64) -> Result<Vec<FindingRow>> {
        self.findings_at(self.data_run(run_id)?, f, offset, limit)
    }

    /// Every matching finding in order (a listing of any size): in the check order a page at
    /// a time by key, each an index range; otherwise from one sorted query. `each` returns
    /// false to stop.
    pub fn for_each_finding(
        &self,
        run_id: i64,
        f: &FindingFilter,
        each: &mut dyn FnMut(FindingRow) -> bool,
    ) -> Result<()> {
        if f.order != FindingOrder::Check {
            return self.stream_sorted(self.data_run(run_id)?, f, each);
        }
        const PAGE: u64 = 2000;
        let mut at = PageAt::First;
        loop {
            let page = self.findings_page(run_id, f, &at, PAGE)?;
            let full = page.rows.len() as u64 == PAGE;
            let next = page.last_key().cloned();
            for row in page.rows {
                if !each(row) {
                    return Ok(());
                }
            }
            match next {
                Some(k) if full => at = PageAt::After(k),
                _ => return Ok(()),
            }
        }
    }

    /// How many findings match.
    pub fn count_findings(&self, run_id: i64, f: &FindingFilter) -> Result<u64> {
        self.count_where(self.data_run(run_id)?, f, None)
    }

    /// How many findings match, of one stored check when `check` says.
    pub(super) fn count_where(&self, run_id: i64, f: &FindingFilter, check: Option<i64>) -> Result<u64> {
        let (wh, args) = Store::finding_where(run_id, f, check);
        let sql = format!("SELECT count(*){}{wh}", f.index_from());
        self.conn.query_row(&sql, params_from_iter(args), |r| r.get(0)).ctx("counting findings")
    }

    /// The distinct scopes of a run's resources.
    pub fn scopes(&self, run_id: i64) -> Result<Vec<String>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT DISTINCT scope FROM run_scopes WHERE run_id = ?1 ORDER BY scope")
            .ctx("listing scopes")?;
        let rows = st.query_map([run_id], |r| r.get(0)).ctx("listing scopes")?;
        rows.collect::<rusqlite::Result<Vec<_>>>().ctx("listing scopes")
    }

    /// The normalized document of a resource with findings in a run.
    ///
    /// By [`DOC_OF_RESOURCE`].
    pub fn resource_doc(&self, run_id: i64, resource_id: &str) -> Result<Option<serde_json::Value>> {
        let blob: Option<i64> = self
            .conn
            .query_row(
                DOC_OF_RESOURCE,
                rusqlite::params![self.data_run(run_id)?, resource_id, super::codes::id_key(resource_id)],
                |r| r.get(0),
            )
            .optional()
            .ctx("reading a resource")?;
        blob.map(|b| {
            let bytes = self.blobs.get(&self.conn, b)?;
            serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt(format!("resource {resource_id}: {e}")))
        })
        .transpose()
    }
}
