// Where lines the model does not interpret go when an SDP is written again. The parser sorts
// such lines by these ranks and the generator writes each rank at its RFC 8866 position, so
// both agree and parse(generate(x)) == x holds exactly.
#ifndef IMSDC_SRC_SDP_SDP_LINES_H
#define IMSDC_SRC_SDP_SDP_LINES_H

namespace imsdc::sdp {

// Session level: i u e p (before c=), b (after c=), t r (repeat times), z, k, a, unknown.
inline int session_rank(char type) {
  switch (type) {
  case 'i':
    return 0;
  case 'u':
    return 1;
  case 'e':
    return 2;
  case 'p':
    return 3;
  case 'b':
    return 4;
  case 't':
  case 'r':
    return 5;
  case 'z':
    return 6;
  case 'k':
    return 7;
  case 'a':
    return 8;
  default:
    return 9;
  }
}

// Media level: i (before c=), b, k (after c=), a, unknown.
inline int media_rank(char type) {
  switch (type) {
  case 'i':
    return 0;
  case 'b':
    return 1;
  case 'k':
    return 2;
  case 'a':
    return 3;
  default:
    return 4;
  }
}

} // namespace imsdc::sdp

#endif // IMSDC_SRC_SDP_SDP_LINES_H
