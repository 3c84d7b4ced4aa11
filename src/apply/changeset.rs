//! The result of an apply: one `Change` per object, in the order things happened (apply order,
//! then prune order). Logs, events, metrics, notifications and the CLI output are all derived
//! from it; nothing in the engine prints.
//!
//! ```text
//!  Deployment/shop/web configured
//!  Namespace/kube-system skipped (protected namespace)
//!  3 objects: 1 created, 1 configured, 0 drifted, 1 unchanged, 0 deleted, 0 skipped
//! ```

use super::object::ObjRef;
use std::fmt;

/// What happened to one object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// The object did not exist and was created.
    Created,
    /// The desired state changed and the object was updated (or recreated).
    Configured,
    /// Nothing to do: no write was sent.
    Unchanged,
    /// Someone else changed the object; driftless put it back.
    Drifted,
    /// Pruned: removed from the source and deleted from the cluster.
    Deleted,
    /// Deliberately left alone, with the reason.
    Skipped(String),
}

impl Action {
    /// The bare word (`created`, `skipped`, ...), as in the CLI output and metrics labels.
    pub fn word(&self) -> &'static str {
        match self {
            Action::Created => "created",
            Action::Configured => "configured",
            Action::Unchanged => "unchanged",
            Action::Drifted => "drifted",
            Action::Deleted => "deleted",
            Action::Skipped(_) => "skipped",
        }
    }

    /// True when the cluster was written to.
    pub fn is_write(&self) -> bool {
        matches!(
            self,
            Action::Created | Action::Configured | Action::Drifted | Action::Deleted
        )
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Skipped(reason) => write!(f, "skipped ({reason})"),
            other => f.write_str(other.word()),
        }
    }
}

/// One object and what happened to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub object: ObjRef,
    pub action: Action,
    /// Extra detail worth a reader's time, e.g. `recreated: spec.selector is immutable`.
    pub note: Option<String>,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.object, self.action)?;
        if let Some(note) = &self.note {
            write!(f, " ({note})")?;
        }
        Ok(())
    }
}

/// Every change of one apply, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChangeSet {
    pub changes: Vec<Change>,
}

/// Counts per action.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub created: usize,
    pub configured: usize,
    pub unchanged: usize,
    pub drifted: usize,
    pub deleted: usize,
    pub skipped: usize,
}

impl ChangeSet {
    /// Records a change.
    pub fn push(&mut self, object: ObjRef, action: Action) {
        self.changes.push(Change {
            object,
            action,
            note: None,
        });
    }

    /// Records a change with a note.
    pub fn push_note(&mut self, object: ObjRef, action: Action, note: impl Into<String>) {
        self.changes.push(Change {
            object,
            action,
            note: Some(note.into()),
        });
    }

    /// The action recorded for an object, if any (last one wins).
    pub fn action_of(&self, object: &ObjRef) -> Option<&Action> {
        self.changes
            .iter()
            .rev()
            .find(|c| &c.object == object)
            .map(|c| &c.action)
    }

    /// Looks an object up by its `Kind/ns/name` display form.
    pub fn find(&self, display: &str) -> Option<&Change> {
        self.changes
            .iter()
            .rev()
            .find(|c| c.object.to_string() == display)
    }

    /// Counts per action.
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for c in &self.changes {
            match c.action {
                Action::Created => s.created += 1,
                Action::Configured => s.configured += 1,
                Action::Unchanged => s.unchanged += 1,
                Action::Drifted => s.drifted += 1,
                Action::Deleted => s.deleted += 1,
                Action::Skipped(_) => s.skipped += 1,
            }
        }
        s
    }

    /// True when anything in the cluster was written.
    pub fn has_writes(&self) -> bool {
        self.changes.iter().any(|c| c.action.is_write())
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = self.created
            + self.configured
            + self.unchanged
            + self.drifted
            + self.deleted
            + self.skipped;
        write!(
            f,
            "{total} objects: {} created, {} configured, {} drifted, {} unchanged, {} deleted, {} skipped",
            self.created, self.configured, self.drifted, self.unchanged, self.deleted, self.skipped
        )
    }
}

/// One line per object, then the summary line.
impl fmt::Display for ChangeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.changes {
            writeln!(f, "{c}")?;
        }
        writeln!(f, "{}", self.summary())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(kind: &str, ns: &str, name: &str) -> ObjRef {
        ObjRef {
            kind: kind.into(),
            version: "v1".into(),
            namespace: ns.into(),
            name: name.into(),
            ..Default::default()
        }
    }

    #[test]
    fn prints_one_line_per_object_and_a_summary() {
        let mut cs = ChangeSet::default();
        cs.push(r("Namespace", "", "shop"), Action::Created);
        cs.push(r("ConfigMap", "shop", "cfg"), Action::Unchanged);
        cs.push(r("Deployment", "shop", "web"), Action::Drifted);
        cs.push(
            r("Namespace", "", "kube-system"),
            Action::Skipped("protected namespace".into()),
        );
        cs.push_note(
            r("Job", "shop", "migrate"),
            Action::Configured,
            "recreated: spec.template is immutable",
        );
        assert_eq!(
            cs.to_string(),
            "Namespace/shop created\n\
             ConfigMap/shop/cfg unchanged\n\
             Deployment/shop/web drifted\n\
             Namespace/kube-system skipped (protected namespace)\n\
             Job/shop/migrate configured (recreated: spec.template is immutable)\n\
             5 objects: 1 created, 1 configured, 1 drifted, 1 unchanged, 0 deleted, 1 skipped\n"
        );
    }

    #[test]
    fn unchanged_and_skipped_are_not_writes() {
        let mut cs = ChangeSet::default();
        cs.push(r("ConfigMap", "a", "b"), Action::Unchanged);
        cs.push(
            r("ConfigMap", "a", "c"),
            Action::Skipped("ssa: Ignore".into()),
        );
        assert!(!cs.has_writes());
        cs.push(r("ConfigMap", "a", "d"), Action::Deleted);
        assert!(cs.has_writes());
        assert_eq!(
            cs.find("ConfigMap/a/d").map(|c| &c.action),
            Some(&Action::Deleted)
        );
    }
}
