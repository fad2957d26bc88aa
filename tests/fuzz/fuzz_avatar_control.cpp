// avatar-control messages: never crash; an accepted message encodes again and parses to the
// same message; a receiving session never ends up done from arbitrary input.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "avatar/control.h"

using namespace imsdc;
using namespace imsdc::avatar;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Result<ControlMessage> m = parse_control(text);
  if (m.is_ok()) {
    Result<std::string> again = encode_control(m.value());
    if (!again.is_ok()) std::abort();
    Result<ControlMessage> back = parse_control(again.value());
    if (!back.is_ok() || back->type != m->type || back->avatar_id != m->avatar_id ||
        back->jws != m->jws || back->code != m->code)
      std::abort();
  }
  ControlSession s(ControlSession::Role::kReceiver);
  (void)s.receive(text);
  if (s.state() == ControlSession::State::kDone) std::abort();
  return 0;
}
