//! Verification of an ssh server's host key against an OpenSSH `known_hosts` text (the
//! `known_hosts` key of a GitRepository's Secret): plain and hashed (`|1|salt|hash`) host
//! entries, `[host]:port` for non-standard ports, `*`/`?` wildcards, `!` negations and
//! `@revoked` markers. Unknown hosts and mismatching keys are rejected (no trust on first use).

use base64::Engine;
use hmac::{Hmac, Mac};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Checks that `key` (the raw public key blob the server presented) is a known key of
/// `host` (`port` when not 22). Returns a message for the caller's error otherwise.
pub fn verify(known_hosts: &str, host: &str, port: Option<u16>, key: &[u8]) -> Result<(), String> {
    let name = match port {
        Some(p) if p != 22 => format!("[{host}]:{p}"),
        _ => host.to_string(),
    };
    if known_hosts.trim().is_empty() {
        return Err(format!(
            "no known_hosts given, refusing the host key of {name}"
        ));
    }
    let mut host_listed = false;
    let mut accepted = false;
    for line in known_hosts.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.split_whitespace();
        let Some(mut patterns) = fields.next() else {
            continue;
        };
        let mut marker = None;
        if patterns.starts_with('@') {
            marker = Some(patterns);
            let Some(p) = fields.next() else { continue };
            patterns = p;
        }
        let (Some(_key_type), Some(key_b64)) = (fields.next(), fields.next()) else {
            continue;
        };
        if !host_matches(patterns, &name) {
            continue;
        }
        let Ok(blob) = B64.decode(key_b64) else {
            continue;
        };
        match marker {
            Some("@revoked") if blob == key => {
                return Err(format!("the host key of {name} is revoked"))
            }
            Some(_) => continue, // @cert-authority: certificates are not supported
            None => {
                host_listed = true;
                accepted |= blob == key;
            }
        }
    }
    if accepted {
        Ok(())
    } else if host_listed {
        Err(format!("the host key of {name} does not match known_hosts"))
    } else {
        Err(format!("{name} is not in known_hosts"))
    }
}

/// Whether a comma-separated host pattern list matches `name` (a negated match wins).
fn host_matches(patterns: &str, name: &str) -> bool {
    let mut matched = false;
    for p in patterns.split(',') {
        if let Some(neg) = p.strip_prefix('!') {
            if pattern_matches(neg, name) {
                return false;
            }
        } else if pattern_matches(p, name) {
            matched = true;
        }
    }
    matched
}

fn pattern_matches(pattern: &str, name: &str) -> bool {
    if let Some(hashed) = pattern.strip_prefix("|1|") {
        let Some((salt, hash)) = hashed.split_once('|') else {
            return false;
        };
        let (Ok(salt), Ok(hash)) = (B64.decode(salt), B64.decode(hash)) else {
            return false;
        };
        let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(&salt) else {
            return false;
        };
        mac.update(name.as_bytes());
        return mac.verify_slice(&hash).is_ok();
    }
    glob(
        pattern.to_ascii_lowercase().as_bytes(),
        name.to_ascii_lowercase().as_bytes(),
    )
}

/// `*` and `?` wildcard matching.
fn glob(p: &[u8], s: &[u8]) -> bool {
    let (mut pi, mut si, mut star, mut mark) = (0, 0, None, 0);
    while si < s.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// The explicit port of an `ssh://host:port/...` URL (scp-style URLs have none).
pub fn url_port(url: &str) -> Option<u16> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split('/').next()?;
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if hostport.starts_with('[') {
        return hostport.rsplit_once("]:")?.1.parse().ok();
    }
    hostport.rsplit_once(':')?.1.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real ed25519 public key (generated with ssh-keygen for these tests).
    const KEY: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIM1RQ/cjS80xp+pi/4RRbRJRm43OIba/s6WBh/0lqHwJ";
    /// Another real key.
    const OTHER: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIPWaGnVLngiT9xd+hzxMl3/QEx/QU6xpGCSEYZYStKi3";

    fn key() -> Vec<u8> {
        B64.decode(KEY).expect("valid base64")
    }

    #[test]
    fn accepts_a_listed_host_with_the_same_key() {
        let kh = format!("other.org ssh-ed25519 {OTHER}\nexample.com,10.0.0.1 ssh-ed25519 {KEY}\n");
        assert_eq!(verify(&kh, "example.com", None, &key()), Ok(()));
        assert_eq!(verify(&kh, "10.0.0.1", Some(22), &key()), Ok(()));
    }

    #[test]
    fn rejects_a_changed_key_and_unknown_hosts() {
        let kh = format!("example.com ssh-ed25519 {OTHER}\n");
        let e = verify(&kh, "example.com", None, &key()).expect_err("mismatch");
        assert!(e.contains("does not match"), "{e}");
        let e = verify(&kh, "evil.com", None, &key()).expect_err("unknown");
        assert!(e.contains("not in known_hosts"), "{e}");
        assert!(verify("", "example.com", None, &key()).is_err());
    }

    #[test]
    fn non_standard_ports_use_the_bracketed_form() {
        let kh = format!("[example.com]:2222 ssh-ed25519 {KEY}\n");
        assert_eq!(verify(&kh, "example.com", Some(2222), &key()), Ok(()));
        assert!(verify(&kh, "example.com", None, &key()).is_err());
    }

    #[test]
    fn hashed_entries_from_ssh_keygen_match() {
        // `ssh-keygen -H` output for `example.com` and `[example.com]:2222`.
        let kh = format!(
            "|1|2EzV6p/BbpFHqhaZMN5C43dIGAU=|Xx4KMxu2A/1GlffSbDC32TkV9+c= ssh-ed25519 {KEY}\n\
             |1|VTpZeFCgE06QdioFXVIWt3zIbGE=|nMKyRWcGdVey7aq0unV4Y1z2aK0= ssh-ed25519 {KEY}\n"
        );
        assert_eq!(verify(&kh, "example.com", None, &key()), Ok(()));
        assert_eq!(verify(&kh, "example.com", Some(2222), &key()), Ok(()));
        assert!(verify(&kh, "example.org", None, &key()).is_err());
    }

    #[test]
    fn wildcards_negations_and_revocations_apply() {
        let kh = format!("*.example.com,!bad.example.com ssh-ed25519 {KEY}\n");
        assert_eq!(verify(&kh, "git.example.com", None, &key()), Ok(()));
        assert!(verify(&kh, "bad.example.com", None, &key()).is_err());
        let revoked = format!("@revoked * ssh-ed25519 {KEY}\ngit.example.com ssh-ed25519 {KEY}\n");
        let e = verify(&revoked, "git.example.com", None, &key()).expect_err("revoked");
        assert!(e.contains("revoked"), "{e}");
    }

    #[test]
    fn url_port_reads_explicit_ports_only() {
        assert_eq!(url_port("ssh://git@example.com:2222/r.git"), Some(2222));
        assert_eq!(url_port("ssh://git@example.com/r.git"), None);
        assert_eq!(url_port("ssh://[::1]:2200/r.git"), Some(2200));
        assert_eq!(url_port("git@example.com:org/r.git"), None);
    }
}
