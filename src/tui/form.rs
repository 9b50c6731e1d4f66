//! Forms for what people record: attest a control (`a`), exempt a finding or check (`e`),
//! give an action an owner (`o`), revoke a record with a reason (`R` in an audit view). Tab
//! moves between fields, ←/→ change a choice, Enter saves, Esc cancels (asking first when
//! something was typed). Every problem is shown at once, beside its field. A form open when the
//! terminal goes away is kept as a draft and offered again at the next start.

use crate::catalog::Catalog;
use crate::governance::{self as gov, AttestationInput, ExemptionInput, FieldError};
use crate::model::{Assignment, ResourceRef};
use crate::store::{RecordKind, Store};
use chrono::{DateTime, Duration, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

/// What a form records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FormKind {
    /// An attestation on a control.
    Attest {
        /// Standard id.
        standard: String,
        /// Control id.
        control: String,
    },
    /// An exemption of a check, for a resource when one is given.
    Exempt {
        /// Check id.
        check: String,
        /// The finding's resource.
        resource: Option<ResourceRef>,
    },
    /// An owner and due date.
    Assign {
        /// Action id.
        action: String,
    },
    /// A revocation of a record.
    Revoke {
        /// Which kind of record.
        record: RecordKind,
        /// Its id.
        id: i64,
        /// What it is, for the title (`cis-azure-2.0 1.1.1 passed by alice`).
        what: String,
    },
}

/// One field.
#[derive(Debug, Clone)]
pub struct Field {
    /// Name used in validation messages.
    pub name: &'static str,
    /// Label shown.
    pub label: &'static str,
    /// Text being edited.
    pub input: Input,
    /// For a choice field, its options (the input holds the chosen one).
    pub choices: Vec<String>,
    /// A hint shown beside an empty field.
    pub hint: &'static str,
}

/// An open form.
#[derive(Debug, Clone)]
pub struct Form {
    /// What it records.
    pub kind: FormKind,
    /// Title shown on the form: names the control, check, resource or record concerned.
    pub title: String,
    /// Its fields.
    pub fields: Vec<Field>,
    /// Focused field.
    pub focus: usize,
    /// Every problem of the last Enter, each with the index of its field.
    pub errors: Vec<(usize, String)>,
    /// Esc pressed on an edited form: waiting for y/n.
    pub confirm_cancel: bool,
    /// Something was typed.
    pub dirty: bool,
}

/// What a key did to a form.
#[derive(Debug, PartialEq, Eq)]
pub enum FormOutcome {
    /// Still open.
    Open,
    /// Closed without saving.
    Cancelled,
    /// Enter: the caller validates and saves.
    Submit,
}

fn text(name: &'static str, label: &'static str, value: &str, hint: &'static str) -> Field {
    Field { name, label, input: Input::new(value.to_string()), choices: Vec::new(), hint }
}

fn choice(name: &'static str, label: &'static str, options: &[&str], value: &str) -> Field {
    Field {
        name,
        label,
        input: Input::new(value.to_string()),
        choices: options.iter().map(|s| s.to_string()).collect(),
        hint: "←/→ to change",
    }
}

/// The exempt form's "Applies to" choices: the resource and its scope named, then everywhere.
fn applies_to(resource: Option<&ResourceRef>) -> Vec<String> {
    let mut v = Vec::new();
    if let Some(r) = resource {
        let name = if r.name.is_empty() { r.id.as_str() } else { r.name.as_str() };
        v.push(format!("this resource: {name}"));
        if !r.scope.is_empty() {
            v.push(format!("its scope: {}", r.scope));
        }
    }
    v.push("everywhere".to_string());
    v
}

impl Form {
    /// An attestation form for a control; the title names the control by id and title.
    pub fn attest(catalog: &Catalog, standard: &str, control: &str, attester: &str, now: DateTime<Utc>) -> Form {
        let std = catalog.standard(standard);
        let days = std.map(|s| s.attestation_validity_days).unwrap_or(365);
        let optional = std.is_some_and(|s| s.attestation_evidence_optional);
        let title = std.and_then(|s| s.controls.iter().find(|c| c.id == control)).map(|c| c.title.as_str());
        let expires = (now.date_naive() + Duration::days(days as i64)).to_string();
        let evidence_hint = if optional {
            "file paths (~/ ok) or http(s) URLs, comma-separated"
        } else {
            "required when passed: file paths (~/ ok) or http(s) URLs, comma-separated"
        };
        let mut form = Form::new(
            FormKind::Attest { standard: standard.into(), control: control.into() },
            vec![
                choice("status", "Status", &["passed", "failed", "not_applicable"], "passed"),
                text("scope", "Scope", "", "empty: everywhere; or a subscription / account / project"),
                text("note", "Note", "", "required: what was reviewed, or what is missing"),
                text("evidence", "Evidence", "", evidence_hint),
                text("expires", "Expires", &expires, "YYYY-MM-DD"),
                text("attester", "Attester", attester, ""),
            ],
        );
        form.title = match title {
            Some(t) => format!("Attest {standard} {control} · {t}"),
            None => format!("Attest {standard} {control}"),
        };
        form
    }

    /// An exemption form for a check (and a resource when given); the title and the choices
    /// name the check and the resource.
    pub fn exempt(catalog: &Catalog, check: &str, resource: Option<ResourceRef>, now: DateTime<Utc>) -> Form {
        let expires = (now.date_naive() + Duration::days(180)).to_string();
        let scopes = applies_to(resource.as_ref());
        let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
        let check_title = catalog.check(check).map(|c| c.title.clone());
        let on = resource.as_ref().map(|r| if r.name.is_empty() { r.id.clone() } else { r.name.clone() });
        let mut form = Form::new(
            FormKind::Exempt { check: check.into(), resource: resource.clone() },
            vec![
                choice("category", "Category", &["waiver", "mitigated"], "waiver"),
                choice("applies_to", "Applies to", &scopes, scopes[0]),
                text("reason", "Reason", "", "why this is acceptable"),
                text("expires", "Expires", &expires, "YYYY-MM-DD"),
            ],
        );
        let what = check_title.map_or_else(|| check.to_string(), |t| format!("{check} · {t}"));
        form.title = match on {
            Some(r) => format!("Exempt {what} on {r}"),
            None => format!("Exempt {what}"),
        };
        form
    }

    /// An owner form for an improvement action.
    pub fn assign(action: &str, now: DateTime<Utc>) -> Form {
        let due = (now.date_naive() + Duration::days(30)).to_string();
        let mut form = Form::new(
            FormKind::Assign { action: action.into() },
            vec![text("owner", "Owner", "", "who fixes it"), text("due", "Due", &due, "YYYY-MM-DD")],
        );
        form.title = format!("Owner of {action}");
        form
    }

    /// A revocation form: the reason is required; the record stays in the history.
    pub fn revoke(record: RecordKind, id: i64, what: &str) -> Form {
        let mut form = Form::new(
            FormKind::Revoke { record, id, what: what.into() },
            vec![text("reason", "Reason", "", "required: why it no longer counts")],
        );
        form.title = format!("Revoke {} {id}: {what}", record.as_str());
        form
    }

    fn new(kind: FormKind, fields: Vec<Field>) -> Form {
        Form { kind, title: String::new(), fields, focus: 0, errors: Vec::new(), confirm_cancel: false, dirty: false }
    }

    /// A field's current value.
    pub fn value(&self, name: &str) -> String {
        self.fields.iter().find(|f| f.name == name).map(|f| f.input.value().trim().to_string()).unwrap_or_default()
    }

    /// Handle a key.
    pub fn on_key(&mut self, key: KeyEvent) -> FormOutcome {
        if self.confirm_cancel {
            return match key.code {
                KeyCode::Char('y') | KeyCode::Char('Y') => FormOutcome::Cancelled,
                _ => {
                    self.confirm_cancel = false;
                    FormOutcome::Open
                }
            };
        }
        let n = self.fields.len();
        match key.code {
            KeyCode::Esc => {
                if self.dirty {
                    self.confirm_cancel = true;
                    return FormOutcome::Open;
                }
                return FormOutcome::Cancelled;
            }
            KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.confirm_cancel = self.dirty;
                return if self.dirty { FormOutcome::Open } else { FormOutcome::Cancelled };
            }
            KeyCode::Enter => return FormOutcome::Submit,
            KeyCode::Tab | KeyCode::Down => self.focus = (self.focus + 1) % n,
            KeyCode::BackTab | KeyCode::Up => self.focus = (self.focus + n - 1) % n,
            _ => {
                let field = &mut self.fields[self.focus];
                if field.choices.is_empty() {
                    if field.input.handle_event(&crossterm::event::Event::Key(key)).is_some() {
                        self.dirty = true;
                    }
                } else if matches!(key.code, KeyCode::Left | KeyCode::Right | KeyCode::Char(' ')) {
                    let i = field.choices.iter().position(|c| c == field.input.value()).unwrap_or(0);
                    let m = field.choices.len();
                    let j = if key.code == KeyCode::Left { (i + m - 1) % m } else { (i + 1) % m };
                    field.input = Input::new(field.choices[j].clone());
                    self.dirty = true;
                }
            }
        }
        FormOutcome::Open
    }

    fn field_index(&self, name: &str) -> usize {
        self.fields.iter().position(|f| f.name == name).unwrap_or(0)
    }

    fn fail(&mut self, e: FieldError) -> Result<String, String> {
        self.fail_all(vec![e])
    }

    /// Keep every problem beside its field, focus the first; nothing was saved.
    fn fail_all(&mut self, errors: Vec<FieldError>) -> Result<String, String> {
        self.errors = errors.iter().map(|e| (self.field_index(e.field), e.message.clone())).collect();
        self.focus = self.errors.first().map_or(self.focus, |e| e.0);
        Err(errors.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join("; "))
    }

    /// Validate and record; on success returns a summary; on failure the form keeps every
    /// problem beside its field and nothing is saved.
    pub fn save(
        &mut self,
        catalog: &Catalog,
        store: &mut Store,
        author: &str,
        max_evidence_bytes: u64,
        now: DateTime<Utc>,
    ) -> Result<String, String> {
        self.errors.clear();
        match self.kind.clone() {
            FormKind::Attest { standard, control } => {
                let input = AttestationInput {
                    standard: standard.clone(),
                    control: control.clone(),
                    status: self.value("status"),
                    scope: self.value("scope"),
                    note: self.value("note"),
                    evidence: self
                        .value("evidence")
                        .split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect(),
                    expires: self.value("expires"),
                    attester: self.value("attester"),
                };
                let (mut att, files) = match gov::check_attestation(catalog, &input, now) {
                    Ok(x) => x,
                    Err(e) => return self.fail_all(e),
                };
                let dir = gov::evidence_dir(store.path());
                for f in files {
                    match gov::store_evidence_with(&dir, &f, max_evidence_bytes) {
                        Ok(stored) => att.evidence.insert(0, stored.evidence),
                        Err(e) => {
                            return self
                                .fail(FieldError { field: "evidence", message: format!("{}: {e}", f.display()) });
                        }
                    }
                }
                match store.add_attestation(&att) {
                    Ok(id) => Ok(format!("attestation {id} saved: {standard} {control} {}", att.status.as_str())),
                    Err(e) => self.fail(FieldError { field: "status", message: format!("not saved: {e}") }),
                }
            }
            FormKind::Exempt { check, resource } => {
                let applies = self.value("applies_to");
                let choices = applies_to(resource.as_ref());
                let (res, scope) = match (&resource, choices.iter().position(|c| *c == applies)) {
                    (Some(r), Some(0)) => (r.id.clone(), String::new()),
                    (Some(r), Some(1)) if !r.scope.is_empty() => (String::new(), r.scope.clone()),
                    _ => (String::new(), String::new()),
                };
                let input = ExemptionInput {
                    check: check.clone(),
                    resource: res,
                    scope,
                    category: self.value("category"),
                    reason: self.value("reason"),
                    expires: self.value("expires"),
                    author: author.to_string(),
                };
                let e = match gov::check_exemption(catalog, &input, now) {
                    Ok(e) => e,
                    Err(e) => return self.fail_all(e),
                };
                match store.add_exemption(&e) {
                    Ok(id) => Ok(format!("exemption {id} saved: {check} ({applies}) until {}", e.expires)),
                    Err(err) => self.fail(FieldError { field: "reason", message: format!("not saved: {err}") }),
                }
            }
            FormKind::Assign { action } => {
                let owner = self.value("owner");
                let mut errors = Vec::new();
                if owner.is_empty() {
                    errors.push(FieldError { field: "owner", message: "say who owns it".into() });
                }
                let due = gov::parse_due(&self.value("due")).map_err(|e| errors.push(e)).ok();
                let (Some(due), true) = (due, errors.is_empty()) else {
                    return self.fail_all(errors);
                };
                let a = Assignment {
                    id: 0,
                    action: action.clone(),
                    owner: owner.clone(),
                    due,
                    author: author.to_string(),
                    created_at: now,
                };
                match store.add_assignment(&a) {
                    Ok(id) => Ok(format!("assignment {id} saved: {action} → {owner} due {due}")),
                    Err(e) => self.fail(FieldError { field: "owner", message: format!("not saved: {e}") }),
                }
            }
            FormKind::Revoke { record, id, what } => {
                let reason = self.value("reason");
                if reason.is_empty() {
                    return self.fail(FieldError { field: "reason", message: "say why it is revoked".into() });
                }
                match store.revoke(record, id, author, &reason, now) {
                    Ok(()) => Ok(format!("{} {id} revoked: {what}", record.as_str())),
                    Err(e) => self.fail(FieldError { field: "reason", message: format!("not revoked: {e}") }),
                }
            }
        }
    }
}

/// A form's values, kept on disk while the terminal is gone.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Draft {
    /// What it was for.
    pub kind: FormKind,
    /// Field name → value.
    pub values: Vec<(String, String)>,
    /// When it was kept.
    pub saved_at: DateTime<Utc>,
}

/// Where the draft lives: beside the cache.
pub fn draft_path(db: &Path) -> PathBuf {
    db.parent().map(|p| p.join("draft.json")).unwrap_or_else(|| PathBuf::from("draft.json"))
}

impl Form {
    /// Keep this form's values on disk.
    pub fn save_draft(&self, path: &Path, now: DateTime<Utc>) -> std::io::Result<()> {
        let d = Draft {
            kind: self.kind.clone(),
            values: self.fields.iter().map(|f| (f.name.to_string(), f.input.value().to_string())).collect(),
            saved_at: now,
        };
        let json = serde_json::to_string_pretty(&d).map_err(std::io::Error::other)?;
        // Owner-only, through a fresh temporary file: a planted symlink cannot redirect it.
        crate::fsutil::write_private(path, json.as_bytes())
    }

    /// Take a kept draft back (the file is removed; it is written again if the form is
    /// still open when the terminal goes away next time).
    pub fn take_draft(
        path: &Path,
        catalog: &Catalog,
        attester: &str,
        now: DateTime<Utc>,
    ) -> Option<(Form, DateTime<Utc>)> {
        let text = std::fs::read_to_string(path).ok()?;
        let _ = std::fs::remove_file(path);
        let d: Draft = serde_json::from_str(&text).ok()?;
        let mut form = match &d.kind {
            FormKind::Attest { standard, control } => Form::attest(catalog, standard, control, attester, now),
            FormKind::Exempt { check, resource } => Form::exempt(catalog, check, resource.clone(), now),
            FormKind::Assign { action } => Form::assign(action, now),
            FormKind::Revoke { record, id, what } => Form::revoke(*record, *id, what),
        };
        for (name, value) in d.values {
            if let Some(f) = form.fields.iter_mut().find(|f| f.name == name) {
                f.input = Input::new(value);
            }
        }
        form.dirty = true;
        Some((form, d.saved_at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_revocation_form_comes_back_from_its_draft_with_its_record_and_reason() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("draft.json");
        let now = Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap();
        let mut f = Form::revoke(RecordKind::Exemption, 7, "azure.storage.secure_transfer on everywhere (waiver)");
        f.fields[0].input = Input::new("the archive was deleted".into());
        f.save_draft(&path, now).unwrap();
        let catalog = Catalog::load(&[]);
        let (back, at) = Form::take_draft(&path, &catalog, "carol", now).expect("the draft");
        assert_eq!(at, now);
        assert_eq!(
            back.kind,
            FormKind::Revoke {
                record: RecordKind::Exemption,
                id: 7,
                what: "azure.storage.secure_transfer on everywhere (waiver)".into()
            }
        );
        assert_eq!(back.title, "Revoke exemption 7: azure.storage.secure_transfer on everywhere (waiver)");
        assert_eq!(back.value("reason"), "the archive was deleted");
    }
}
