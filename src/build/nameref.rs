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
//!                     maps); else narrow by prefix/suffix history (an empty history matching
//!                     anything first, then exactly); 0: leave; ambiguous: error
//! ```
//!
//! Candidates are looked up through an index of previous names, so the work is proportional to
//! the number of references, not references × resources.

use super::error::{Error, Result};
use super::fieldspec::{FieldSpec, Leaf};
use super::resource::{Gvk, ResId, Resource};
use super::transformers::TransformerConfig;
use crate::yaml::Value;
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

/// What the fix-up needs to know about a possible referral target (names do not change while
/// the fix-up runs, so this is taken once).
struct Cand {
    id: ResId,
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
        // First let an empty prefix (suffix) history on either side match anything, then, if
        // that still leaves several, require the histories to end the same way.
        let affixes_match = |c: &Cand, allow_empty: bool| {
            let ok = |a: &[String], b: &[String]| {
                (allow_empty && (a.is_empty() || b.is_empty())) || same_ending(a, b)
            };
            ok(&c.prefixes, &r.prefixes) && ok(&c.suffixes, &r.suffixes)
        };
        picked.retain(|&j| affixes_match(&self.cands[j], true));
        if picked.len() > 1 {
            picked.retain(|&j| affixes_match(&self.cands[j], false));
        }
        match picked.len() {
            0 => Ok(None),
            1 => Ok(Some(picked[0])),
            _ => {
                let list: Vec<&Cand> = picked.iter().map(|&j| &self.cands[j]).collect();
                if identical(&list) {
                    Ok(Some(picked[0]))
                } else {
                    let ids: Vec<String> = list.iter().map(|c| c.id.kustomize_string()).collect();
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

fn referrer_info(r: &Resource) -> Result<Referrer> {
    let id = r.id();
    let mut rb_namespaces = HashSet::new();
    if id.gvk.kind == "RoleBinding" {
        if let Some(Value::Seq(subjects)) = r.obj.get("subjects") {
            for s in subjects {
                let (Some(ns), Some(kind)) = (s.get("namespace"), s.get("kind")) else {
                    continue;
                };
                if kind.as_str() != Some("ServiceAccount") {
                    continue;
                }
                match ns {
                    Value::Str(ns) => {
                        rb_namespaces.insert(ns.clone());
                    }
                    _ => {
                        return Err(Error::invalid(
                            super::transformers::ctx(r),
                            format!(
                                "Invalid Input: namespace is blank for resource \"{}\"",
                                id.kustomize_string()
                            ),
                        ))
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
    Ok(Referrer {
        cluster_scoped: id.gvk.is_cluster_scoped(),
        eff_ns: id.effective_namespace().to_string(),
        id,
        rb_namespaces,
        prefixes: r.prefixes.clone(),
        suffixes: r.suffixes.clone(),
        role_ref,
    })
}

/// Rewrites every name reference to a renamed object, using the `nameReference` rules of `cfg`.
pub fn fix(res: &mut [Resource], cfg: &TransformerConfig) -> Result<()> {
    let cands: Vec<Cand> = res
        .iter()
        .map(|r| {
            let id = r.id();
            Cand {
                id: id.clone(),
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
    // When nothing was ever renamed no reference can need an update, but referrers are still
    // checked (kustomize rejects a RoleBinding ServiceAccount subject with a blank namespace).
    let renamed = !by_prev_name.is_empty();
    let referrals: Vec<Gvk> = cfg.name_reference.iter().map(|b| b.gvk()).collect();
    let rules: Vec<(&Gvk, &FieldSpec)> = cfg
        .name_reference
        .iter()
        .zip(&referrals)
        .flat_map(|(b, g)| b.referrers.iter().map(move |s| (g, s)))
        .collect();
    for r in res.iter_mut() {
        let org_gvk = r.org_id().gvk;
        let mut mine: Vec<&(&Gvk, &FieldSpec)> = Vec::new();
        for rule in &rules {
            if rule.1.matches(&org_gvk) && rule.1.exists_in(&r.obj) {
                mine.push(rule);
            }
        }
        if mine.is_empty() {
            continue;
        }
        let referrer = referrer_info(r)?;
        if !renamed {
            continue;
        }
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
                        "updating name reference in '{path}' field of '{id}': considering field '{path}' of object {id}: {m}",
                        path = spec.path,
                        id = referrer.id.kustomize_string()
                    ),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! Each scenario replays kustomize's per-level transformer calls and compares with the
    //! output of `kubectl kustomize` on the same kustomizations.
    use super::*;
    use crate::build::transformers::tests::{check, pairs, res};
    use crate::build::transformers::{labels, namespace, prefix_suffix};
    use serde_json::json;

    #[test]
    fn ex7_namespace_prefix_labels_and_references_across_rbac_ingress_hpa_and_statefulset() {
        let cfg = TransformerConfig::builtin();
        let mut rs = vec![
            res(json!({"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"sa"}})),
            res(
                json!({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"r"}}),
            ),
            res(
                json!({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"rb"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"r"},"subjects":[{"kind":"ServiceAccount","name":"sa"},{"kind":"ServiceAccount","name":"default"},{"kind":"ServiceAccount","name":"external","namespace":"elsewhere"}]}),
            ),
            res(
                json!({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"crb"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"view"},"subjects":[{"kind":"ServiceAccount","name":"sa","namespace":"original"}]}),
            ),
            res(
                json!({"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"ing"},"spec":{"rules":[{"http":{"paths":[{"path":"/","pathType":"Prefix","backend":{"service":{"name":"svc","port":{"number":80}}}}]}}]}}),
            ),
            res(
                json!({"apiVersion":"v1","kind":"Service","metadata":{"name":"svc"},"spec":{"selector":{"app":"x"},"ports":[{"port":80}]}}),
            ),
            res(
                json!({"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler","metadata":{"name":"hpa"},"spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"dep"}}}),
            ),
            res(
                json!({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"dep"},"spec":{"selector":{"matchLabels":{"app":"x"}},"template":{"metadata":{"labels":{"app":"x"}},"spec":{"serviceAccountName":"sa","containers":[{"name":"c","image":"i"}]}}}}),
            ),
            res(
                json!({"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"sts"},"spec":{"serviceName":"svc","selector":{"matchLabels":{"app":"s"}},"template":{"metadata":{"labels":{"app":"s"}}},"volumeClaimTemplates":[{"metadata":{"name":"data"}}]}}),
            ),
        ];
        namespace(&mut rs, "team", &cfg).unwrap();
        prefix_suffix(&mut rs, "p-", "", &cfg).unwrap();
        labels(
            &mut rs,
            &pairs(&[("app.kubernetes.io/part-of", "shop")]),
            false,
            false,
            &[],
            &cfg,
        )
        .unwrap();
        labels(&mut rs, &pairs(&[("version", "1")]), false, true, &[], &cfg).unwrap();
        labels(&mut rs, &pairs(&[("sel", "yes")]), true, false, &[], &cfg).unwrap();
        fix(&mut rs, &cfg).unwrap();
        let l = json!({"app.kubernetes.io/part-of":"shop","sel":"yes","version":"1"});
        check(
            &rs,
            vec![
                json!({"apiVersion":"v1","kind":"ServiceAccount","metadata":{"labels":l,"name":"p-sa","namespace":"team"}}),
                json!({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"labels":l,"name":"p-r","namespace":"team"}}),
                json!({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"labels":l,"name":"p-rb","namespace":"team"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"p-r"},"subjects":[{"kind":"ServiceAccount","name":"p-sa","namespace":"team"},{"kind":"ServiceAccount","name":"default","namespace":"team"},{"kind":"ServiceAccount","name":"external","namespace":"elsewhere"}]}),
                json!({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"labels":l,"name":"p-crb"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"view"},"subjects":[{"kind":"ServiceAccount","name":"sa","namespace":"original"}]}),
                json!({"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"labels":l,"name":"p-ing","namespace":"team"},"spec":{"rules":[{"http":{"paths":[{"backend":{"service":{"name":"p-svc","port":{"number":80}}},"path":"/","pathType":"Prefix"}]}}]}}),
                json!({"apiVersion":"v1","kind":"Service","metadata":{"labels":l,"name":"p-svc","namespace":"team"},"spec":{"ports":[{"port":80}],"selector":{"app":"x","sel":"yes"}}}),
                json!({"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler","metadata":{"labels":l,"name":"p-hpa","namespace":"team"},"spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"p-dep"}}}),
                json!({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"labels":l,"name":"p-dep","namespace":"team"},"spec":{"selector":{"matchLabels":{"app":"x","sel":"yes"}},"template":{"metadata":{"labels":{"app":"x","sel":"yes","version":"1"}},"spec":{"containers":[{"image":"i","name":"c"}],"serviceAccountName":"p-sa"}}}}),
                json!({"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"labels":l,"name":"p-sts","namespace":"team"},"spec":{"selector":{"matchLabels":{"app":"s","sel":"yes"}},"serviceName":"p-svc","template":{"metadata":{"labels":{"app":"s","sel":"yes","version":"1"}}},"volumeClaimTemplates":[{"metadata":{"labels":{"sel":"yes","version":"1"},"name":"data"}}]}}),
            ],
        );
    }

    #[test]
    fn workload_volume_env_and_pull_secret_references_follow_renames() {
        let cfg = TransformerConfig::builtin();
        let mut rs = vec![
            res(json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"}})),
            res(json!({"apiVersion":"v1","kind":"Secret","metadata":{"name":"sec"}})),
            res(
                json!({"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"pvc"}}),
            ),
            res(
                json!({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"template":{"spec":{"imagePullSecrets":[{"name":"sec"}],"volumes":[{"name":"a","configMap":{"name":"cm"}},{"name":"b","secret":{"secretName":"sec"}},{"name":"c","persistentVolumeClaim":{"claimName":"pvc"}},{"name":"d","projected":{"sources":[{"configMap":{"name":"cm"}},{"secret":{"name":"sec"}}]}}],"containers":[{"name":"c","envFrom":[{"configMapRef":{"name":"cm"}},{"secretRef":{"name":"sec"}}],"env":[{"name":"A","valueFrom":{"configMapKeyRef":{"name":"cm","key":"k"}}},{"name":"B","valueFrom":{"secretKeyRef":{"name":"sec","key":"k"}}},{"name":"C","valueFrom":{"configMapKeyRef":{"name":"unknown","key":"k"}}}]}]}}}}),
            ),
            res(
                json!({"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"cj"},"spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers":[{"name":"c","envFrom":[{"configMapRef":{"name":"cm"}}]}]}}}}}}),
            ),
            res(
                json!({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"role"},"rules":[{"apiGroups":[""],"resources":["configmaps"],"resourceNames":["cm","other"]}]}),
            ),
        ];
        prefix_suffix(&mut rs, "", "-v2", &cfg).unwrap();
        fix(&mut rs, &cfg).unwrap();
        check(
            &rs,
            vec![
                json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm-v2"}}),
                json!({"apiVersion":"v1","kind":"Secret","metadata":{"name":"sec-v2"}}),
                json!({"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"pvc-v2"}}),
                json!({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d-v2"},"spec":{"template":{"spec":{"containers":[{"env":[{"name":"A","valueFrom":{"configMapKeyRef":{"key":"k","name":"cm-v2"}}},{"name":"B","valueFrom":{"secretKeyRef":{"key":"k","name":"sec-v2"}}},{"name":"C","valueFrom":{"configMapKeyRef":{"key":"k","name":"unknown"}}}],"envFrom":[{"configMapRef":{"name":"cm-v2"}},{"secretRef":{"name":"sec-v2"}}],"name":"c"}],"imagePullSecrets":[{"name":"sec-v2"}],"volumes":[{"configMap":{"name":"cm-v2"},"name":"a"},{"name":"b","secret":{"secretName":"sec-v2"}},{"name":"c","persistentVolumeClaim":{"claimName":"pvc-v2"}},{"name":"d","projected":{"sources":[{"configMap":{"name":"cm-v2"}},{"secret":{"name":"sec-v2"}}]}}]}}}}),
                json!({"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"cj-v2"},"spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers":[{"envFrom":[{"configMapRef":{"name":"cm-v2"}}],"name":"c"}]}}}}}}),
                json!({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"role-v2"},"rules":[{"apiGroups":[""],"resourceNames":["cm-v2","other"],"resources":["configmaps"]}]}),
            ],
        );
    }

    #[test]
    fn role_ref_kind_picks_between_a_role_and_a_cluster_role_of_the_same_name() {
        let cfg = TransformerConfig::builtin();
        let mut role = vec![res(
            json!({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"r"}}),
        )];
        prefix_suffix(&mut role, "x-", "", &cfg).unwrap();
        let mut cr = vec![res(
            json!({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"r"}}),
        )];
        prefix_suffix(&mut cr, "y-", "", &cfg).unwrap();
        let mut rs: Vec<Resource> = role.into_iter().chain(cr).collect();
        rs.push(res(json!({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"rb"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"r"}})));
        rs.push(res(json!({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"rb2"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"r"}})));
        fix(&mut rs, &cfg).unwrap();
        assert_eq!(rs[2].obj.str_at(&["roleRef", "name"]), Some("y-r"));
        assert_eq!(rs[3].obj.str_at(&["roleRef", "name"]), Some("x-r"));
    }

    #[test]
    fn references_only_see_candidates_in_the_referrers_namespace() {
        let cfg = TransformerConfig::builtin();
        let mut all = Vec::new();
        for ns in ["a", "b"] {
            let mut base = vec![res(
                json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"}}),
            )];
            namespace(&mut base, ns, &cfg).unwrap();
            prefix_suffix(&mut base, &format!("{ns}-"), "", &cfg).unwrap();
            all.extend(base);
        }
        all.push(res(json!({"apiVersion":"v1","kind":"Pod","metadata":{"name":"pod","namespace":"a"},"spec":{"volumes":[{"name":"v","configMap":{"name":"cm"}}]}})));
        all.push(res(json!({"apiVersion":"v1","kind":"Pod","metadata":{"name":"pod"},"spec":{"volumes":[{"name":"v","configMap":{"name":"cm"}}]}})));
        fix(&mut all, &cfg).unwrap();
        // kubectl: the Pod in `a` gets a-cm; the one in `default` sees no candidate.
        assert_eq!(
            all[2].obj.get_path(&["spec", "volumes"]),
            Some(&Value::from(
                json!([{"name":"v","configMap":{"name":"a-cm"}}])
            ))
        );
        assert_eq!(
            all[3].obj.get_path(&["spec", "volumes"]),
            Some(&Value::from(
                json!([{"name":"v","configMap":{"name":"cm"}}])
            ))
        );
    }

    #[test]
    fn ambiguous_referrals_with_the_same_prefix_history_are_an_error() {
        let cfg = TransformerConfig::builtin();
        let mut a = vec![res(
            json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"}}),
        )];
        namespace(&mut a, "a", &cfg).unwrap();
        prefix_suffix(&mut a, "p-", "", &cfg).unwrap();
        let mut b = vec![res(
            json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm","namespace":"b"}}),
        )];
        prefix_suffix(&mut b, "p-", "", &cfg).unwrap();
        let mut c = vec![res(
            json!({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"cr"},"rules":[{"apiGroups":[""],"resources":["configmaps"],"resourceNames":["cm"]}]}),
        )];
        prefix_suffix(&mut c, "p-", "", &cfg).unwrap();
        let mut rs: Vec<Resource> = a.into_iter().chain(b).chain(c).collect();
        // The root's hash suffix on the generated ConfigMap.
        rs[1].store_prev_id();
        rs[1].set_name("p-cm-4h2mbtbbt6");
        let err = fix(&mut rs, &cfg).unwrap_err().to_string();
        assert!(
            err.contains("updating name reference in 'rules/resourceNames' field of 'ClusterRole.v1.rbac.authorization.k8s.io/p-cr.[noNs]'"),
            "{err}"
        );
        assert!(
            err.contains("found multiple possible referrals: ConfigMap.v1.[noGrp]/p-cm.a, ConfigMap.v1.[noGrp]/p-cm-4h2mbtbbt6.b"),
            "{err}"
        );
    }

    #[test]
    fn prefix_history_disambiguates_and_a_referrer_without_it_is_left_alone() {
        let cfg = TransformerConfig::builtin();
        let mut rs = Vec::new();
        for p in ["a-", "b-"] {
            let mut base = vec![
                res(json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"}})),
                res(
                    json!({"apiVersion":"v1","kind":"Pod","metadata":{"name":"pod"},"spec":{"volumes":[{"name":"v","configMap":{"name":"cm"}}]}}),
                ),
            ];
            prefix_suffix(&mut base, p, "", &cfg).unwrap();
            rs.extend(base);
        }
        rs.push(res(json!({"apiVersion":"v1","kind":"Pod","metadata":{"name":"top"},"spec":{"volumes":[{"name":"v","configMap":{"name":"cm"}}]}})));
        fix(&mut rs, &cfg).unwrap();
        let vol = |r: &Resource| {
            let vols = r.obj.get_path(&["spec", "volumes"]).and_then(Value::as_seq);
            vols.and_then(|s| s[0].str_at(&["configMap", "name"]))
                .map(str::to_string)
        };
        assert_eq!(vol(&rs[1]).as_deref(), Some("a-cm"));
        assert_eq!(vol(&rs[3]).as_deref(), Some("b-cm"));
        assert_eq!(vol(&rs[4]).as_deref(), Some("cm"));
    }

    #[test]
    fn map_references_get_the_referrals_namespace_and_explicit_namespaces_filter_candidates() {
        let cfg = TransformerConfig::builtin();
        let mut rs = vec![
            res(json!({"apiVersion":"v1","kind":"Service","metadata":{"name":"svc"}})),
            res(json!({"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"sa"}})),
            res(
                json!({"apiVersion":"admissionregistration.k8s.io/v1","kind":"ValidatingWebhookConfiguration","metadata":{"name":"vwc"},"webhooks":[{"name":"a.example.com","clientConfig":{"service":{"name":"svc","namespace":"default","path":"/a"}}},{"name":"b.example.com","clientConfig":{"service":{"name":"svc"}}},{"name":"c.example.com","clientConfig":{"service":{"name":"svc","namespace":"nowhere"}}}]}),
            ),
            res(
                json!({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"crb"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"view"},"subjects":[{"kind":"ServiceAccount","name":"sa","namespace":"default"},{"kind":"ServiceAccount","name":"sa"}]}),
            ),
            res(
                json!({"apiVersion":"admissionregistration.k8s.io/v1","kind":"ValidatingAdmissionPolicy","metadata":{"name":"pol"}}),
            ),
            res(
                json!({"apiVersion":"admissionregistration.k8s.io/v1","kind":"ValidatingAdmissionPolicyBinding","metadata":{"name":"polb"},"spec":{"policyName":"pol"}}),
            ),
        ];
        namespace(&mut rs, "sys", &cfg).unwrap();
        prefix_suffix(&mut rs, "p-", "", &cfg).unwrap();
        fix(&mut rs, &cfg).unwrap();
        check(
            &rs,
            vec![
                json!({"apiVersion":"v1","kind":"Service","metadata":{"name":"p-svc","namespace":"sys"}}),
                json!({"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"p-sa","namespace":"sys"}}),
                json!({"apiVersion":"admissionregistration.k8s.io/v1","kind":"ValidatingWebhookConfiguration","metadata":{"name":"p-vwc"},"webhooks":[{"clientConfig":{"service":{"name":"p-svc","namespace":"sys","path":"/a"}},"name":"a.example.com"},{"clientConfig":{"service":{"name":"p-svc","namespace":"sys"}},"name":"b.example.com"},{"clientConfig":{"service":{"name":"svc","namespace":"nowhere"}},"name":"c.example.com"}]}),
                json!({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"p-crb"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"view"},"subjects":[{"kind":"ServiceAccount","name":"p-sa","namespace":"sys"},{"kind":"ServiceAccount","name":"p-sa","namespace":"sys"}]}),
                json!({"apiVersion":"admissionregistration.k8s.io/v1","kind":"ValidatingAdmissionPolicy","metadata":{"name":"p-pol","namespace":"sys"}}),
                json!({"apiVersion":"admissionregistration.k8s.io/v1","kind":"ValidatingAdmissionPolicyBinding","metadata":{"name":"p-polb","namespace":"sys"},"spec":{"policyName":"p-pol"}}),
            ],
        );
    }

    #[test]
    fn objects_never_renamed_are_not_referral_targets() {
        let cfg = TransformerConfig::builtin();
        // A ConfigMap that only *now* carries the name `cm` (no history) is not a candidate.
        let mut rs = vec![
            res(json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"}})),
            res(
                json!({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"volumes":[{"name":"v","configMap":{"name":"cm"}}]}}),
            ),
        ];
        let before = rs[1].obj.clone();
        fix(&mut rs, &cfg).unwrap();
        assert_eq!(rs[1].obj, before);
    }

    #[test]
    fn thousands_of_references_resolve_quickly() {
        let cfg = TransformerConfig::builtin();
        let mut rs = Vec::new();
        for i in 0..1500 {
            rs.push(res(
                json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":format!("cm{i}")}}),
            ));
            rs.push(res(json!({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":format!("d{i}")},"spec":{"template":{"spec":{"serviceAccountName":"sa","volumes":[{"name":"v","configMap":{"name":format!("cm{i}")}}],"containers":[{"name":"c","envFrom":[{"configMapRef":{"name":format!("cm{i}")}}]}]}}}})));
        }
        prefix_suffix(&mut rs, "p-", "", &cfg).unwrap();
        let t = std::time::Instant::now();
        fix(&mut rs, &cfg).unwrap();
        let took = t.elapsed();
        assert_eq!(
            rs[2999]
                .obj
                .get_path(&["spec", "template", "spec", "volumes"])
                .and_then(|v| v.as_seq())
                .and_then(|s| s[0].str_at(&["configMap", "name"])),
            Some("p-cm1499")
        );
        // Generous bound for an unoptimised test build; a quadratic scan takes far longer.
        assert!(took.as_secs_f64() < 5.0, "took {took:?}");
    }

    #[test]
    fn role_binding_service_account_subject_with_blank_namespace_is_an_error() {
        let cfg = TransformerConfig::builtin();
        let mut rs = vec![
            res(json!({"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"test"}})),
            res(
                json!({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"test"},"subjects":[{"kind":"ServiceAccount","name":"test","namespace":null}],"roleRef":{"kind":"Role","name":"test","apiGroup":"rbac.authorization.k8s.io"}}),
            ),
        ];
        let err = fix(&mut rs, &cfg).unwrap_err().to_string();
        assert!(
            err.ends_with("Invalid Input: namespace is blank for resource \"RoleBinding.v1.rbac.authorization.k8s.io/test.[noNs]\""),
            "{err}"
        );
    }

    #[test]
    fn an_empty_affix_history_matches_anything_before_exact_histories_are_required() {
        // Oracle scenarios: overlay `nameSuffix: -r` over base x (namePrefix x-, Pod -> cm) and
        // either base y (namePrefix y-, cm) or x's own cm, plus a root cm.
        let cfg = TransformerConfig::builtin();
        let cm = || res(json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"}}));
        let pod = || {
            res(
                json!({"apiVersion":"v1","kind":"Pod","metadata":{"name":"pod"},"spec":{"volumes":[{"name":"v","configMap":{"name":"cm"}}]}}),
            )
        };
        let vol = |r: &Resource| {
            r.obj
                .get_path(&["spec", "volumes"])
                .and_then(Value::as_seq)
                .and_then(|s| s[0].str_at(&["configMap", "name"]))
                .map(str::to_string)
        };

        let mut x = vec![pod()];
        prefix_suffix(&mut x, "x-", "", &cfg).unwrap();
        let mut y = vec![cm()];
        prefix_suffix(&mut y, "y-", "", &cfg).unwrap();
        let mut rs: Vec<Resource> = x.into_iter().chain(y).chain([cm()]).collect();
        prefix_suffix(&mut rs, "", "-r", &cfg).unwrap();
        fix(&mut rs, &cfg).unwrap();
        assert_eq!(vol(&rs[0]).as_deref(), Some("cm-r"));

        let mut x = vec![pod(), cm()];
        prefix_suffix(&mut x, "x-", "", &cfg).unwrap();
        let mut rs: Vec<Resource> = x.into_iter().chain([cm()]).collect();
        prefix_suffix(&mut rs, "", "-r", &cfg).unwrap();
        fix(&mut rs, &cfg).unwrap();
        assert_eq!(vol(&rs[0]).as_deref(), Some("x-cm-r"));
    }
}
