//! HTTP client options shared by scrape jobs, HTTP discovery, Alertmanagers
//! and remote write (prometheus/common `HTTPClientConfig`). In YAML they sit
//! inline in the enclosing section (`basic_auth:` next to `job_name:`);
//! [`with_http_client!`](crate::config) builds such sections.

use std::fmt;
use std::path::Path;

use serde::Deserialize;

use super::error::{Invalid, YamlPath};
use super::join_dir;
use super::yaml::null_as_default;

/// A credential: printed as `<secret>` in debug output so it never reaches logs.
#[derive(Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(transparent)]
pub struct Secret(#[serde(deserialize_with = "null_as_default")] pub String);

impl Secret {
    /// The credential itself.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether no credential is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "<secret>" })
    }
}

/// `basic_auth`: HTTP basic authentication.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BasicAuth {
    /// User name.
    #[serde(deserialize_with = "null_as_default")]
    pub username: String,
    /// Password; at most one of `password` and `password_file`.
    pub password: Secret,
    /// File holding the password, relative to the configuration file's directory.
    #[serde(deserialize_with = "null_as_default")]
    pub password_file: String,
}

/// `authorization`: an `Authorization: <type> <credentials>` header.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Authorization {
    /// Scheme, `Bearer` unless set (never `Basic`: use `basic_auth`).
    #[serde(rename = "type", deserialize_with = "null_as_default")]
    pub kind: String,
    /// The credentials; at most one of `credentials` and `credentials_file`.
    pub credentials: Secret,
    /// File holding the credentials, relative to the configuration file's directory.
    #[serde(deserialize_with = "null_as_default")]
    pub credentials_file: String,
}

/// A TLS protocol version for `min_version` / `max_version`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVersion {
    /// TLS 1.0 (`TLS10`).
    Tls10,
    /// TLS 1.1 (`TLS11`).
    Tls11,
    /// TLS 1.2 (`TLS12`).
    Tls12,
    /// TLS 1.3 (`TLS13`).
    Tls13,
}

impl<'de> Deserialize<'de> for TlsVersion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        super::yaml::scalar_with(d, |s| match s.unwrap_or("") {
            "TLS10" => Ok(TlsVersion::Tls10),
            "TLS11" => Ok(TlsVersion::Tls11),
            "TLS12" => Ok(TlsVersion::Tls12),
            "TLS13" => Ok(TlsVersion::Tls13),
            other => Err(format!("unknown TLS version: {other}")),
        })
    }
}

/// `tls_config`: how to verify the server and which client certificate to present.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM CA certificates, inline. At most one of `ca` and `ca_file`.
    #[serde(deserialize_with = "null_as_default")]
    pub ca: String,
    /// File of PEM CA certificates.
    #[serde(deserialize_with = "null_as_default")]
    pub ca_file: String,
    /// PEM client certificate, inline.
    #[serde(deserialize_with = "null_as_default")]
    pub cert: String,
    /// File of the PEM client certificate.
    #[serde(deserialize_with = "null_as_default")]
    pub cert_file: String,
    /// PEM client key, inline.
    pub key: Secret,
    /// File of the PEM client key.
    #[serde(deserialize_with = "null_as_default")]
    pub key_file: String,
    /// Name to verify the server certificate against (SNI), instead of the host.
    #[serde(deserialize_with = "null_as_default")]
    pub server_name: String,
    /// Accept any server certificate.
    #[serde(deserialize_with = "null_as_default")]
    pub insecure_skip_verify: bool,
    /// Oldest TLS version accepted (TLS 1.2 when unset).
    #[serde(deserialize_with = "null_as_default")]
    pub min_version: Option<TlsVersion>,
    /// Newest TLS version offered.
    #[serde(deserialize_with = "null_as_default")]
    pub max_version: Option<TlsVersion>,
}

impl TlsConfig {
    fn validate(&mut self, dir: &Path, path: &YamlPath) -> Result<(), Invalid> {
        if !self.ca.is_empty() && !self.ca_file.is_empty() {
            return Err(path.err("at most one of ca and ca_file must be configured"));
        }
        if !self.cert.is_empty() && !self.cert_file.is_empty() {
            return Err(path.err("at most one of cert and cert_file must be configured"));
        }
        if !self.key.is_empty() && !self.key_file.is_empty() {
            return Err(path.err("at most one of key and key_file must be configured"));
        }
        let has_cert = !self.cert.is_empty() || !self.cert_file.is_empty();
        let has_key = !self.key.is_empty() || !self.key_file.is_empty();
        if has_cert && !has_key {
            return Err(
                path.err("exactly one of key or key_file must be configured when a client certificate is configured")
            );
        }
        if has_key && !has_cert {
            return Err(path.err("exactly one of cert or cert_file must be configured when a client key is configured"));
        }
        if let (Some(min), Some(max)) = (self.min_version, self.max_version) {
            if min > max {
                return Err(path.err("tls_config.max_version must be greater than or equal to tls_config.min_version"));
            }
        }
        for f in [&mut self.ca_file, &mut self.cert_file, &mut self.key_file] {
            *f = join_dir(dir, f);
        }
        Ok(())
    }
}

/// The HTTP client options of a section. After validation, the old
/// `bearer_token`/`bearer_token_file` form has been folded into
/// `authorization` (type `Bearer`), relative file names are joined with the
/// configuration file's directory, and `authorization.kind` is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpClientConfig {
    /// `basic_auth`.
    pub basic_auth: Option<BasicAuth>,
    /// `authorization`.
    pub authorization: Option<Authorization>,
    /// `bearer_token` (old form of `authorization.credentials`); empty after validation.
    pub bearer_token: Secret,
    /// `bearer_token_file` (old form of `authorization.credentials_file`); empty after validation.
    pub bearer_token_file: String,
    /// `tls_config`.
    pub tls_config: TlsConfig,
    /// `proxy_url`: an HTTP proxy for every request.
    pub proxy_url: Option<String>,
    /// `follow_redirects` (default true).
    pub follow_redirects: bool,
    /// `enable_http2` (default true; false for remote write).
    pub enable_http2: bool,
}

impl Default for HttpClientConfig {
    /// prometheus/common's `DefaultHTTPClientConfig`.
    fn default() -> Self {
        HttpClientConfig {
            basic_auth: None,
            authorization: None,
            bearer_token: Secret::default(),
            bearer_token_file: String::new(),
            tls_config: TlsConfig::default(),
            proxy_url: None,
            follow_redirects: true,
            enable_http2: true,
        }
    }
}

impl HttpClientConfig {
    /// The defaults of a remote-write client (HTTP/2 off).
    pub fn remote_write_default() -> Self {
        HttpClientConfig {
            enable_http2: false,
            ..HttpClientConfig::default()
        }
    }

    /// Checks the options as prometheus/common does and resolves them (see the type's doc).
    /// `path` is the enclosing section: the options sit inline in it.
    pub(crate) fn validate(&mut self, dir: &Path, path: &YamlPath) -> Result<(), Invalid> {
        let has_bearer = !self.bearer_token.is_empty() || !self.bearer_token_file.is_empty();
        if !self.bearer_token.is_empty() && !self.bearer_token_file.is_empty() {
            return Err(path
                .key("bearer_token")
                .err("at most one of bearer_token & bearer_token_file must be configured"));
        }
        if self.basic_auth.is_some() && has_bearer {
            return Err(path
                .key("basic_auth")
                .err("at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured"));
        }
        if let Some(b) = &mut self.basic_auth {
            let p = path.key("basic_auth");
            if !b.password.is_empty() && !b.password_file.is_empty() {
                return Err(p.err("at most one of basic_auth password & password_file must be configured"));
            }
            b.password_file = join_dir(dir, &b.password_file);
        }
        if let Some(a) = &mut self.authorization {
            let p = path.key("authorization");
            if has_bearer {
                return Err(p.err("authorization is not compatible with bearer_token & bearer_token_file"));
            }
            if !a.credentials.is_empty() && !a.credentials_file.is_empty() {
                return Err(p.err("at most one of authorization credentials & credentials_file must be configured"));
            }
            a.kind = a.kind.trim().to_string();
            if a.kind.is_empty() {
                a.kind = "Bearer".to_string();
            }
            if a.kind.eq_ignore_ascii_case("basic") {
                return Err(p
                    .key("type")
                    .err(r#"authorization type cannot be set to "basic", use "basic_auth" instead"#));
            }
            if self.basic_auth.is_some() {
                return Err(p.err("at most one of basic_auth, oauth2 & authorization must be configured"));
            }
            a.credentials_file = join_dir(dir, &a.credentials_file);
        } else if has_bearer {
            self.authorization = Some(Authorization {
                kind: "Bearer".to_string(),
                credentials: std::mem::take(&mut self.bearer_token),
                credentials_file: join_dir(dir, &std::mem::take(&mut self.bearer_token_file)),
            });
        }
        if let Some(u) = &self.proxy_url {
            check_url(u, &["http", "https", "socks5"])
                .map_err(|e| path.key("proxy_url").err(format!("invalid proxy_url {u:?}: {e}")))?;
        }
        self.tls_config.validate(dir, &path.key("tls_config"))
    }
}

/// Checks that `u` is an absolute URL with one of `schemes` and a host.
pub(crate) fn check_url(u: &str, schemes: &[&str]) -> Result<http::Uri, String> {
    let scheme_ok = u.split_once("://").is_some_and(|(s, _)| schemes.contains(&s));
    if !scheme_ok {
        return Err(format!("URL scheme must be {}", quoted_alternatives(schemes)));
    }
    let after_scheme = u.split_once("://").map_or("", |(_, rest)| rest);
    let authority = after_scheme.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host.is_empty() || host.starts_with(':') {
        return Err("host is missing in URL".to_string());
    }
    u.parse().map_err(|e: http::uri::InvalidUri| e.to_string())
}

fn quoted_alternatives(schemes: &[&str]) -> String {
    let quoted: Vec<String> = schemes.iter().map(|s| format!("'{s}'")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => quoted.join(""),
    }
}

/// Declares a configuration section whose YAML also holds the HTTP client
/// options inline. Each field is listed with its type and the default used
/// when the key is absent; an explicit null reads as the type's zero value,
/// as in Go. The section gets an `http_client: HttpClientConfig` field.
macro_rules! with_http_client {
    (
        $(#[$meta:meta])*
        pub struct $name:ident ($raw:ident, http_default = $http_default:expr) {
            $(
                $(#[doc = $doc:literal])*
                pub $field:ident : $ty:ty = $default:expr,
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name {
            $( $(#[doc = $doc])* pub $field: $ty, )*
            /// HTTP client options (`basic_auth`, `authorization`, `tls_config`, …), inline in the YAML.
            pub http_client: $crate::config::HttpClientConfig,
        }

        #[derive(serde::Deserialize)]
        #[serde(default, deny_unknown_fields)]
        struct $raw {
            $(
                #[serde(deserialize_with = "crate::config::yaml::null_as_default")]
                $field: $ty,
            )*
            #[serde(deserialize_with = "crate::config::yaml::null_as_default")]
            basic_auth: Option<$crate::config::BasicAuth>,
            #[serde(deserialize_with = "crate::config::yaml::null_as_default")]
            authorization: Option<$crate::config::Authorization>,
            bearer_token: $crate::config::Secret,
            #[serde(deserialize_with = "crate::config::yaml::null_as_default")]
            bearer_token_file: String,
            #[serde(deserialize_with = "crate::config::yaml::null_as_default")]
            tls_config: $crate::config::TlsConfig,
            #[serde(deserialize_with = "crate::config::yaml::null_as_default")]
            proxy_url: Option<String>,
            #[serde(deserialize_with = "crate::config::yaml::null_as_default")]
            follow_redirects: bool,
            #[serde(deserialize_with = "crate::config::yaml::null_as_default")]
            enable_http2: bool,
        }

        impl Default for $raw {
            fn default() -> Self {
                let http: $crate::config::HttpClientConfig = $http_default;
                $raw {
                    $( $field: $default, )*
                    basic_auth: http.basic_auth,
                    authorization: http.authorization,
                    bearer_token: http.bearer_token,
                    bearer_token_file: http.bearer_token_file,
                    tls_config: http.tls_config,
                    proxy_url: http.proxy_url,
                    follow_redirects: http.follow_redirects,
                    enable_http2: http.enable_http2,
                }
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let r = <$raw as serde::Deserialize>::deserialize(d)?;
                Ok($name {
                    $( $field: r.$field, )*
                    http_client: $crate::config::HttpClientConfig {
                        basic_auth: r.basic_auth,
                        authorization: r.authorization,
                        bearer_token: r.bearer_token,
                        bearer_token_file: r.bearer_token_file,
                        tls_config: r.tls_config,
                        proxy_url: r.proxy_url,
                        follow_redirects: r.follow_redirects,
                        enable_http2: r.enable_http2,
                    },
                })
            }
        }
    };
}
pub(crate) use with_http_client;

#[cfg(test)]
mod tests {
    use super::*;

    fn http(yaml: &str) -> Result<HttpClientConfig, String> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct T {
            #[serde(default)]
            basic_auth: Option<BasicAuth>,
            #[serde(default)]
            authorization: Option<Authorization>,
            #[serde(default)]
            bearer_token: Secret,
            #[serde(default)]
            bearer_token_file: String,
            #[serde(default)]
            tls_config: TlsConfig,
            #[serde(default)]
            proxy_url: Option<String>,
        }
        let t: T = yaml_serde::from_str(yaml).map_err(|e| e.to_string())?;
        let mut h = HttpClientConfig {
            basic_auth: t.basic_auth,
            authorization: t.authorization,
            bearer_token: t.bearer_token,
            bearer_token_file: t.bearer_token_file,
            tls_config: t.tls_config,
            proxy_url: t.proxy_url,
            ..HttpClientConfig::default()
        };
        h.validate(Path::new("/etc/strata"), &YamlPath::root())
            .map_err(|e| format!("{}: {}", e.path, e.message))?;
        Ok(h)
    }

    #[test]
    fn bearer_token_becomes_authorization() {
        let h = http("bearer_token_file: token").unwrap();
        let a = h.authorization.unwrap();
        assert_eq!(
            (a.kind.as_str(), a.credentials_file.as_str()),
            ("Bearer", "/etc/strata/token")
        );
        assert!(h.bearer_token_file.is_empty());
        let h = http("authorization: {credentials: abc}").unwrap();
        assert_eq!(h.authorization.unwrap().kind, "Bearer");
        let h = http("authorization: {type: ' Token ', credentials_file: /abs}").unwrap();
        let a = h.authorization.unwrap();
        assert_eq!((a.kind.as_str(), a.credentials_file.as_str()), ("Token", "/abs"));
    }

    /// prometheus/common `http_config_test.go` invalid configurations.
    #[test]
    fn invalid_combinations_have_upstream_texts() {
        for (yaml, want) in [
            (
                "{bearer_token: a, bearer_token_file: b}",
                "at most one of bearer_token & bearer_token_file must be configured",
            ),
            (
                "{basic_auth: {username: u}, bearer_token: a}",
                "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured",
            ),
            (
                "{basic_auth: {username: u, password: p, password_file: f}}",
                "at most one of basic_auth password & password_file must be configured",
            ),
            (
                "{authorization: {credentials: a}, bearer_token: b}",
                "authorization is not compatible with bearer_token & bearer_token_file",
            ),
            (
                "{authorization: {credentials: a, credentials_file: f}}",
                "at most one of authorization credentials & credentials_file must be configured",
            ),
            (
                "{authorization: {type: BASIC, credentials: a}}",
                r#"authorization type cannot be set to "basic", use "basic_auth" instead"#,
            ),
            (
                "{authorization: {credentials: a}, basic_auth: {username: u}}",
                "at most one of basic_auth, oauth2 & authorization must be configured",
            ),
            (
                "{tls_config: {ca: x, ca_file: y}}",
                "at most one of ca and ca_file must be configured",
            ),
            (
                "{tls_config: {cert: x, cert_file: y, key: k}}",
                "at most one of cert and cert_file must be configured",
            ),
            (
                "{tls_config: {key: x, key_file: y, cert: c}}",
                "at most one of key and key_file must be configured",
            ),
            (
                "{tls_config: {cert_file: c}}",
                "exactly one of key or key_file must be configured when a client certificate is configured",
            ),
            (
                "{tls_config: {key_file: k}}",
                "exactly one of cert or cert_file must be configured when a client key is configured",
            ),
            ("{tls_config: {min_version: TLS9}}", "unknown TLS version: TLS9"),
            ("{tls_config: {bogus: 1}}", "unknown field `bogus`"),
            ("{proxy_url: 'not a url'}", "invalid proxy_url"),
            (
                "{proxy_url: 'ftp://p:1'}",
                "URL scheme must be 'http', 'https' or 'socks5'",
            ),
        ] {
            let got = http(yaml);
            assert!(
                got.as_ref().is_err_and(|e| e.contains(want)),
                "{yaml}: want {want:?}, got {got:?}"
            );
        }
    }

    #[test]
    fn secrets_do_not_print() {
        let h = http("basic_auth: {username: u, password: hunter2}").unwrap();
        let dbg = format!("{h:?}");
        assert!(!dbg.contains("hunter2") && dbg.contains("<secret>"), "{dbg}");
    }
}
