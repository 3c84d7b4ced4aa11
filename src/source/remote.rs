//! Talking to the remote with git2: one connection per fetch that first lists the advertised
//! references (the ls-remote) and then, only when needed, downloads the objects of the
//! wanted reference. Credentials (basic auth, bearer token, ssh key) and ssh host-key
//! verification against `known_hosts` are wired in through git2's callbacks; a per-fetch
//! deadline aborts slow transfers. Error messages never contain secrets.

use super::known_hosts;
use super::resolve::RemoteRef;
use super::{Error, GitAuth, GitSource, Result};
use git2::{
    AutotagOption, CertificateCheckStatus, Cred, FetchOptions, ProxyOptions, RemoteCallbacks,
};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Instant;

/// An open session with one remote (an anonymous remote inside the cache repository).
pub struct Session<'r> {
    remote: git2::Remote<'r>,
    src: &'r GitSource,
    /// The URL without credentials, for messages.
    url: String,
    deadline: Option<Instant>,
    /// Why a callback failed the operation (libgit2 replaces callback messages with generic
    /// ones, e.g. "invalid or unknown remote ssh hostkey").
    reason: Reason,
}

type Reason = Rc<RefCell<Option<String>>>;

impl<'r> Session<'r> {
    pub fn new(
        repo: &'r git2::Repository,
        src: &'r GitSource,
        deadline: Option<Instant>,
    ) -> Result<Session<'r>> {
        let url = redact_url(&src.url);
        if src.url.trim().is_empty() {
            return Err(Error::Fetch {
                url,
                message: "the URL is empty".into(),
            });
        }
        let remote = repo
            .remote_anonymous(&src.url)
            .map_err(|e| fetch_error(src, &url, &e))?;
        Ok(Session {
            remote,
            src,
            url,
            deadline,
            reason: Reason::default(),
        })
    }

    /// Lists the remote's references (one request: the ref advertisement, no pack).
    pub fn ls_remote(&mut self) -> Result<Vec<RemoteRef>> {
        let mut opts = fetch_options(self.src, self.deadline, &self.reason);
        // An empty refspec list on an anonymous remote negotiates nothing: this connects (with
        // the custom headers and credentials of `opts`) and reads the advertisement only.
        let none: [&str; 0] = [];
        self.remote
            .download(&none, Some(&mut opts))
            .map_err(|e| self.error(&e))?;
        let heads = self.remote.list().map_err(|e| self.error(&e))?;
        Ok(heads
            .iter()
            .map(|h| RemoteRef {
                name: h.name().to_string(),
                oid: h.oid(),
                peeled: None,
            })
            .collect())
    }

    /// Downloads the objects the refspecs need (reusing the listing's connection).
    pub fn download(&mut self, refspecs: &[String]) -> Result<()> {
        let mut opts = fetch_options(self.src, self.deadline, &self.reason);
        self.remote
            .download(refspecs, Some(&mut opts))
            .map_err(|e| self.error(&e))?;
        Ok(())
    }
}

impl Session<'_> {
    /// The error of a failed operation, with the reason a callback recorded, if any.
    fn error(&self, e: &git2::Error) -> Error {
        match self.reason.borrow_mut().take() {
            Some(reason) => Error::Fetch {
                url: self.url.clone(),
                message: scrub(self.src, &reason),
            },
            None => fetch_error(self.src, &self.url, e),
        }
    }
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        // Best effort: an error here has nothing left to affect.
        let _ = self.remote.disconnect();
    }
}

/// Fetch options carrying the credentials, host-key check, deadline and bearer header.
fn fetch_options<'a>(
    src: &'a GitSource,
    deadline: Option<Instant>,
    reason: &Reason,
) -> FetchOptions<'a> {
    let mut cbs = RemoteCallbacks::new();
    let auth = src.auth.as_ref();
    let mut attempts = 0u32;
    let why = reason.clone();
    cbs.credentials(move |_url, username_from_url, allowed| {
        attempts += 1;
        if attempts > 1 {
            // libgit2 asks again after a rejection; answering again would loop forever.
            let m = "authentication failed: the remote rejected the credentials";
            *why.borrow_mut() = Some(m.to_string());
            return Err(git2::Error::from_str(m));
        }
        match auth {
            Some(GitAuth::Basic { username, password })
                if allowed.contains(git2::CredentialType::USER_PASS_PLAINTEXT) =>
            {
                Cred::userpass_plaintext(username, password)
            }
            Some(GitAuth::Ssh {
                identity,
                passphrase,
                ..
            }) if allowed.contains(git2::CredentialType::SSH_KEY) => Cred::ssh_key_from_memory(
                username_from_url.unwrap_or("git"),
                None,
                identity,
                passphrase.as_deref(),
            ),
            Some(GitAuth::Ssh { .. }) if allowed.contains(git2::CredentialType::USERNAME) => {
                Cred::username(username_from_url.unwrap_or("git"))
            }
            _ => Err(git2::Error::from_str(
                "authentication required but no usable credentials are configured",
            )),
        }
    });
    let url = src.url.clone();
    let why = reason.clone();
    cbs.certificate_check(move |cert, host| {
        if let Some(hostkey) = cert.as_hostkey() {
            let Some(key) = hostkey.hostkey() else {
                return Err(git2::Error::from_str("ssh: the server sent no host key"));
            };
            let known = match auth {
                Some(GitAuth::Ssh { known_hosts, .. }) => known_hosts.as_str(),
                _ => "",
            };
            let port = known_hosts::url_port(&url);
            known_hosts::verify(known, host, port, key)
                .map(|()| CertificateCheckStatus::CertificateOk)
                .map_err(|m| {
                    let m = format!("ssh host key verification failed: {m}");
                    *why.borrow_mut() = Some(m.clone());
                    git2::Error::from_str(&m)
                })
        } else {
            // TLS: let libgit2 apply its normal validation against the system roots.
            Ok(CertificateCheckStatus::CertificatePassthrough)
        }
    });
    if let Some(deadline) = deadline {
        let timeout = src.timeout.unwrap_or_default();
        let (why, why2) = (reason.clone(), reason.clone());
        let check = move |why: &Reason| {
            let in_time = Instant::now() < deadline;
            if !in_time {
                *why.borrow_mut() = Some(format!("the fetch timed out after {timeout:?}"));
            }
            in_time
        };
        cbs.transfer_progress(move |_| check(&why));
        cbs.sideband_progress(move |_| check(&why2));
    }
    let mut opts = FetchOptions::new();
    opts.remote_callbacks(cbs);
    let mut proxy = ProxyOptions::new();
    proxy.auto();
    opts.proxy_options(proxy);
    opts.download_tags(AutotagOption::None);
    opts.update_fetchhead(false);
    if let Some(GitAuth::Bearer { token }) = auth {
        opts.custom_headers(&[&format!("Authorization: Bearer {token}")]);
    }
    opts
}

/// A git2 error from the network side, as a transient `Error::Fetch` without secrets.
pub fn fetch_error(src: &GitSource, url: &str, e: &git2::Error) -> Error {
    Error::Fetch {
        url: url.to_string(),
        message: scrub(src, e.message()),
    }
}

/// Removes any credential material that a library message might echo.
pub fn scrub(src: &GitSource, message: &str) -> String {
    let mut out = message.replace(&src.url, &redact_url(&src.url));
    let secrets: Vec<&str> = match &src.auth {
        Some(GitAuth::Basic { password, .. }) => vec![password.as_str()],
        Some(GitAuth::Bearer { token }) => vec![token.as_str()],
        Some(GitAuth::Ssh {
            identity,
            passphrase,
            ..
        }) => {
            let mut v = vec![identity.as_str()];
            v.extend(passphrase.as_deref());
            v
        }
        None => vec![],
    };
    for s in secrets.into_iter().filter(|s| s.len() >= 3) {
        out = out.replace(s, "***");
    }
    out
}

/// The URL with any `user:password@` userinfo removed.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}{}", &url[..scheme_end + 3], &rest[at + 1..]),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_url_strips_userinfo_only() {
        assert_eq!(
            redact_url("https://bob:s3cret@example.com/r.git"),
            "https://example.com/r.git"
        );
        assert_eq!(
            redact_url("ssh://git@example.com:2222/r.git"),
            "ssh://example.com:2222/r.git"
        );
        assert_eq!(
            redact_url("https://example.com/a@b"),
            "https://example.com/a@b"
        );
        assert_eq!(redact_url("file:///tmp/x"), "file:///tmp/x");
    }

    #[test]
    fn scrub_hides_passwords_and_tokens_in_messages() {
        let src = GitSource {
            url: "https://u:pw-123@h/r".into(),
            auth: Some(GitAuth::Bearer {
                token: "tok-abc".into(),
            }),
            ..GitSource::default()
        };
        let m = scrub(&src, "failed https://u:pw-123@h/r with tok-abc");
        assert!(!m.contains("tok-abc") && !m.contains("pw-123"), "{m}");
        assert!(m.contains("https://h/r"), "{m}");
    }
}
