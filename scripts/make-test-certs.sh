#!/usr/bin/env bash
# Regenerates the TEST-ONLY certificates in test/fixtures/tls (needs openssl >= 1.1.1):
# a test CA, a server certificate for 127.0.0.1 / localhost / api.bfly.test signed by it,
# one for another host, and one that expired in 2021. Valid from 2020 to 2120, so neither a
# machine whose clock is a little behind nor the next hundred years break the tests.
# The keys are public: never trust them anywhere else.
set -euo pipefail
out="$(cd "$(dirname "$0")/.." && pwd)/test/fixtures/tls"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
mkdir -p db && : > db/index.txt && openssl rand -hex 16 > db/serial
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
unique_subject = no
[any]
commonName = supplied
CNF
# `openssl ca` takes explicit start and end dates (`req -x509` only counts days from now).
sign() { # name, extensions file, start, end, extra args...
  local name="$1" ext="$2" start="$3" end="$4"
  shift 4
  openssl ca -batch -config ca.cnf -keyfile ca.key -in "$name.csr" -out "$name.pem" -notext \
    -startdate "$start" -enddate "$end" -extfile "$ext" "$@" 2>/dev/null
}
request() { # name, subject
  openssl req -new -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
}
leaf() { # name, subjectAltName
  request "$1" "/CN=$1"
  printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nauthorityKeyIdentifier=keyid\n' "$2" > "$1.ext"
}

request ca "/CN=bfly test CA"
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n' > ca.ext
sign ca ca.ext 20200101000000Z 21200101000000Z -selfsign

leaf server "IP:127.0.0.1,DNS:localhost,DNS:api.bfly.test"
sign server server.ext 20200101000000Z 21200101000000Z -cert ca.pem
leaf other-host "DNS:other.bfly.test"
sign other-host other-host.ext 20200101000000Z 21200101000000Z -cert ca.pem
leaf expired "IP:127.0.0.1,DNS:localhost,DNS:api.bfly.test"
sign expired expired.ext 20200101000000Z 20210101000000Z -cert ca.pem

mkdir -p "$out"
cp ca.pem ca.key server.pem server.key other-host.pem other-host.key expired.pem expired.key "$out/"
echo "wrote $out"
