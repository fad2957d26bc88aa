#!/usr/bin/env bash
# The C API against the real labnet eP-CSCF (Kamailio 5.6, ctest label "labnet"):
#   capi_test.sh TEST_CAPI [--keep]
# test_capi (a C11 program using only sdk/include/imsdc/imsdc.h) registers alice (digest
# SHA-256), bob (digest MD5) and a WWSF bearer-token identity over WSS, sees a wrong password
# rejected, then alice calls bob through Kamailio with a data-channel SDP offer made by the C
# API; bob answers with his peer's answer; the data channel (ICE, DTLS, SCTP over loopback
# UDP) carries messages echoed byte for byte; alice hangs up. With node and jose installed
# (toolchains/install-deps.sh node) the labnet BAR (bar/bar.mjs, mutual TLS) also runs: alice
# fetches her avatar through the C API (sending-ue, streamed JWE decryption into the state
# directory, compared byte for byte) and is refused another subscriber's. Both de-register.
# Kamailio and the BAR run on free ports of their own and are stopped on exit.
set -euo pipefail
TEST_CAPI=$1
KEEP=0
[[ ${2:-} == --keep ]] && KEEP=1
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
T=$(mktemp -d /tmp/imsdc-capi-labnet.XXXXXX)
D=$T/epcscf
# shellcheck source=SCRIPTDIR/lib.sh
source "$HERE/lib.sh"

# Device certificates and the operator CA (make_fixtures.sh uses tests/labnet/ca/make-ca.sh);
# Kamailio's server certificate comes from the same CA.
bash "$HERE/../capi/make_fixtures.sh" "$T/fx"
start_kamailio --ca "$T/fx/ca"
IMPU=sip:user1@wwsf.ims.example
/usr/bin/python3 "$HERE/kamailio/wwsf-token.py" --key "$D/wwsf/wwsf-key.pem" \
  --sub user1@wwsf.ims.example --impu "$IMPU" >"$T/token"
mkdir -p "$T/state"

# The labnet BAR (as tests/labnet/avatar_test.sh runs it), when node and jose are there.
BAR=-
if command -v node >/dev/null && [[ -d $HERE/../interop/node_modules/jose ]]; then
  bash "$HERE/ca/make-ca.sh" server "$T/fx/ca" localhost "$T/fx/bar" >/dev/null
  head -c 200000 /dev/urandom >"$T/fx/alice.glb"
  head -c 1000 /dev/urandom >"$T/fx/bob.glb"
  cat >"$T/fx/bar.json" <<JSON
{"bar_id":"bar.ims.example","ca":"ca/root.pem","cert":"bar.pem","key":"bar-key.pem",
 "subscribers":{"sip:alice@ims.example":["av-alice"],"sip:bob@ims.example":["av-bob"]},
 "avatars":{"av-alice":{"file":"alice.glb","cty":"model/gltf-binary"},
            "av-bob":{"file":"bob.glb","cty":"model/gltf-binary"}}}
JSON
  start_bar "$T/fx/bar.json" "$T/bar.log"
fi

timeout 240 "$TEST_CAPI" "$T/fx" labnet "wss://localhost:$PORT" "$D/tls/ca.pem" \
  "$D/passwords/alice" "$D/passwords/bob" "$T/token" "$IMPU" "$T/state" "$BAR" "$T/fx/alice.glb"
