// The person's choices the page keeps (localStorage; never a token): the layer compression to push
// with, per owner — gzip, which every client pulls, unless zstd was chosen in Settings.
const COMPRESSION_KEY = 'ghcr.compression';

function stored() {
  try {
    const kept = JSON.parse(localStorage.getItem(COMPRESSION_KEY) || '{}');
    return kept && typeof kept === 'object' && !Array.isArray(kept) ? kept : {};
  } catch {
    return {}; // a damaged entry is dropped
  }
}

// 'gzip' or 'zstd' for pushes to `owner` (lowercase).
export function compressionFor(owner) {
  return stored()[owner] === 'zstd' ? 'zstd' : 'gzip';
}

export function setCompressionFor(owner, compression) {
  const kept = stored();
  if (compression === 'zstd') kept[owner] = 'zstd';
  else delete kept[owner];
  localStorage.setItem(COMPRESSION_KEY, JSON.stringify(kept));
}

// Who can pull zstd layers, in one line (the push dialog's, Settings', the card's tooltip).
export const ZSTD_NOTE = 'Docker 23 and later, containerd, Podman and skopeo pull zstd layers; Docker 20.10 (Debian 12’s docker.io, Synology) can’t.';
