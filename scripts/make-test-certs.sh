#!/usr/bin/env bash
# Regenerates the TEST-ONLY certificates in test/fixtures/tls (needs openssl >= 3):
# a test CA, a server certificate for 127.0.0.1 / localhost / api.bfly.test signed by it,
# one for another host, and one that expired in 2021. The keys are public: never trust them.
set -euo pipefail
out="$(cd "$(dirname "$0")/.." && pwd)/test/fixtures/tls"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 36500 -subj "/CN=bfly test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
leaf() { # name, subjectAltName
  openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$1" 2>/dev/null
  printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$2" > "$1.ext"
}
leaf server "IP:127.0.0.1,DNS:localhost,DNS:api.bfly.test"
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 36500 -extfile server.ext 2>/dev/null
leaf other-host "DNS:other.bfly.test"
openssl x509 -req -in other-host.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out other-host.pem -days 36500 -extfile other-host.ext 2>/dev/null
# An expired certificate needs explicit dates: `openssl ca` takes them.
leaf expired "IP:127.0.0.1,DNS:localhost,DNS:api.bfly.test"
mkdir -p db && : > db/index.txt && echo 01 > db/serial
cat > ca.cnf <<CNF
[ca]
default_ca = test
[test]
dir = db
database = db/index.txt
serial = db/serial
new_certs_dir = db
default_md = sha256
policy = any
copy_extensions = none
[any]
commonName = supplied
CNF
openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in expired.csr -out expired.pem -notext \
  -startdate 20200101000000Z -enddate 20210101000000Z -extfile expired.ext 2>/dev/null
mkdir -p "$out"
cp ca.pem ca.key server.pem server.key other-host.pem other-host.key expired.pem expired.key "$out/"
echo "wrote $out"
