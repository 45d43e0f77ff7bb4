//! `POST /images/{name}/push` with the registry credentials in `X-Registry-Auth`: opens the engine's
//! push stream for `push::engine` to read. The credentials header is built here and goes only to the
//! engine's own socket; nothing here logs or keeps it.

use super::transport::Lines;
use super::Engine;
use crate::error::{Code, Error, Result};
use crate::reference::Reference;
use crate::secret::Secret;
use base64::Engine as _;
use std::time::Duration;

/// How long the engine may take to start answering a push (it answers at once, then streams).
const OPEN_TIMEOUT: Duration = Duration::from_secs(30);

impl Engine {
    /// Starts pushing the local image `target` (which names its registry) as `username` with `token`.
    /// The returned lines are the engine's push stream; dropping them cancels the push.
    pub async fn push_stream(
        &self,
        target: &Reference,
        username: &str,
        token: &Secret,
    ) -> Result<Lines> {
        let Some(tag) = target.tag() else {
            return Err(Error::new(
                Code::ReferenceInvalid,
                format!("{target} names no tag to push"),
                "Add one, e.g. :latest",
            ));
        };
        let auth = serde_json::json!({
            "username": username,
            "password": token.expose(),
            "serveraddress": target.registry(),
        });
        let encoded = base64::engine::general_purpose::URL_SAFE.encode(auth.to_string());
        let mut header = http::HeaderValue::from_str(&encoded).map_err(|_| {
            Error::new(
                Code::TokenMalformed,
                "The token cannot be sent to the engine",
                "Paste the token again.",
            )
        })?;
        header.set_sensitive(true);
        let path = format!(
            "/v{}/images/{}/push?{}",
            self.api,
            target.repository(),
            url::form_urlencoded::Serializer::new(String::new())
                .append_pair("tag", tag)
                .finish()
        );
        let response = self
            .transport
            .open_post(&path, vec![("x-registry-auth", header)], OPEN_TIMEOUT)
            .await
            .map_err(|e| self.lost(e))?;
        let status = response.status();
        if status.as_u16() == 404 {
            return Err(Error::new(
                Code::ImageNotFound,
                format!("The engine has no image {target}"),
                "Tag the image for the registry first (Tag for GitHub, or `ghcr tag`).",
            ));
        }
        if !status.is_success() {
            return Err(self.refused_stream("push the image", response).await);
        }
        Ok(Lines::new(response.into_body()))
    }
}
