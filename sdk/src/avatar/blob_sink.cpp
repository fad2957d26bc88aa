#include "avatar/blob_sink.h"

namespace imsdc::avatar {

Status BlobSink::open(const imsdc_port_storage& storage, const std::string& name) {
  if (blob_) return Status(Code::kState, Module::kAvatar, "blob already open");
  if (storage.version < 1 || !storage.blob_open || !storage.blob_write || !storage.blob_commit ||
      !storage.blob_abort)
    return Status(Code::kPortFailure, Module::kAvatar, "storage port lacks blob methods");
  imsdc_port_blob* b = nullptr;
  if (storage.blob_open(storage.ctx, name.c_str(), &b) != 0 || !b)
    return Status(Code::kIo, Module::kAvatar, "storage refused to open the blob");
  storage_ = &storage;
  blob_ = b;
  return Status::ok();
}

Status BlobSink::write(ByteSpan data) {
  if (!blob_) return Status(Code::kState, Module::kAvatar, "blob not open");
  if (data.empty()) return Status::ok();
  if (storage_->blob_write(blob_, data.data(), data.size()) != 0)
    return Status(Code::kIo, Module::kAvatar, "storage write failed");
  return Status::ok();
}

Status BlobSink::commit() {
  if (!blob_) return Status(Code::kState, Module::kAvatar, "blob not open");
  imsdc_port_blob* b = blob_;
  blob_ = nullptr; // commit frees the blob whether it succeeds or not
  if (storage_->blob_commit(b) != 0)
    return Status(Code::kIo, Module::kAvatar, "storage commit failed");
  return Status::ok();
}

void BlobSink::abort() {
  if (!blob_) return;
  storage_->blob_abort(blob_);
  blob_ = nullptr;
}

} // namespace imsdc::avatar
