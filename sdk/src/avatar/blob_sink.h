// RAII wrapper around the storage port's blob sink: checks the port contract, maps port
// errors to kIo, and aborts on destruction unless committed, so no error path can leave a
// partially written representation behind.
#ifndef IMSDC_SRC_AVATAR_BLOB_SINK_H
#define IMSDC_SRC_AVATAR_BLOB_SINK_H

#include <string>

#include "imsdc/bytes.h"
#include "imsdc/port/storage.h"
#include "imsdc/status.h"

namespace imsdc::avatar {

class BlobSink {
public:
  BlobSink() = default;
  ~BlobSink() { abort(); }
  BlobSink(const BlobSink&) = delete;
  BlobSink& operator=(const BlobSink&) = delete;

  // Opens a blob to be published as `name`. Errors: kPortFailure (version or methods
  // missing), kState (already open), kIo (the port refused).
  Status open(const imsdc_port_storage& storage, const std::string& name);
  // Errors: kState (not open), kIo.
  Status write(ByteSpan data);
  // Publishes the blob. Errors: kState, kIo (the port already discarded the blob).
  Status commit();
  // Discards the blob if one is open; a no-op otherwise.
  void abort();
  bool is_open() const { return blob_ != nullptr; }

private:
  const imsdc_port_storage* storage_ = nullptr;
  imsdc_port_blob* blob_ = nullptr;
};

} // namespace imsdc::avatar

#endif // IMSDC_SRC_AVATAR_BLOB_SINK_H
