//! Per-pane sort orders and text filters, typed: what each pane can be sorted by is an enum,
//! and each pane's filter is a named field rather than a slot of an array.

use super::app::Pane;
use crate::store::FindingOrder;

/// A pane's sort orders, cycled by `s`.
pub trait SortOrder: Copy + PartialEq + 'static {
    /// Every order, in the order `s` cycles through them (the first is the default).
    const ALL: &'static [Self];
    /// As shown ("sorted by …").
    fn label(self) -> &'static str;
    /// The order after this one.
    fn next(self) -> Self {
        let i = Self::ALL.iter().position(|o| *o == self).unwrap_or(0);
        Self::ALL[(i + 1) % Self::ALL.len()]
    }
}

/// How the standards are sorted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StandardSort {
    /// By name, then version.
    #[default]
    Name,
    /// Least compliant first.
    Compliance,
    /// Most failed controls first.
    Failed,
}

impl SortOrder for StandardSort {
    const ALL: &'static [Self] = &[StandardSort::Name, StandardSort::Compliance, StandardSort::Failed];
    fn label(self) -> &'static str {
        match self {
            StandardSort::Name => "name",
            StandardSort::Compliance => "compliance",
            StandardSort::Failed => "failed",
        }
    }
}

/// How a standard's controls are sorted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ControlSort {
    /// As the standard lists them, under section headings.
    #[default]
    Id,
    /// Worst state first.
    State,
    /// Most unhealthy resources first.
    Unhealthy,
}

impl SortOrder for ControlSort {
    const ALL: &'static [Self] = &[ControlSort::Id, ControlSort::State, ControlSort::Unhealthy];
    fn label(self) -> &'static str {
        match self {
            ControlSort::Id => "id",
            ControlSort::State => "state",
            ControlSort::Unhealthy => "unhealthy",
        }
    }
}

impl SortOrder for FindingOrder {
    const ALL: &'static [Self] = &[FindingOrder::Check, FindingOrder::Resource, FindingOrder::Scope];
    fn label(self) -> &'static str {
        match self {
            FindingOrder::Check => "check",
            FindingOrder::Resource => "resource",
            FindingOrder::Scope => "scope",
        }
    }
}

/// How the improvement actions are sorted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ActionSort {
    /// Most points at stake first (the rollup's order).
    #[default]
    Stake,
    /// Worst state first.
    State,
    /// By owner, unowned last.
    Owner,
}

impl SortOrder for ActionSort {
    const ALL: &'static [Self] = &[ActionSort::Stake, ActionSort::State, ActionSort::Owner];
    fn label(self) -> &'static str {
        match self {
            ActionSort::Stake => "points at stake",
            ActionSort::State => "state",
            ActionSort::Owner => "owner",
        }
    }
}

/// The sort order of each pane.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sorts {
    /// Standards pane.
    pub standards: StandardSort,
    /// Controls pane.
    pub controls: ControlSort,
    /// Failing resources pane (the store sorts them).
    pub findings: FindingOrder,
    /// Improvement actions pane.
    pub actions: ActionSort,
}

impl Sorts {
    /// Move `pane` to its next order; returns its label.
    pub fn cycle(&mut self, pane: Pane) -> &'static str {
        fn step<T: SortOrder>(o: &mut T) -> &'static str {
            *o = o.next();
            o.label()
        }
        match pane {
            Pane::Standards => step(&mut self.standards),
            Pane::Controls => step(&mut self.controls),
            Pane::Findings => step(&mut self.findings),
            Pane::Actions => step(&mut self.actions),
        }
    }
}

/// The text filter (`/`) of each pane.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    /// Standards pane.
    pub standards: String,
    /// Controls pane.
    pub controls: String,
    /// Failing resources pane.
    pub findings: String,
    /// Improvement actions pane.
    pub actions: String,
}

impl Filters {
    /// The filter of `pane`.
    pub fn of(&self, pane: Pane) -> &str {
        match pane {
            Pane::Standards => &self.standards,
            Pane::Controls => &self.controls,
            Pane::Findings => &self.findings,
            Pane::Actions => &self.actions,
        }
    }

    /// The filter of `pane`, to change.
    pub fn of_mut(&mut self, pane: Pane) -> &mut String {
        match pane {
            Pane::Standards => &mut self.standards,
            Pane::Controls => &mut self.controls,
            Pane::Findings => &mut self.findings,
            Pane::Actions => &mut self.actions,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_pane_cycles_through_its_own_orders_and_back() {
        let mut s = Sorts::default();
        assert_eq!(s.cycle(Pane::Controls), "state");
        assert_eq!(s.cycle(Pane::Controls), "unhealthy");
        assert_eq!(s.cycle(Pane::Findings), "resource");
        assert_eq!(s.cycle(Pane::Controls), "id");
        assert_eq!(s, Sorts { findings: FindingOrder::Resource, ..Sorts::default() });
        let mut f = Filters::default();
        f.of_mut(Pane::Actions).push_str("owner");
        assert_eq!((f.of(Pane::Actions), f.of(Pane::Standards)), ("owner", ""));
    }
}
