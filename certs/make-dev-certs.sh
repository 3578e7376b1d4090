#!/bin/sh
# Makes a DEVELOPMENT certificate authority and a server certificate for localhost.
# These are for trying tenantgate on one machine; they are not production secrets.
# For production, point tls.cert / tls.key (and clients' sslrootcert) at certificates
# from your own CA; see README "TLS certificates".
#
#   sh certs/make-dev-certs.sh [--if-missing] [DIR]     (DIR defaults to this script's folder)
set -eu
if_missing=0
if [ "${1:-}" = "--if-missing" ]; then if_missing=1; shift; fi
dir=${1:-$(dirname "$0")}
mkdir -p "$dir"
if [ "$if_missing" = 1 ] && [ -f "$dir/server.crt" ] && [ -f "$dir/server.key" ] && [ -f "$dir/ca.crt" ]; then
  exit 0
fi
command -v openssl >/dev/null 2>&1 || { echo "make-dev-certs: openssl is required" >&2; exit 1; }
umask 077
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
openssl req -x509 -newkey rsa:2048 -nodes -days 825 -sha256 \
  -subj "/CN=tenantgate development CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -keyout "$tmp/ca.key" -out "$tmp/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=localhost" \
  -keyout "$tmp/server.key" -out "$tmp/server.csr" 2>/dev/null
printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
  "extendedKeyUsage=serverAuth" "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" > "$tmp/ext.cnf"
openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.crt" -CAkey "$tmp/ca.key" -CAcreateserial \
  -days 825 -sha256 -extfile "$tmp/ext.cnf" -out "$tmp/server.crt" 2>/dev/null
chmod 600 "$tmp/server.key" "$tmp/ca.key"
chmod 644 "$tmp/server.crt" "$tmp/ca.crt"
mv "$tmp/ca.key" "$tmp/ca.crt" "$tmp/server.key" "$tmp/server.crt" "$dir/"
echo "make-dev-certs: development CA and server certificate written to $dir (not for production)"
