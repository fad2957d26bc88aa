// POSIX network port: non-blocking UDP over BSD sockets, IPv4 and IPv6.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <new>
#include <vector>

#include "imsdc/port/net.h"
#include "imsdc/port/os.h"
#include "imsdc/port_posix.h"

struct imsdc_port_udp {
  int fd;
  std::uint8_t family; // IMSDC_AF_INET4 or IMSDC_AF_INET6
};

namespace imsdc::posix {
namespace {

// Converts to a sockaddr of the socket's family. Returns its length, or 0 when the address
// cannot be expressed in that family.
socklen_t to_sockaddr(const imsdc_port_addr& a, sockaddr_storage* ss) {
  std::memset(ss, 0, sizeof *ss);
  if (a.family == IMSDC_AF_INET4) {
    auto* sin = reinterpret_cast<sockaddr_in*>(ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(a.port);
    std::memcpy(&sin->sin_addr, a.addr, 4);
    return sizeof(sockaddr_in);
  }
  if (a.family == IMSDC_AF_INET6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(a.port);
    std::memcpy(&sin6->sin6_addr, a.addr, 16);
    sin6->sin6_scope_id = a.scope_id;
    return sizeof(sockaddr_in6);
  }
  return 0;
}

bool from_sockaddr(const sockaddr* sa, imsdc_port_addr* out) {
  std::memset(out, 0, sizeof *out);
  if (sa->sa_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(sa);
    out->family = IMSDC_AF_INET4;
    std::memcpy(out->addr, &sin->sin_addr, 4);
    out->port = ntohs(sin->sin_port);
    return true;
  }
  if (sa->sa_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(sa);
    out->family = IMSDC_AF_INET6;
    std::memcpy(out->addr, &sin6->sin6_addr, 16);
    out->port = ntohs(sin6->sin6_port);
    out->scope_id = sin6->sin6_scope_id;
    return true;
  }
  return false;
}

int map_errno(int e) {
  switch (e) {
  case EAFNOSUPPORT:
  case EPROTONOSUPPORT:
  case EADDRNOTAVAIL:
    return IMSDC_PORT_EUNSUPP;
  case EACCES:
  case EPERM:
    return IMSDC_PORT_EDENIED;
  case ENOMEM:
  case ENOBUFS:
  case EMFILE:
  case ENFILE:
    return IMSDC_PORT_ENOMEM;
  case EMSGSIZE:
    return IMSDC_PORT_ENOSPC;
  case EINVAL:
  case EDESTADDRREQ:
    return IMSDC_PORT_EINVAL;
  case EBADF:
  case ENOTSOCK:
    return IMSDC_PORT_ECLOSED;
  default:
    return IMSDC_PORT_EIO;
  }
}

int set_nonblocking_cloexec(int fd) {
  int fl = fcntl(fd, F_GETFL, 0);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return -1;
  int fdfl = fcntl(fd, F_GETFD, 0);
  if (fdfl < 0 || fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) < 0) return -1;
  return 0;
}

int udp_open(void* /*ctx*/, imsdc_port_addr* local, imsdc_port_udp** out) {
  if (!local || !out) return IMSDC_PORT_EINVAL;
  *out = nullptr;
  sockaddr_storage ss;
  socklen_t sl = to_sockaddr(*local, &ss);
  if (sl == 0) return IMSDC_PORT_EUNSUPP;
  int fd = ::socket(ss.ss_family, SOCK_DGRAM, 0);
  if (fd < 0) return map_errno(errno);
  int rc = IMSDC_PORT_OK;
  if (set_nonblocking_cloexec(fd) != 0) rc = map_errno(errno);
  if (rc == IMSDC_PORT_OK && ss.ss_family == AF_INET6) {
    // One socket per family: a dual-stack socket would report IPv4 peers as ::ffff:a.b.c.d,
    // which ICE would treat as IPv6 candidates.
    int one = 1;
    if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0) rc = map_errno(errno);
  }
  if (rc == IMSDC_PORT_OK && ::bind(fd, reinterpret_cast<sockaddr*>(&ss), sl) != 0)
    rc = errno == EADDRINUSE ? IMSDC_PORT_EFAIL : map_errno(errno);
  sockaddr_storage bound;
  socklen_t bl = sizeof bound;
  if (rc == IMSDC_PORT_OK && getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bl) != 0)
    rc = map_errno(errno);
  imsdc_port_addr actual;
  if (rc == IMSDC_PORT_OK && !from_sockaddr(reinterpret_cast<sockaddr*>(&bound), &actual))
    rc = IMSDC_PORT_EIO;
  imsdc_port_udp* s = nullptr;
  if (rc == IMSDC_PORT_OK) {
    s = new (std::nothrow) imsdc_port_udp{fd, local->family};
    if (!s) rc = IMSDC_PORT_ENOMEM;
  }
  if (rc != IMSDC_PORT_OK) {
    ::close(fd);
    return rc;
  }
  *local = actual;
  *out = s;
  return IMSDC_PORT_OK;
}

int udp_send(imsdc_port_udp* s, const imsdc_port_addr* to, const uint8_t* data, size_t len) {
  if (!s || !to || (!data && len > 0)) return IMSDC_PORT_EINVAL;
  if (len > static_cast<size_t>(INT_MAX)) return IMSDC_PORT_ENOSPC;
  if (to->family != s->family) return IMSDC_PORT_EUNSUPP; // V6ONLY: no cross-family sends
  sockaddr_storage ss;
  socklen_t sl = to_sockaddr(*to, &ss);
  if (sl == 0) return IMSDC_PORT_EUNSUPP;
  for (;;) {
    ssize_t n = ::sendto(s->fd, data, len, MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&ss), sl);
    if (n >= 0) {
      // A datagram is sent whole or not at all; a short count would break the contract.
      return static_cast<size_t>(n) == len ? static_cast<int>(len) : IMSDC_PORT_EIO;
    }
    if (errno == EINTR) continue;
    // ENOBUFS: the interface queue is full; like EAGAIN, a later retry can succeed.
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) return 0;
    return map_errno(errno);
  }
}

int udp_recv(imsdc_port_udp* s, imsdc_port_addr* from, uint8_t* out, size_t cap) {
  if (!s || (!out && cap > 0)) return IMSDC_PORT_EINVAL;
  for (;;) {
    sockaddr_storage ss;
    iovec iov{out, cap};
    msghdr msg{};
    msg.msg_name = &ss;
    msg.msg_namelen = sizeof ss;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    ssize_t n = ::recvmsg(s->fd, &msg, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
      // An ICMP error queued by an earlier send (port unreachable) is not a socket failure;
      // drop it and look for the next datagram.
      if (errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH) continue;
      return map_errno(errno);
    }
    // A zero-length datagram carries nothing for ICE/DTLS/SCTP, and returning 0 would mean
    // "nothing ready": skip it.
    if (n == 0 && !(msg.msg_flags & MSG_TRUNC)) continue;
    if (from && !from_sockaddr(reinterpret_cast<sockaddr*>(&ss), from)) continue;
    if (msg.msg_flags & MSG_TRUNC) return IMSDC_PORT_ENOSPC;
    if (n > INT_MAX) return IMSDC_PORT_ENOSPC;
    return static_cast<int>(n);
  }
}

void udp_close(imsdc_port_udp* s) {
  if (!s) return;
  ::close(s->fd);
  delete s;
}

bool is_link_local(const imsdc_port_addr& a) {
  if (a.family == IMSDC_AF_INET4) return a.addr[0] == 169 && a.addr[1] == 254;
  return a.addr[0] == 0xfe && (a.addr[1] & 0xc0) == 0x80;
}

bool is_loopback_or_unspecified(const imsdc_port_addr& a) {
  if (a.family == IMSDC_AF_INET4) return a.addr[0] == 127 || a.addr[0] == 0;
  static const std::uint8_t kZero[16] = {};
  if (std::memcmp(a.addr, kZero, 15) != 0) return false;
  return a.addr[15] == 0 || a.addr[15] == 1; // :: or ::1
}

int local_addresses(void* /*ctx*/, int include_loopback, imsdc_port_addr* out, size_t cap) {
  if (!out && cap > 0) return IMSDC_PORT_EINVAL;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return map_errno(errno);
  size_t count = 0;
  for (ifaddrs* i = list; i && count < cap; i = i->ifa_next) {
    if (!i->ifa_addr || !(i->ifa_flags & IFF_UP)) continue;
    imsdc_port_addr a;
    if (!from_sockaddr(i->ifa_addr, &a)) continue;
    bool loop = (i->ifa_flags & IFF_LOOPBACK) != 0 || is_loopback_or_unspecified(a);
    if (loop) {
      if (!include_loopback) continue;
      if (a.family == IMSDC_AF_INET4 ? a.addr[0] == 0 : a.addr[15] == 0) continue; // 0.0.0.0, ::
    }
    // RFC 8445 section 5.1.1.1: link-local addresses are not host candidates.
    if (!loop && is_link_local(a)) continue;
    a.port = 0;
    if (a.family == IMSDC_AF_INET4) a.scope_id = 0;
    out[count++] = a;
  }
  freeifaddrs(list);
  return static_cast<int>(count);
}

int wait_readable(void* /*ctx*/, imsdc_port_udp* const* socks, size_t count, uint32_t timeout_ms) {
  if (!socks && count > 0) return IMSDC_PORT_EINVAL;
  std::vector<pollfd> fds;
  fds.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    if (!socks[i]) return IMSDC_PORT_EINVAL;
    fds.push_back(pollfd{socks[i]->fd, POLLIN, 0});
  }
  uint64_t deadline = imsdc_port_clock_monotonic_ms() + timeout_ms;
  for (;;) {
    uint64_t now = imsdc_port_clock_monotonic_ms();
    int left = now >= deadline ? 0 : static_cast<int>(std::min<uint64_t>(deadline - now, INT_MAX));
    int n = ::poll(fds.data(), static_cast<nfds_t>(fds.size()), left);
    if (n < 0 && errno == EINTR) continue; // a signal is not a timeout: wait out the rest
    if (n < 0) return map_errno(errno);
    // POLLERR (a queued ICMP error) also counts: udp_recv consumes it.
    return n;
  }
}

const imsdc_port_net kNet = {
    IMSDC_PORT_NET_VERSION, nullptr,       udp_open, udp_send, udp_recv, udp_close,
    local_addresses,        wait_readable,
};

} // namespace

const imsdc_port_net* net() {
  return &kNet;
}

} // namespace imsdc::posix
