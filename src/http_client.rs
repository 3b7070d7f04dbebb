//! An HTTP client built from a section's [`HttpClientConfig`], as
//! prometheus/common's `NewClientFromConfig` builds one: TLS (CA, client
//! certificate, `insecure_skip_verify`, `server_name`, versions) on rustls
//! with the `ring` provider, a proxy, redirects, HTTP/2, and credentials
//! (basic auth or an `Authorization` header) read from their files at every
//! request so that rotated secrets are picked up.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderValue, AUTHORIZATION};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::config::{HttpClientConfig, TlsConfig, TlsVersion};

/// Why a client could not be built or a request not be authorised.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// A credential, certificate or key file could not be read.
    #[error("unable to read {what} file {path}: {source}")]
    ReadFile {
        /// What the file holds.
        what: &'static str,
        /// The file.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// A certificate or key is not valid PEM.
    #[error("unable to load {what}: {message}")]
    Pem {
        /// What was being loaded.
        what: &'static str,
        /// The parser's complaint.
        message: String,
    },
    /// rustls refused the TLS settings.
    #[error("invalid TLS settings: {0}")]
    Tls(String),
    /// reqwest refused the client settings (for example the proxy URL).
    #[error("{0}")]
    Client(#[from] reqwest::Error),
    /// A credential cannot be sent as a header value.
    #[error("{what} contains characters not allowed in an HTTP header")]
    Header {
        /// Which credential.
        what: &'static str,
    },
}

/// The rustls `ring` provider, installed as the process default too so that
/// nothing else in the process falls back to a provider that is not built in.
pub fn crypto_provider() -> Arc<CryptoProvider> {
    let provider = rustls::crypto::ring::default_provider();
    let _ = provider.clone().install_default();
    Arc::new(provider)
}

fn read_secret_file(what: &'static str, path: &str) -> Result<String, ClientError> {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .map_err(|source| ClientError::ReadFile {
            what,
            path: path.to_string(),
            source,
        })
}

/// Inline PEM text, or the content of `file`, or `None` when neither is set.
fn pem_source(what: &'static str, inline: &str, file: &str) -> Result<Option<Vec<u8>>, ClientError> {
    if !inline.is_empty() {
        return Ok(Some(inline.as_bytes().to_vec()));
    }
    if file.is_empty() {
        return Ok(None);
    }
    std::fs::read(file).map(Some).map_err(|source| ClientError::ReadFile {
        what,
        path: file.to_string(),
        source,
    })
}

fn versions(tls: &TlsConfig) -> Vec<&'static rustls::SupportedProtocolVersion> {
    // rustls speaks TLS 1.2 and 1.3 only; older minimums mean "1.2 and up".
    let min = tls.min_version.unwrap_or(TlsVersion::Tls12);
    let max = tls.max_version.unwrap_or(TlsVersion::Tls13);
    let mut out = Vec::new();
    if min <= TlsVersion::Tls12 && max >= TlsVersion::Tls12 {
        out.push(&rustls::version::TLS12);
    }
    if max >= TlsVersion::Tls13 {
        out.push(&rustls::version::TLS13);
    }
    out
}

/// Builds the rustls client configuration for `tls`; `http2` decides the
/// ALPN protocols offered.
pub fn tls_client_config(tls: &TlsConfig, http2: bool) -> Result<rustls::ClientConfig, ClientError> {
    let provider = crypto_provider();
    let versions = versions(tls);
    if versions.is_empty() {
        return Err(ClientError::Tls(
            "no TLS version between min_version and max_version is supported".into(),
        ));
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(|e| ClientError::Tls(e.to_string()))?;
    let verifier: Arc<dyn ServerCertVerifier> = if tls.insecure_skip_verify {
        Arc::new(AcceptAnyServerCert(provider.signature_verification_algorithms))
    } else {
        let mut roots = RootCertStore::empty();
        match pem_source("CA", &tls.ca, &tls.ca_file)? {
            Some(pem) => {
                for cert in CertificateDer::pem_slice_iter(&pem) {
                    let cert = cert.map_err(|e| ClientError::Pem {
                        what: "CA certificate",
                        message: e.to_string(),
                    })?;
                    roots.add(cert).map_err(|e| ClientError::Tls(e.to_string()))?;
                }
                if roots.is_empty() {
                    return Err(ClientError::Pem {
                        what: "CA certificate",
                        message: "no certificate found".into(),
                    });
                }
            }
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
        let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| ClientError::Tls(e.to_string()))?;
        if tls.server_name.is_empty() {
            webpki
        } else {
            let name = ServerName::try_from(tls.server_name.clone())
                .map_err(|e| ClientError::Tls(format!("server_name {:?}: {e}", tls.server_name)))?;
            Arc::new(VerifyAs { inner: webpki, name })
        }
    };
    let builder = builder.dangerous().with_custom_certificate_verifier(verifier);
    let mut config = match pem_source("client certificate", &tls.cert, &tls.cert_file)? {
        Some(cert_pem) => {
            let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
                .collect::<Result<_, _>>()
                .map_err(|e| ClientError::Pem {
                    what: "client certificate",
                    message: e.to_string(),
                })?;
            let key_pem = pem_source("client key", tls.key.expose(), &tls.key_file)?.unwrap_or_default();
            let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| ClientError::Pem {
                what: "client key",
                message: e.to_string(),
            })?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| ClientError::Tls(e.to_string()))?
        }
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = if http2 {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    } else {
        vec![b"http/1.1".to_vec()]
    };
    Ok(config)
}

/// Builds a client for `cfg` whose requests time out after `timeout`.
pub fn build_client(cfg: &HttpClientConfig, timeout: Duration) -> Result<reqwest::Client, ClientError> {
    let tls = tls_client_config(&cfg.tls_config, cfg.enable_http2)?;
    let mut b = reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .timeout(timeout)
        .user_agent(concat!("strata/", env!("CARGO_PKG_VERSION")));
    b = match &cfg.proxy_url {
        Some(u) => b.proxy(reqwest::Proxy::all(u.as_str())?),
        // prometheus/common uses no proxy unless one is configured.
        None => b.no_proxy(),
    };
    if !cfg.follow_redirects {
        b = b.redirect(reqwest::redirect::Policy::none());
    }
    if !cfg.enable_http2 {
        b = b.http1_only();
    }
    Ok(b.build()?)
}

/// Adds the configured credentials to a request, reading secret files now.
pub fn authorize(req: reqwest::RequestBuilder, cfg: &HttpClientConfig) -> Result<reqwest::RequestBuilder, ClientError> {
    if let Some(b) = &cfg.basic_auth {
        let password = if b.password_file.is_empty() {
            b.password.expose().to_string()
        } else {
            read_secret_file("password", &b.password_file)?
        };
        return Ok(req.basic_auth(&b.username, Some(password)));
    }
    if let Some(a) = &cfg.authorization {
        let credentials = if a.credentials_file.is_empty() {
            a.credentials.expose().to_string()
        } else {
            read_secret_file("credentials", &a.credentials_file)?
        };
        let mut value = HeaderValue::from_str(&format!("{} {}", a.kind, credentials))
            .map_err(|_| ClientError::Header { what: "authorization" })?;
        value.set_sensitive(true);
        return Ok(req.header(AUTHORIZATION, value));
    }
    Ok(req)
}

/// `insecure_skip_verify`: any certificate is accepted, but handshake
/// signatures are still checked so that the connection itself is sound.
#[derive(Debug)]
struct AcceptAnyServerCert(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AcceptAnyServerCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

/// `server_name`: the certificate is verified against this name instead of
/// the URL's host (the SNI sent is still the URL's host).
#[derive(Debug)]
struct VerifyAs {
    inner: Arc<WebPkiServerVerifier>,
    name: ServerName<'static>,
}

impl ServerCertVerifier for VerifyAs {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, &self.name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_settings_build_a_client() {
        build_client(&HttpClientConfig::default(), Duration::from_secs(1)).unwrap();
        let tls = TlsConfig {
            insecure_skip_verify: true,
            min_version: Some(TlsVersion::Tls13),
            ..TlsConfig::default()
        };
        let c = tls_client_config(&tls, false).unwrap();
        assert_eq!(c.alpn_protocols, vec![b"http/1.1".to_vec()]);
    }

    #[test]
    fn unreadable_or_bad_pem_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("ca.pem").display().to_string();
        let tls = TlsConfig {
            ca_file: missing.clone(),
            ..TlsConfig::default()
        };
        let e = tls_client_config(&tls, true).unwrap_err().to_string();
        assert!(e.contains(&missing) && e.contains("CA"), "{e}");
        let tls = TlsConfig {
            ca: "not pem".into(),
            ..TlsConfig::default()
        };
        let e = tls_client_config(&tls, true).unwrap_err().to_string();
        assert!(e.contains("CA certificate"), "{e}");
    }

    #[test]
    fn version_range() {
        let v = |min, max| {
            versions(&TlsConfig {
                min_version: min,
                max_version: max,
                ..TlsConfig::default()
            })
            .len()
        };
        assert_eq!(v(None, None), 2);
        assert_eq!(v(Some(TlsVersion::Tls10), Some(TlsVersion::Tls12)), 1);
        assert_eq!(v(Some(TlsVersion::Tls13), None), 1);
        assert_eq!(v(None, Some(TlsVersion::Tls11)), 0);
    }
}

/// A client together with the credentials its requests carry: what a scrape
/// pool keeps for its targets.
#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    cfg: Arc<HttpClientConfig>,
}

impl HttpClient {
    /// A client for `cfg`; requests set their own timeouts.
    pub fn new(cfg: &HttpClientConfig) -> Result<HttpClient, String> {
        // The per-request timeout (the scrape timeout) takes precedence.
        let client = build_client(cfg, Duration::from_secs(3600)).map_err(|e| e.to_string())?;
        Ok(HttpClient {
            client,
            cfg: Arc::new(cfg.clone()),
        })
    }

    /// A GET request with the configured credentials.
    pub fn get(&self, url: &str) -> Result<reqwest::RequestBuilder, String> {
        authorize(self.client.get(url), &self.cfg).map_err(|e| e.to_string())
    }
}
