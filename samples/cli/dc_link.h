// One data-channel link of the CLI over real UDP (cmd_dc.cpp): SDP offer/answer through
// files, ICE, DTLS, SCTP, and one in-band channel. `imsdc dc peer` drives it with its test
// messages; an application (the avatar fetch over a DC, the DC AS relay) plugs in a DcApp that
// owns the channel.
#ifndef IMSDC_CLI_DC_LINK_H
#define IMSDC_CLI_DC_LINK_H

#include <cstdint>
#include <string>

#include "cli.h"
#include "dc/association.h"
#include "imsdc/bytes.h"
#include "imsdc/status.h"

namespace imsdc::cli {

// An application on the link's channel. All calls come from the link's loop.
class DcApp {
public:
  virtual ~DcApp() = default;
  // The channel the offerer opens (DCEP) and the answerer accepts.
  virtual const char* label() const = 0;
  virtual const char* protocol() const = 0;
  // The channel is open (both roles); `assoc` stays valid until the link ends.
  virtual void on_open(dc::Association& assoc, std::uint16_t sid) = 0;
  virtual void on_message(ByteSpan data, bool binary) = 0;
  // The association can take more (after a kWouldBlock).
  virtual void on_writable() {}
  // The channel was closed by the peer or the association ended.
  virtual void on_closed() = 0;
  // Once per loop turn; the loop waits at most the returned milliseconds for the sockets.
  virtual std::uint32_t poll(std::uint64_t now_ms) = 0;
  // True once the application is finished; *result says how.
  virtual bool finished(Status* result) const = 0;
};

struct LinkParams {
  bool offerer = false;
  std::string sdp_in, sdp_out;
  long timeout_s = 30;
};

// Runs the link with `app` on its channel until the app finishes, the peer closes the
// channel, SIGTERM or the timeout; the device key comes from the keystore options in `a`
// (--key/--cert, --dir, --pkcs11; a fresh self-signed one without). Returns the exit code.
int run_dc_link(const Args& a, const LinkParams& p, DcApp* app);

} // namespace imsdc::cli

#endif // IMSDC_CLI_DC_LINK_H
