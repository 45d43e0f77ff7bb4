//! Content digests as the registry writes them (`sha256:<64 hex>`), for whole buffers and for streams
//! hashed piece by piece.

use sha2::{Digest, Sha256};

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(DIGITS[(byte >> 4) as usize] as char);
        text.push(DIGITS[(byte & 15) as usize] as char);
    }
    text
}

/// `sha256:…` of `data`.
pub fn sha256_digest(data: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(data)))
}

/// A running sha256 that also counts bytes.
#[derive(Default, Clone)]
pub struct Hasher {
    sha: Sha256,
    pub bytes: u64,
}

impl Hasher {
    pub fn update(&mut self, data: &[u8]) {
        self.sha.update(data);
        self.bytes += data.len() as u64;
    }

    /// `sha256:…` of everything seen.
    pub fn digest(self) -> String {
        format!("sha256:{}", hex(&self.sha.finalize()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_match_sha256sum() {
        // printf abc | sha256sum
        assert_eq!(
            sha256_digest(b"abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let mut streamed = Hasher::default();
        streamed.update(b"a");
        streamed.update(b"bc");
        assert_eq!(streamed.bytes, 3);
        assert_eq!(streamed.digest(), sha256_digest(b"abc"));
    }
}
