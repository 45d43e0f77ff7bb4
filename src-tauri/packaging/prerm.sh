#!/bin/sh
# Run by dpkg and rpm before GHCR Desktop is removed (not upgraded): a docker config.json that hands
# ghcr.io to docker-credential-ghcr-desktop (`ghcr docker-setup`) would make docker's ghcr.io commands
# fail once the helper is gone. It names each such file and how to undo it; it changes none of them
# (they are the users' own files, and the token to put back is in their keyring).
case "$1" in
  remove | 0) ;;
  *) exit 0 ;;
esac
for config in /root/.docker/config.json /home/*/.docker/config.json; do
  [ -f "$config" ] || continue
  grep -q '"ghcr-desktop"' "$config" 2>/dev/null || continue
  echo "GHCR Desktop: $config hands ghcr.io to docker-credential-ghcr-desktop, which is being removed."
  echo "  Docker's ghcr.io commands will fail until that entry goes: delete the line \"ghcr.io\": \"ghcr-desktop\""
  echo "  under credHelpers in that file (ghcr docker-setup --undo, run before removing, puts back what it replaced)."
done
exit 0
