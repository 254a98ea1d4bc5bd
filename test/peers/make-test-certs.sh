#!/usr/bin/env bash
# Makes throw-away TLS material for tests with the openssl CLI (EC P-256,
# valid 2 days), in DIR:
#   ca.pem, ca.key                  a test CA
#   server.pem, server.key          for 127.0.0.1: SAN IP:127.0.0.1, DNS:localhost; signed by ca
#   other-ca.pem, other-ca.key      a second, unrelated CA
#   wrong.pem, wrong.key            same SANs as server.pem, but signed by other-ca
#                                   (a client trusting ca.pem fails the handshake)
#   wrong-host.pem, wrong-host.key  signed by ca, but only for DNS:wrong-host.invalid
#                                   (a client trusting ca.pem fails on the host name)
# Idempotent: when every file is there, the certificates chain as above and
# stay valid for at least another 6 hours, nothing is touched; otherwise all of
# them are made again. Quiet: prints nothing unless something fails.
#   test/peers/make-test-certs.sh DIR
set -euo pipefail

[[ $# -eq 1 && -n $1 ]] || { echo "usage: $0 DIR" >&2; exit 2; }
dir=$1
command -v openssl >/dev/null || { echo "make-test-certs.sh: openssl not found" >&2; exit 1; }
mkdir -p "$dir"

files=(ca.pem ca.key server.pem server.key other-ca.pem other-ca.key wrong.pem wrong.key wrong-host.pem wrong-host.key)

# .complete is written after the last file moved in, so a run cut short is redone.
still_good() {
  local f soon
  [[ -f "$dir/.complete" ]] || return 1
  for f in "${files[@]}"; do [[ -s "$dir/$f" ]] || return 1; done
  soon=$(( $(date +%s) + 21600 ))
  # verify checks the chain and that leaf and CA are both valid at -attime.
  openssl verify -attime "$soon" -CAfile "$dir/ca.pem" "$dir/server.pem" >/dev/null 2>&1 || return 1
  openssl verify -attime "$soon" -CAfile "$dir/ca.pem" "$dir/wrong-host.pem" >/dev/null 2>&1 || return 1
  openssl verify -attime "$soon" -CAfile "$dir/other-ca.pem" "$dir/wrong.pem" >/dev/null 2>&1 || return 1
  return 0
}
still_good && exit 0

work=$(mktemp -d "$dir/.make-test-certs.XXXXXX")
trap 'rm -rf "$work"' EXIT
log="$work/openssl.log"
run() { "$@" >>"$log" 2>&1 || { echo "make-test-certs.sh: failed: $*" >&2; cat "$log" >&2; exit 1; }; }

newkey() { run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/$1.key"; }

# newca NAME CN
newca() {
  newkey "$1"
  run openssl req -x509 -new -key "$work/$1.key" -out "$work/$1.pem" -days 2 -sha256 \
    -set_serial "0x$(openssl rand -hex 16)" -subj "/CN=$2" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash"
}

# newleaf NAME CA CN SAN
newleaf() {
  newkey "$1"
  run openssl req -new -key "$work/$1.key" -out "$work/$1.csr" -subj "/CN=$3"
  cat >"$work/$1.ext" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=$4
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid:always
EOF
  run openssl x509 -req -in "$work/$1.csr" -CA "$work/$2.pem" -CAkey "$work/$2.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days 2 -sha256 -extfile "$work/$1.ext" -out "$work/$1.pem"
}

newca ca "punt test CA"
newca other-ca "punt other test CA (not trusted)"
newleaf server ca 127.0.0.1 "IP:127.0.0.1,DNS:localhost"
newleaf wrong other-ca 127.0.0.1 "IP:127.0.0.1,DNS:localhost"
newleaf wrong-host ca wrong-host.invalid "DNS:wrong-host.invalid"

chmod 600 "$work"/*.key
chmod 644 "$work"/*.pem
rm -f "$dir/.complete"
for f in "${files[@]}"; do mv -f "$work/$f" "$dir/$f"; done
: >"$dir/.complete"
