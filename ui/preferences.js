// The person's choices the page keeps (localStorage; never a token): the layer compression to push
// with, per owner — gzip, which every client pulls, unless zstd was chosen in Settings; and where they
// were — the view, and Images' filter, sort and selected row — so a restart opens where they left off.
const COMPRESSION_KEY = 'ghcr.compression';
const PLACE_KEY = 'ghcr.place';

function stored(key = COMPRESSION_KEY) {
  try {
    const kept = JSON.parse(localStorage.getItem(key) || '{}');
    return kept && typeof kept === 'object' && !Array.isArray(kept) ? kept : {};
  } catch {
    return {}; // a damaged entry is dropped
  }
}

// Where the person was: {view, images: {filter, sort, showUntagged, selected}}; parts never kept are
// missing.
export function place() {
  return stored(PLACE_KEY);
}

// Keeps `part` (e.g. {view: 'pushes'}) in the place, beside what is kept already.
export function keepPlace(part) {
  localStorage.setItem(PLACE_KEY, JSON.stringify({ ...place(), ...part }));
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
