//! HTTP clients built from a configuration's client options (auth, TLS,
//! proxy, redirects, HTTP/2): used to scrape targets and, later, by HTTP
//! discovery, Alertmanager notification and remote write.
//!
//! Credentials given as files are read on every request, as Prometheus does,
//! so a rotated token is picked up without a reload.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderValue, AUTHORIZATION};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use crate::config::{HttpClientConfig, TlsConfig, TlsVersion};

/// A client plus the credentials to attach to each request.
#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    auth: Auth,
}

#[derive(Clone)]
enum Auth {
    None,
    Basic {
        username: String,
        password: Secret,
    },
    Header {
        kind: String,
        credentials: Secret,
    },
}

/// A secret given inline or as a file read at use.
#[derive(Clone)]
enum Secret {
    Inline(String),
    File(String),
}

impl Secret {
    fn of(inline: &str, file: &str) -> Secret {
        if file.is_empty() {
            Secret::Inline(inline.to_string())
        } else {
            Secret::File(file.to_string())
        }
    }

    fn read(&self) -> Result<String, String> {
        match self {
            Secret::Inline(s) => Ok(s.clone()),
            Secret::File(f) => std::fs::read_to_string(f)
                .map(|s| s.trim().to_string())
                .map_err(|e| format!("unable to read {f}: {e}")),
        }
    }
}

impl HttpClient {
    /// A client for `cfg`. Errors name the unusable option (an unreadable CA
    /// file, a malformed proxy URL, …).
    pub fn new(cfg: &HttpClientConfig) -> Result<HttpClient, String> {
        let tls = tls_config(&cfg.tls_config)?;
        let mut b = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .user_agent(concat!("strata/", env!("CARGO_PKG_VERSION")))
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true)
            .redirect(if cfg.follow_redirects {
                reqwest::redirect::Policy::limited(10)
            } else {
                reqwest::redirect::Policy::none()
            });
        if !cfg.enable_http2 {
            b = b.http1_only();
        }
        match &cfg.proxy_url {
            Some(p) => b = b.proxy(reqwest::Proxy::all(p).map_err(|e| format!("proxy_url {p:?}: {e}"))?),
            None => b = b.no_proxy(),
        }
        let client = b.build().map_err(|e| format!("building the HTTP client: {e}"))?;
        let auth = if let Some(a) = &cfg.authorization {
            Auth::Header {
                kind: a.kind.clone(),
                credentials: Secret::of(a.credentials.expose(), &a.credentials_file),
            }
        } else if let Some(b) = &cfg.basic_auth {
            Auth::Basic {
                username: b.username.clone(),
                password: Secret::of(b.password.expose(), &b.password_file),
            }
        } else {
            Auth::None
        };
        Ok(HttpClient { client, auth })
    }

    /// A GET request with the configured credentials.
    pub fn get(&self, url: &str) -> Result<reqwest::RequestBuilder, String> {
        let rb = self.client.get(url);
        Ok(match &self.auth {
            Auth::None => rb,
            Auth::Basic { username, password } => rb.basic_auth(username, Some(password.read()?)),
            Auth::Header { kind, credentials } => {
                let v = format!("{kind} {}", credentials.read()?);
                let mut hv = HeaderValue::from_str(&v).map_err(|_| "credentials are not a valid header value")?;
                hv.set_sensitive(true);
                rb.header(AUTHORIZATION, hv)
            }
        })
    }

    /// The underlying client, for requests that are not plain GETs.
    pub fn inner(&self) -> &reqwest::Client {
        &self.client
    }
}

fn read_file(path: &str, what: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("unable to read {what} {path}: {e}"))
}

fn tls_config(t: &TlsConfig) -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions: &[&rustls::SupportedProtocolVersion] = match (t.min_version, t.max_version) {
        (Some(TlsVersion::Tls13), _) => &[&rustls::version::TLS13],
        (_, Some(TlsVersion::Tls12 | TlsVersion::Tls11 | TlsVersion::Tls10)) => &[&rustls::version::TLS12],
        _ => rustls::ALL_VERSIONS,
    };
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .map_err(|e| format!("tls_config: {e}"))?;

    let mut roots = rustls::RootCertStore::empty();
    let ca_pem = if !t.ca_file.is_empty() {
        Some(read_file(&t.ca_file, "CA file")?)
    } else if !t.ca.is_empty() {
        Some(t.ca.as_bytes().to_vec())
    } else {
        None
    };
    match &ca_pem {
        Some(pem) => {
            let mut n = 0;
            for c in CertificateDer::pem_slice_iter(pem) {
                let c = c.map_err(|e| format!("tls_config CA: {e}"))?;
                roots.add(c).map_err(|e| format!("tls_config CA: {e}"))?;
                n += 1;
            }
            if n == 0 {
                return Err("tls_config CA: no certificate found".to_string());
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let roots = Arc::new(roots);

    let builder = if t.insecure_skip_verify {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerify(provider.clone())))
    } else if !t.server_name.is_empty() {
        let inner = rustls::client::WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
            .build()
            .map_err(|e| format!("tls_config: {e}"))?;
        let name = ServerName::try_from(t.server_name.clone())
            .map_err(|e| format!("tls_config server_name {:?}: {e}", t.server_name))?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(FixedName { inner, name }))
    } else {
        builder.with_root_certificates(roots)
    };

    let cert_pem = if !t.cert_file.is_empty() {
        Some(read_file(&t.cert_file, "client certificate")?)
    } else if !t.cert.is_empty() {
        Some(t.cert.as_bytes().to_vec())
    } else {
        None
    };
    let mut cfg = match cert_pem {
        Some(cert_pem) => {
            let key_pem = if !t.key_file.is_empty() {
                read_file(&t.key_file, "client key")?
            } else {
                t.key.expose().as_bytes().to_vec()
            };
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
                .collect::<Result<_, _>>()
                .map_err(|e| format!("tls_config client certificate: {e}"))?;
            let key =
                PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| format!("tls_config client key: {e}"))?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| format!("tls_config client certificate: {e}"))?
        }
        None => builder.with_no_client_auth(),
    };
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(cfg)
}

/// `insecure_skip_verify: true`: any certificate is accepted (signatures on
/// the handshake are still checked, so the peer holds the key it shows).
#[derive(Debug)]
struct NoVerify(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
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
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `server_name`: the certificate is checked against the configured name
/// instead of the host in the URL.
#[derive(Debug)]
struct FixedName {
    inner: Arc<rustls::client::WebPkiServerVerifier>,
    name: ServerName<'static>,
}

impl ServerCertVerifier for FixedName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, &self.name, ocsp, now)
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
