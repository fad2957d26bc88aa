// SDP corpus in tests/unit/data/sdp (data/sdp/README.md says where each file comes from).
// Shared by the host unit tests (tests/unit) and the on-target runner (tests/target), so both
// check the same vectors byte for byte.
#ifndef IMSDC_TESTS_VECTORS_SDP_VECTORS_H
#define IMSDC_TESTS_VECTORS_SDP_VECTORS_H

namespace imsdc::test_vectors {

const char* const kCorpus[] = {"chromium156_offer.sdp",  "chromium156_answer.sdp",
                               "chromium_offer.sdp",     "ts26114_a17_offer.sdp",
                               "ts26114_a17_answer.sdp", "ims_offer_no_ice.sdp",
                               "legacy_offer.sdp"};

} // namespace imsdc::test_vectors

#endif // IMSDC_TESTS_VECTORS_SDP_VECTORS_H
