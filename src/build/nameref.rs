//! Name-reference fix-ups run once at the root: after prefixes, suffixes, namespaces and hash
//! suffixes renamed objects, every reference to them (volumes, env, RoleBinding subjects, HPA
//! scaleTargetRef, Ingress backends, ...) follows.
//!
//! ```text
//!  for each referrer R (selected by its ORIGINAL gvk) and each back-reference field spec:
//!    value at path ─► candidates: resources R may see (same namespace, cluster-scoped, or a
//!                     namespace named by a RoleBinding ServiceAccount subject)
//!                 ─► sieve: a PREVIOUS name == value, a previous id of the referral GVK,
//!                     roleRef apiGroup/kind, same namespace (unless cluster-scoped / SA)
//!                 ─► 1 left: take its current name (and namespace, for `{name, namespace}`
//!                     maps); else narrow by prefix/suffix history; 0: leave; ambiguous: error
//! ```
//!
//! Candidates are looked up through an index of previous names, so the work is proportional to
//! the number of references, not references × resources.

use super::error::{Error, Result};
use super::fieldspec::{FieldSpec, Leaf};
use super::resource::{Gvk, ResId, Resource};
use super::transformers::TransformerConfig;
use crate::yaml::Value;
use std::collections::{HashMap, HashSet};

/// What the fix-up needs to know about a possible referral target (names do not change while
/// the fix-up runs, so this is taken once).
struct Cand {
    name: String,
    namespace: String,
    eff_ns: String,
    org_eff_ns: String,
    cluster_scoped: bool,
    kind: String,
    prev: Vec<ResId>,
    prefixes: Vec<String>,
    suffixes: Vec<String>,
}

/// Everything about the referrer the sieve consults.
struct Referrer {
    id: ResId,
    cluster_scoped: bool,
    eff_ns: String,
    /// Namespaces of a RoleBinding's ServiceAccount subjects.
    rb_namespaces: HashSet<String>,
    prefixes: Vec<String>,
    suffixes: Vec<String>,
    /// `roleRef` apiGroup + kind, when both are present.
    role_ref: Option<Gvk>,
}

struct Ctx<'a> {
    cands: &'a [Cand],
    by_prev_name: &'a HashMap<String, Vec<usize>>,
    referrer: &'a Referrer,
    referral: &'a Gvk,
    is_role_ref: bool,
}

/// kustomize's `Gvk.IsSelected`: empty selector fields match anything.
fn selected(gvk: &Gvk, sel: &Gvk) -> bool {
    (sel.group.is_empty() || sel.group == gvk.group)
        && (sel.version.is_empty() || sel.version == gvk.version)
        && (sel.kind.is_empty() || sel.kind == gvk.kind)
}

/// True when the two slices end the same way; an empty slice only matches an empty one.
fn same_ending(a: &[String], b: &[String]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if short.is_empty() {
        return long.is_empty();
    }
    long.ends_with(short)
}

impl Ctx<'_> {
    /// Could the referrer refer to candidate `j` at all (kustomize's
    /// `SubsetThatCouldBeReferencedByResource`)?
    fn visible(&self, j: usize) -> bool {
        let c = &self.cands[j];
        let r = self.referrer;
        r.cluster_scoped
            || c.cluster_scoped
            || c.eff_ns == r.eff_ns
            || r.rb_namespaces.contains(&c.namespace)
    }

    /// Picks the referral for `old` among `pool` (indexes into `cands`, in resource order).
    fn select(
        &self,
        old: &str,
        pool: &dyn Fn(usize) -> bool,
        identical: fn(&[&Cand]) -> bool,
    ) -> Result<Option<usize>, String> {
        let Some(named) = self.by_prev_name.get(old) else {
            return Ok(None);
        };
        let r = self.referrer;
        let mut picked: Vec<usize> = named
            .iter()
            .copied()
            .filter(|&j| self.visible(j) && pool(j))
            .filter(|&j| {
                self.cands[j]
                    .prev
                    .iter()
                    .any(|id| selected(&id.gvk, self.referral))
            })
            .filter(|&j| match (&r.role_ref, self.is_role_ref) {
                (Some(rr), true) => self.cands[j].prev.iter().any(|id| selected(&id.gvk, rr)),
                _ => true,
            })
            .filter(|&j| {
                let c = &self.cands[j];
                r.cluster_scoped
                    || c.cluster_scoped
                    || c.kind == "ServiceAccount"
                    || c.eff_ns == r.eff_ns
            })
            .collect();
        if picked.len() == 1 {
            return Ok(Some(picked[0]));
        }
        picked.retain(|&j| {
            let c = &self.cands[j];
            same_ending(&c.prefixes, &r.prefixes) && same_ending(&c.suffixes, &r.suffixes)
        });
        match picked.len() {
            0 => Ok(None),
            1 => Ok(Some(picked[0])),
            _ => {
                let list: Vec<&Cand> = picked.iter().map(|&j| &self.cands[j]).collect();
                if identical(&list) {
                    Ok(Some(picked[0]))
                } else {
                    let ids: Vec<String> = list
                        .iter()
                        .map(|c| {
                            let ns = if c.namespace.is_empty() {
                                "[noNs]"
                            } else {
                                &c.namespace
                            };
                            format!("{}/{}.{}", c.kind, c.name, ns)
                        })
                        .collect();
                    Err(format!(
                        "found multiple possible referrals: {}",
                        ids.join(", ")
                    ))
                }
            }
        }
    }

    fn set_scalar(&self, node: &mut Value) -> Result<(), String> {
        let Some(old) = node.scalar_text() else {
            return Ok(());
        };
        if let Some(j) = self.select(&old, &|_| true, all_names_same)? {
            let name = &self.cands[j].name;
            if *name != old {
                *node = Value::str(name.clone());
            }
        }
        Ok(())
    }

    fn set_mapping(&self, node: &mut Value) -> Result<(), String> {
        let Some(m) = node.as_map_mut() else {
            return Err("expect a mapping node".into());
        };
        let Some(old) = m.get("name").map(|n| n.scalar_text().unwrap_or_default()) else {
            return Err("path config error; no 'name' field in node".into());
        };
        let ns_filter = m
            .get("namespace")
            .map(|n| n.scalar_text().unwrap_or_default());
        let chosen = match ns_filter {
            None => self.select(&old, &|_| true, all_names_and_namespaces_same)?,
            Some(ns) => {
                // Candidates whose original namespace is `ns`; failing that, current namespace.
                let by_org = self
                    .cands
                    .iter()
                    .enumerate()
                    .any(|(j, c)| !c.cluster_scoped && c.org_eff_ns == ns && self.visible(j));
                if by_org {
                    self.select(
                        &old,
                        &|j| !self.cands[j].cluster_scoped && self.cands[j].org_eff_ns == ns,
                        all_names_and_namespaces_same,
                    )?
                } else {
                    self.select(
                        &old,
                        &|j| !self.cands[j].cluster_scoped && self.cands[j].eff_ns == ns,
                        all_names_and_namespaces_same,
                    )?
                }
            }
        };
        let Some(j) = chosen else {
            return Ok(());
        };
        let c = &self.cands[j];
        if c.name == old && c.namespace.is_empty() {
            return Ok(());
        }
        m.insert("name".into(), Value::str(c.name.clone()));
        if !c.namespace.is_empty() {
            m.insert("namespace".into(), Value::str(c.namespace.clone()));
        }
        Ok(())
    }

    fn set(&self, node: &mut Value) -> Result<(), String> {
        match node {
            Value::Null => Ok(()),
            Value::Map(_) => self.set_mapping(node),
            Value::Seq(items) => {
                for item in items.iter_mut() {
                    match item {
                        Value::Null => {}
                        Value::Map(_) => self.set_mapping(item)?,
                        Value::Seq(_) => {
                            return Err(
                                "element is expected to be either a string or a map of string"
                                    .into(),
                            )
                        }
                        _ => self.set_scalar(item)?,
                    }
                }
                Ok(())
            }
            _ => self.set_scalar(node),
        }
    }
}

fn all_names_same(cs: &[&Cand]) -> bool {
    cs.iter().all(|c| c.name == cs[0].name)
}

fn all_names_and_namespaces_same(cs: &[&Cand]) -> bool {
    cs.iter()
        .all(|c| c.name == cs[0].name && c.namespace == cs[0].namespace)
}

fn referrer_info(r: &Resource) -> Referrer {
    let id = r.id();
    let mut rb_namespaces = HashSet::new();
    if id.gvk.kind == "RoleBinding" {
        if let Some(Value::Seq(subjects)) = r.obj.get("subjects") {
            for s in subjects {
                if let (Some(Value::Str(ns)), Some(Value::Str(kind))) =
                    (s.get("namespace"), s.get("kind"))
                {
                    if kind == "ServiceAccount" {
                        rb_namespaces.insert(ns.clone());
                    }
                }
            }
        }
    }
    let role_ref = r.obj.get("roleRef").and_then(|rr| {
        let group = rr.get("apiGroup")?.scalar_text()?;
        let kind = rr.get("kind")?.scalar_text()?;
        Some(Gvk {
            group,
            version: String::new(),
            kind,
        })
    });
    Referrer {
        cluster_scoped: id.gvk.is_cluster_scoped(),
        eff_ns: id.effective_namespace().to_string(),
        id,
        rb_namespaces,
        prefixes: r.prefixes.clone(),
        suffixes: r.suffixes.clone(),
        role_ref,
    }
}

/// Rewrites every name reference to a renamed object, using the `nameReference` rules of `cfg`.
pub fn fix(res: &mut [Resource], cfg: &TransformerConfig) -> Result<()> {
    let cands: Vec<Cand> = res
        .iter()
        .map(|r| {
            let id = r.id();
            Cand {
                name: id.name.clone(),
                namespace: id.namespace.clone(),
                eff_ns: id.effective_namespace().to_string(),
                org_eff_ns: r.org_id().effective_namespace().to_string(),
                cluster_scoped: id.gvk.is_cluster_scoped(),
                kind: id.gvk.kind.clone(),
                prev: r.prev_ids.clone(),
                prefixes: r.prefixes.clone(),
                suffixes: r.suffixes.clone(),
            }
        })
        .collect();
    let mut by_prev_name: HashMap<String, Vec<usize>> = HashMap::new();
    for (j, c) in cands.iter().enumerate() {
        let mut seen: Vec<&str> = Vec::new();
        for id in &c.prev {
            if !seen.contains(&id.name.as_str()) {
                seen.push(&id.name);
                by_prev_name.entry(id.name.clone()).or_default().push(j);
            }
        }
    }
    if by_prev_name.is_empty() {
        // Nothing was ever renamed: no reference can need an update.
        return Ok(());
    }
    let rules: Vec<(Gvk, &FieldSpec)> = cfg
        .name_reference
        .iter()
        .flat_map(|b| {
            let g = b.gvk();
            b.referrers.iter().map(move |s| (g.clone(), s))
        })
        .collect();
    for r in res.iter_mut() {
        let org_gvk = r.org_id().gvk;
        let mut mine: Vec<&(Gvk, &FieldSpec)> = Vec::new();
        for rule in &rules {
            if rule.1.matches(&org_gvk) && rule.1.exists_in(&r.obj) {
                mine.push(rule);
            }
        }
        if mine.is_empty() {
            continue;
        }
        let referrer = referrer_info(r);
        for (referral, spec) in mine {
            let ctx = Ctx {
                cands: &cands,
                by_prev_name: &by_prev_name,
                referrer: &referrer,
                referral,
                is_role_ref: spec.path.ends_with("roleRef/name"),
            };
            if let Err(m) = spec.apply_unchecked(&mut r.obj, Leaf::Never, &mut |n| ctx.set(n)) {
                return Err(Error::invalid(
                    super::transformers::ctx(r),
                    format!(
                        "updating name reference in '{}' field of '{}': {m}",
                        spec.path,
                        referrer.id.kustomize_string()
                    ),
                ));
            }
        }
    }
    Ok(())
}
