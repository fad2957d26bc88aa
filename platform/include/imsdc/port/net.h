/* Network port: non-blocking UDP sockets, IPv4 and IPv6 (media: ICE, DTLS, SCTP). */
#ifndef IMSDC_PORT_NET_H
#define IMSDC_PORT_NET_H

#include "imsdc/port/port.h"

#ifdef __cplusplus
extern "C" {
#endif

#define IMSDC_PORT_NET_VERSION 1

enum imsdc_addr_family { IMSDC_AF_INET4 = 4, IMSDC_AF_INET6 = 6 };

typedef struct imsdc_port_addr {
  uint8_t family;    /* IMSDC_AF_INET4 or IMSDC_AF_INET6 */
  uint8_t addr[16];  /* network byte order; IPv4 uses the first 4 bytes */
  uint16_t port;     /* host byte order */
  uint32_t scope_id; /* IPv6 link-local scope, else 0 */
} imsdc_port_addr;

typedef struct imsdc_port_udp imsdc_port_udp; /* port-defined socket */

typedef struct imsdc_port_net {
  int version; /* IMSDC_PORT_NET_VERSION */
  void* ctx;

  /* Opens a non-blocking UDP socket bound to `local` (port 0 = any). On success sets *out
   * and writes the actual bound address back into *local. */
  int (*udp_open)(void* ctx, imsdc_port_addr* local, imsdc_port_udp** out);
  /* Sends one datagram. Returns len, 0 when it would block, <0 on error. Never partial. */
  int (*udp_send)(imsdc_port_udp* s, const imsdc_port_addr* to, const uint8_t* data, size_t len);
  /* Receives one datagram if ready. Returns its length, 0 when none is ready, <0 on error.
   * A datagram longer than cap is truncated and reported as IMSDC_PORT_ENOSPC. */
  int (*udp_recv)(imsdc_port_udp* s, imsdc_port_addr* from, uint8_t* out, size_t cap);
  void (*udp_close)(imsdc_port_udp* s);
  /* Lists local unicast addresses usable for host candidates (no loopback unless
   * include_loopback). Returns the count written (<= cap) or <0. NULL: none known. */
  int (*local_addresses)(void* ctx, int include_loopback, imsdc_port_addr* out, size_t cap);
  /* Waits up to timeout_ms for any of the sockets to become readable. Returns >0 when one
   * is, 0 on timeout, <0 on error. NULL: the SDK polls without waiting. */
  int (*wait)(void* ctx, imsdc_port_udp* const* socks, size_t count, uint32_t timeout_ms);
} imsdc_port_net;

#ifdef __cplusplus
}
#endif

#endif /* IMSDC_PORT_NET_H */
