//! Loopback TLS servers for the notification tests: the fixture certificate
//! (`tests/fixtures/tls/server.crt`, signed by `ca.crt`, for `127.0.0.1` and `localhost`), a
//! stream that can switch to TLS mid-connection (for STARTTLS), and an HTTPS endpoint that
//! records request bodies. Included with `#[path]` by the tests that need it.
#![allow(dead_code)]

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{mpsc, Arc};

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tls")
        .join(name)
}

pub fn ca_pem() -> String {
    std::fs::read_to_string(fixture("ca.crt")).expect("ca.crt")
}

pub fn server_config() -> Arc<rustls::ServerConfig> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(fixture("server.crt"))
        .expect("server.crt")
        .collect::<Result<_, _>>()
        .expect("PEM certificates");
    let key = PrivateKeyDer::from_pem_file(fixture("server.key")).expect("server.key");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .expect("certificate and key match");
    Arc::new(config)
}

/// A TCP stream before or after the TLS handshake.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ServerConnection, TcpStream>>),
}

impl Stream {
    pub fn upgrade(self, config: &Arc<rustls::ServerConfig>) -> Stream {
        match self {
            Stream::Plain(tcp) => {
                let conn = rustls::ServerConnection::new(config.clone()).expect("TLS session");
                Stream::Tls(Box::new(rustls::StreamOwned::new(conn, tcp)))
            }
            tls => tls,
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// One line including `\n` (empty at end of stream or on a failed handshake).
pub fn read_line(s: &mut Stream) -> Vec<u8> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while let Ok(1) = s.read(&mut byte) {
        line.push(byte[0]);
        if byte[0] == b'\n' {
            break;
        }
    }
    line
}

/// An HTTPS endpoint on 127.0.0.1:<random> with the fixture certificate; request bodies
/// arrive on the returned channel, every request is answered 200.
pub fn https_server() -> (u16, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (tx, rx) = mpsc::channel();
    let config = server_config();
    std::thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(tcp) = tcp else { continue };
            let (tx, config) = (tx.clone(), config.clone());
            std::thread::spawn(move || {
                let mut stream = Stream::Plain(tcp).upgrade(&config);
                let mut len = 0usize;
                loop {
                    let line = read_line(&mut stream);
                    if line.is_empty() {
                        return; // handshake refused or connection closed
                    }
                    let text = String::from_utf8_lossy(&line).to_ascii_lowercase();
                    if let Some(v) = text.strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                    if text == "\r\n" {
                        break;
                    }
                }
                let mut body = vec![0u8; len];
                if stream.read_exact(&mut body).is_err() {
                    return;
                }
                let _ = tx.send(String::from_utf8_lossy(&body).into_owned());
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                );
                let _ = stream.flush();
            });
        }
    });
    (port, rx)
}
