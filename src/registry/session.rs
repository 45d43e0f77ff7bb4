//! An authenticated push session with one repository of the registry (OCI distribution API): the bearer
//! token for pull+push (refreshed once when it expires), blob `HEAD`, cross-repository mount, chunked
//! uploads, and the manifest `PUT`. Every refusal becomes an [`Error`] with the registry's own words;
//! the token travels only to the registry and its trusted token realm, never through a redirect.

use super::refusal::{protocol, refusal, refused, unreachable};
use super::{parse_bearer_challenge, realm_is_trusted, upload_location, TokenAnswer};
use crate::config::Config;
use crate::error::{Code, Error, Result};
use crate::http::{read_body, Limit};
use crate::secret::Secret;
use bytes::Bytes;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use std::time::Duration;
use tokio::sync::Mutex;

/// A layer goes up as docker sends it: one `PATCH` carrying the whole blob as it streams, with no
/// `Content-Range`, then `PUT ?digest=` — three requests a layer with the `POST`, whatever its size
/// (ghcr.io's secondary rate limit counts requests; FACTS). Only a registry that refuses that (416 or
/// 413) gets chunks, of this size: ghcr.io caps a chunked `PATCH` at 4 MiB, and some report exactly
/// 4 MiB failing, so a margin is kept.
const FALLBACK_CHUNK: usize = 3 << 20;

/// Credentials for the registry's token service.
#[derive(Clone)]
pub struct Credentials {
    pub login: String,
    pub token: Secret,
}

/// Pull and push on one repository (`owner/name`), and pull on `mount_from` repositories.
pub struct Session {
    http: reqwest::Client,
    base: String,
    path: String,
    /// What the token is asked for; grows when a blob is mounted from a repository not known at the start.
    scopes: std::sync::Mutex<Vec<String>>,
    credentials: Option<Credentials>,
    config: Config,
    bearer: Mutex<Option<String>>,
    /// The registry refused a whole-blob `PATCH`: uploads go in chunks from now on.
    chunks_only: std::sync::atomic::AtomicBool,
}

/// An open upload session: where the next chunk goes and how many bytes the registry has.
pub struct Upload {
    location: String,
    pub offset: u64,
}

impl Session {
    /// Asks the registry for a token to pull and push `path` (and pull from `mount_from`).
    /// `credentials: None` asks anonymously (pull of public packages).
    pub async fn open(
        config: &Config,
        path: &str,
        mount_from: &[String],
        credentials: Option<Credentials>,
    ) -> Result<Session> {
        let http = crate::http::transfer_client()?;
        Session::open_on(http, config, path, mount_from, credentials).await
    }

    /// [`Session::open`] on an HTTP client the caller already has (setting one up loads the system's
    /// TLS roots: sessions opened by the dozen share one).
    pub async fn open_on(
        http: reqwest::Client,
        config: &Config,
        path: &str,
        mount_from: &[String],
        credentials: Option<Credentials>,
    ) -> Result<Session> {
        let actions = if credentials.is_some() {
            "pull,push"
        } else {
            "pull"
        };
        let mut scopes = vec![format!("repository:{path}:{actions}")];
        scopes.extend(
            mount_from
                .iter()
                .filter(|from| from.as_str() != path)
                .map(|from| format!("repository:{from}:pull")),
        );
        let session = Session {
            http,
            base: config.registry_url(),
            path: path.to_string(),
            scopes: std::sync::Mutex::new(scopes),
            credentials,
            config: config.clone(),
            bearer: Mutex::new(None),
            chunks_only: std::sync::atomic::AtomicBool::new(false),
        };
        session.authenticate().await?;
        Ok(session)
    }

    /// The largest body one chunked `PATCH` carries.
    pub fn chunk_size(&self) -> usize {
        FALLBACK_CHUNK
    }

    /// Whether uploads go in chunks (the registry refused a whole-blob `PATCH`).
    pub fn chunks_only(&self) -> bool {
        self.chunks_only.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Sends a whole blob in one `PATCH` with no `Content-Range`, its body streamed from `pieces` as
    /// they come (as `docker push` does); after [`Session::upload_status`], the rest of one. A registry
    /// that refuses that (413, 416) is remembered: `chunks_only` turns true and the error says so.
    pub async fn send_whole<S>(&self, upload: &mut Upload, stream: S) -> Result<()>
    where
        S: futures_util::Stream<Item = std::io::Result<Bytes>> + Send + 'static,
    {
        let mut request = self
            .http
            .patch(&upload.location)
            .header("content-type", "application/octet-stream")
            .body(reqwest::Body::wrap_stream(stream));
        if let Some(bearer) = self.bearer.lock().await.as_deref() {
            request = request.bearer_auth(bearer);
        }
        let response = answer_within(None, request, &self.base).await?;
        let status = response.status();
        if status == StatusCode::RANGE_NOT_SATISFIABLE || status == StatusCode::PAYLOAD_TOO_LARGE {
            self.chunks_only
                .store(true, std::sync::atomic::Ordering::SeqCst);
            return Err(refused(response).await);
        }
        if status != StatusCode::ACCEPTED {
            return Err(refused(response).await);
        }
        upload.location = self.location(&response)?;
        Ok(())
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    async fn authenticate(&self) -> Result<()> {
        let ping = answer_within(
            Some(ANSWER_DEADLINE),
            self.http.get(format!("{}/v2/", self.base)),
            &self.base,
        )
        .await?;
        if ping.status().is_success() {
            *self.bearer.lock().await = None;
            return Ok(());
        }
        let challenge = ping
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_bearer_challenge)
            .ok_or_else(|| protocol(&self.base, "does not ask for a bearer token"))?;
        if !realm_is_trusted(&self.config, &challenge.realm) {
            return Err(protocol(
                &self.base,
                &format!(
                    "sends credentials to {}, which is neither the registry nor GitHub's API",
                    challenge.realm
                ),
            ));
        }
        let scopes = self
            .scopes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let mut query: Vec<(&str, &str)> = scopes.iter().map(|s| ("scope", s.as_str())).collect();
        if let Some(service) = &challenge.service {
            query.push(("service", service.as_str()));
        }
        let mut request = self.http.get(&challenge.realm).query(&query);
        if let Some(credentials) = &self.credentials {
            request = request.basic_auth(&credentials.login, Some(credentials.token.expose()));
        }
        let answer = answer_within(Some(ANSWER_DEADLINE), request, &self.base).await?;
        let status = answer.status();
        let retry_after = crate::http::retry_after(answer.headers());
        let body = read_body(answer, Limit::TOKEN)
            .await
            .map_err(|e| protocol(&self.base, &e.describe()))?;
        if !status.is_success() {
            return Err(refusal(status, &body).with_retry_after(retry_after));
        }
        let grant: TokenAnswer = serde_json::from_slice(&body)
            .map_err(|_| protocol(&self.base, "sent an unreadable token"))?;
        let bearer = grant
            .token
            .or(grant.access_token)
            .ok_or_else(|| protocol(&self.base, "sent no token"))?;
        *self.bearer.lock().await = Some(bearer);
        Ok(())
    }

    /// Sends the request `build` makes, with the bearer token; on a 401 (an expired token) gets a new
    /// token and sends it once more.
    async fn send(&self, build: impl Fn(&reqwest::Client) -> RequestBuilder) -> Result<Response> {
        self.send_within(Some(ANSWER_DEADLINE), build).await
    }

    /// `send` for a request that carries a blob's bytes: no deadline for the whole (a slow link takes
    /// as long as it takes), only the client's: a connection that stops moving ends.
    async fn send_upload(
        &self,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<Response> {
        self.send_within(None, build).await
    }

    async fn send_within(
        &self,
        deadline: Option<Duration>,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<Response> {
        for attempt in 0..2 {
            let mut request = build(&self.http);
            if let Some(bearer) = self.bearer.lock().await.as_deref() {
                request = request.bearer_auth(bearer);
            }
            let response = answer_within(deadline, request, &self.base).await?;
            if response.status() == StatusCode::UNAUTHORIZED && attempt == 0 {
                self.authenticate().await?;
                continue;
            }
            return Ok(response);
        }
        unreachable_code()
    }

    fn url(&self, rest: &str) -> String {
        format!("{}/v2/{}/{rest}", self.base, self.path)
    }

    /// The absolute form of a `Location` the registry sent; only on the registry's own origin.
    fn location(&self, response: &Response) -> Result<String> {
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| protocol(&self.base, "opened an upload without a Location"))?;
        upload_location(&self.base, location)
            .map(String::from)
            .ok_or_else(|| {
                protocol(
                    &self.base,
                    "moved the upload to another host; the token is not sent there",
                )
            })
    }

    /// The size of blob `digest` if the repository has it. A registry that sends it from another host
    /// (ghcr.io: a signed address on its CDN) has it; the size is asked there **without** the token —
    /// credentials never leave the registry.
    pub async fn blob_size(&self, digest: &str) -> Result<Option<u64>> {
        let url = self.url(&format!("blobs/{digest}"));
        let response = self.send(|http| http.head(&url)).await?;
        let length = |response: &Response| {
            response
                .headers()
                .get("content-length")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok())
        };
        match response.status() {
            StatusCode::OK => Ok(Some(length(&response).unwrap_or_default())),
            StatusCode::NOT_FOUND => Ok(None),
            status if status.is_redirection() => {
                let elsewhere = response
                    .headers()
                    .get("location")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|l| url::Url::parse(&url).ok()?.join(l).ok());
                let size = match elsewhere {
                    Some(location) => crate::http::transfer_client()?
                        .head(location)
                        .send()
                        .await
                        .ok()
                        .filter(|r| r.status().is_success())
                        .and_then(|r| length(&r)),
                    None => None,
                };
                Ok(Some(size.unwrap_or_default()))
            }
            _ => Err(refused(response).await),
        }
    }

    /// Links blob `digest` from repository `from` of the same registry without uploading it. `false`
    /// when the registry can't (it then opened an upload session, which is cancelled here).
    pub async fn mount(&self, digest: &str, from: &str) -> Result<bool> {
        let url = self.url("blobs/uploads/");
        let response = self
            .send(|http| {
                http.post(&url)
                    .query(&[("mount", digest), ("from", from)])
                    .header("content-length", "0")
            })
            .await?;
        match response.status() {
            StatusCode::CREATED => Ok(true),
            StatusCode::ACCEPTED => {
                let upload = Upload {
                    location: self.location(&response)?,
                    offset: 0,
                };
                self.cancel(upload).await;
                Ok(false)
            }
            _ => Err(refused(response).await),
        }
    }

    /// `mount`, from a repository the token may not cover yet: it is asked for a token that also
    /// pulls there first. `false` when the registry can't mount, or won't let this account pull there
    /// (the token then goes back to what it was).
    pub async fn mount_from(&self, digest: &str, from: &str) -> Result<bool> {
        let scope = format!("repository:{from}:pull");
        let added = {
            let mut scopes = self
                .scopes
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let added = from != self.path && !scopes.contains(&scope);
            if added {
                scopes.push(scope.clone());
            }
            added
        };
        if added && self.authenticate().await.is_err() {
            self.scopes
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .retain(|s| *s != scope);
            self.authenticate().await?;
            return Ok(false);
        }
        self.mount(digest, from).await
    }

    /// Opens an upload session.
    pub async fn begin(&self) -> Result<Upload> {
        let url = self.url("blobs/uploads/");
        let response = self
            .send(|http| http.post(&url).header("content-length", "0"))
            .await?;
        if response.status() != StatusCode::ACCEPTED {
            return Err(refused(response).await);
        }
        Ok(Upload {
            location: self.location(&response)?,
            offset: 0,
        })
    }

    /// Where an upload stands after its connection broke, as the distribution spec has it: `GET` on
    /// the upload answers 204 with `Range: 0-LAST` and the Location to go on at; the upload then
    /// continues from LAST + 1. `None` when the registry has lost the upload or can't say (the
    /// distribution registry 2.x cancels an upload whose last request broke off mid-body), or says
    /// `0-0` (nothing, or one byte: the spec can't tell them apart).
    pub async fn upload_status(&self, upload: &mut Upload) -> Option<u64> {
        let location = upload.location.clone();
        let response = self.send(|http| http.get(&location)).await.ok()?;
        if response.status() != StatusCode::NO_CONTENT {
            return None;
        }
        let last = response
            .headers()
            .get("range")
            .and_then(|v| v.to_str().ok())
            .and_then(|range| range.strip_prefix("0-"))
            .and_then(|last| last.parse::<u64>().ok())
            .filter(|last| *last > 0)?;
        if response.headers().contains_key("location") {
            upload.location = self.location(&response).ok()?;
        }
        upload.offset = last + 1;
        Some(upload.offset)
    }

    /// Sends the next chunk (at most [`Session::chunk_size`] bytes).
    pub async fn send_chunk(&self, upload: &mut Upload, chunk: Bytes) -> Result<()> {
        if chunk.is_empty() {
            return Ok(());
        }
        let start = upload.offset;
        let end = start + chunk.len() as u64 - 1;
        let location = upload.location.clone();
        let response = self
            .send_upload(|http| {
                http.patch(&location)
                    .header("content-type", "application/octet-stream")
                    .header("content-range", format!("{start}-{end}"))
                    .body(chunk.clone())
            })
            .await?;
        if response.status() != StatusCode::ACCEPTED {
            return Err(refused(response).await);
        }
        upload.location = self.location(&response)?;
        upload.offset = end + 1;
        Ok(())
    }

    /// Closes the upload as blob `digest`; the registry checks the digest.
    pub async fn finish(&self, upload: Upload, digest: &str) -> Result<()> {
        let mut url = url::Url::parse(&upload.location)
            .map_err(|_| protocol(&self.base, "sent an unreadable upload Location"))?;
        url.query_pairs_mut().append_pair("digest", digest);
        // The registry checks the whole blob before it answers: no deadline but the client's.
        let response = self
            .send_upload(|http| http.put(url.clone()).header("content-length", "0"))
            .await?;
        if response.status() != StatusCode::CREATED {
            return Err(refused(response).await);
        }
        Ok(())
    }

    /// Abandons an upload session so that nothing half-written stays behind. Best effort.
    pub async fn cancel(&self, upload: Upload) {
        let _ = self
            .send(|http| http.request(Method::DELETE, &upload.location))
            .await;
    }

    /// Uploads a small blob held in memory (a config) unless the repository has it: `POST`, then one
    /// `PUT ?digest=` carrying it (chunks only where the registry refused whole blobs).
    pub async fn put_small_blob(&self, digest: &str, data: Bytes) -> Result<()> {
        if self.blob_size(digest).await?.is_some() {
            return Ok(());
        }
        let mut upload = self.begin().await?;
        if self.chunks_only() {
            let mut rest = data;
            while !rest.is_empty() {
                let take = rest.len().min(FALLBACK_CHUNK);
                self.send_chunk(&mut upload, rest.split_to(take)).await?;
            }
            return self.finish(upload, digest).await;
        }
        let mut url = url::Url::parse(&upload.location)
            .map_err(|_| protocol(&self.base, "sent an unreadable upload Location"))?;
        url.query_pairs_mut().append_pair("digest", digest);
        let response = self
            .send_upload(|http| {
                http.put(url.clone())
                    .header("content-type", "application/octet-stream")
                    .body(data.clone())
            })
            .await?;
        if response.status() != StatusCode::CREATED {
            return Err(refused(response).await);
        }
        Ok(())
    }

    /// Stores `manifest` (of `media_type`) under `reference` (a tag or a digest); returns its digest.
    pub async fn put_manifest(
        &self,
        reference: &str,
        media_type: &str,
        manifest: Bytes,
    ) -> Result<String> {
        let url = self.url(&format!("manifests/{reference}"));
        let response = self
            .send(|http| {
                http.put(&url)
                    .header("content-type", media_type)
                    .body(manifest.clone())
            })
            .await?;
        let status = response.status();
        if status != StatusCode::CREATED && status != StatusCode::OK {
            return Err(refused(response).await);
        }
        Ok(response
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .unwrap_or_else(|| crate::digest::sha256_digest(&manifest)))
    }

    /// Whether the registry has a manifest under `reference` (a `HEAD`, any manifest or index type).
    pub async fn has_manifest(&self, reference: &str) -> Result<bool> {
        Ok(self.head_manifest(reference).await?.is_some())
    }

    /// The digest of the manifest stored under `reference` (a `HEAD`), `None` when there is none
    /// (or the registry doesn't say it).
    pub async fn manifest_digest(&self, reference: &str) -> Result<Option<String>> {
        Ok(self.head_manifest(reference).await?.and_then(|headers| {
            headers
                .get("docker-content-digest")
                .and_then(|v| v.to_str().ok())
                .filter(|d| crate::archive::is_sha256_digest(d))
                .map(str::to_string)
        }))
    }

    /// A `HEAD` of the manifest under `reference` (any manifest or index type): its headers, `None`
    /// when there is none.
    async fn head_manifest(&self, reference: &str) -> Result<Option<reqwest::header::HeaderMap>> {
        let url = self.url(&format!("manifests/{reference}"));
        let accept = crate::archive::MANIFEST_TYPES.join(", ");
        let response = self
            .send(|http| http.head(&url).header("accept", &accept))
            .await?;
        match response.status() {
            StatusCode::OK => Ok(Some(response.headers().clone())),
            StatusCode::NOT_FOUND => Ok(None),
            _ => Err(refused(response).await),
        }
    }

    /// The manifest stored under `reference`, with its media type; `None` when there is none.
    pub async fn manifest(
        &self,
        reference: &str,
        accept: &[&str],
    ) -> Result<Option<(String, Bytes)>> {
        let url = self.url(&format!("manifests/{reference}"));
        let accept = accept.join(", ");
        let response = self
            .send(|http| http.get(&url).header("accept", &accept))
            .await?;
        match response.status() {
            StatusCode::OK => {
                let media_type = response
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                let body = read_body(response, Limit::MANIFEST)
                    .await
                    .map_err(|e| protocol(&self.base, &format!("{} (a manifest)", e.describe())))?;
                Ok(Some((media_type, body)))
            }
            StatusCode::NOT_FOUND => Ok(None),
            _ => Err(refused(response).await),
        }
    }
}

/// How long the registry may take to answer a request that carries no blob (a check, a token, a
/// manifest): a peer that accepts and then says nothing, or a byte a second, is given up on.
const ANSWER_DEADLINE: Duration = Duration::from_secs(30);

/// Sends `request` and waits for the answer's head, within `deadline` when there is one.
async fn answer_within(
    deadline: Option<Duration>,
    request: RequestBuilder,
    base: &str,
) -> Result<Response> {
    let sent = request.send();
    let answered = match deadline {
        Some(deadline) => tokio::time::timeout(deadline, sent)
            .await
            .map_err(|_| no_answer_in_time(base))?,
        None => sent.await,
    };
    answered.map_err(|e| unreachable(base, &e))
}

fn no_answer_in_time(base: &str) -> Error {
    Error::new(
        Code::RegistryUnreachable,
        format!("Cannot reach the registry at {base}: no answer in time"),
        "Check your network connection (and GHCR_REGISTRY if you set it); pushing again skips the layers already uploaded.",
    )
}

fn unreachable_code<T>() -> Result<T> {
    Err(Error::new(
        Code::RegistryProtocol,
        "The registry kept refusing a fresh token",
        "Sign in again in Account.",
    ))
}
