// SIP message parser: never crashes on any input, every accessor is safe on what it
// accepts, and re-parsing the stored text (folding joined, trailing bytes dropped) yields
// the same message: the parser is idempotent on its own output.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "sip/message.h"
#include "sip/uri.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace imsdc::sip;
  auto m = parse_message(imsdc::ByteSpan(data, size));
  if (!m.is_ok()) return 0;
  for (std::size_t i = 0; i < m->header_count(); ++i) {
    auto values = m->header_values(m->header_name(i));
    if (!values.is_ok()) continue;
    for (std::string_view v : values.value()) {
      (void)parse_name_addr(v);
      (void)parse_via(v);
    }
  }
  (void)parse_uri(m->request_uri());
  std::string text(m->text());
  auto again = parse_message(imsdc::ByteSpan(text));
  if (!again.is_ok() || again->text() != m->text() || again->header_count() != m->header_count() ||
      again->body().size() != m->body().size() || again->status_code() != m->status_code() ||
      again->method() != m->method() || again->cseq().number != m->cseq().number) {
    std::abort();
  }
  for (std::size_t i = 0; i < m->header_count(); ++i) {
    if (again->header_name(i) != m->header_name(i) || again->header_value(i) != m->header_value(i))
      std::abort();
  }
  return 0;
}
