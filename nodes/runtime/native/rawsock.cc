// Raw IPv6 sockets for the MAG and LMA (nodes/runtime/raw-socket.ts wraps
// this). Written because the `raw-socket` npm addon cannot do three things
// RFC 5213 / RFC 6275 behaviour needs:
// - close-on-exec: its socket() has no SOCK_CLOEXEC, so every `ip` child the
//   node spawns inherited the MH socket (issue 18);
// - the destination of a received packet (IPV6_PKTINFO by recvmsg): the LMA
//   answers a PBU from the address it was sent to (RFC 5213 5.3.6) and an
//   ICMPv6 error quotes the invoking packet's header (RFC 4443 2.4);
// - a source address per send (IPV6_PKTINFO by sendmsg).
// Also the hop limit of a received packet (IPV6_HOPLIMIT: RFC 4861 6.1.1
// checks on RS). Node-API (C ABI, node_api.h) and libuv's uv_poll for
// readiness, as raw-socket does; built by `npm run build` with the system
// compiler (nodes/runtime/native/build.ts), no node-gyp.

#include <node_api.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

struct Sock {
  int fd = -1;
  uv_poll_t* poll = nullptr;
  napi_env env = nullptr;
  napi_ref onMessage = nullptr;
  napi_ref onError = nullptr;
  napi_async_context actx = nullptr;
  unsigned char* buf = nullptr;
  size_t bufLen = 0;
  bool closed = false;
};

napi_value throwErrno(napi_env env, const char* what, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_value code, text, e;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &text);
  napi_create_error(env, nullptr, text, &e);
  napi_create_int32(env, err, &code);
  napi_set_named_property(env, e, "errno", code);
  napi_throw(env, e);
  return nullptr;
}

napi_value throwText(napi_env env, const char* msg) {
  napi_throw_error(env, nullptr, msg);
  return nullptr;
}

void onPollClosed(uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); }

void closeSock(Sock* s) {
  if (s->closed) return;
  s->closed = true;
  if (s->poll) {
    uv_poll_stop(s->poll);
    uv_close(reinterpret_cast<uv_handle_t*>(s->poll), onPollClosed);
    s->poll = nullptr;
  }
  if (s->fd >= 0) close(s->fd);
  s->fd = -1;
  if (s->onMessage) napi_delete_reference(s->env, s->onMessage);
  if (s->onError) napi_delete_reference(s->env, s->onError);
  s->onMessage = s->onError = nullptr;
  if (s->actx) napi_async_destroy(s->env, s->actx);
  s->actx = nullptr;
}

void finalize(napi_env, void* data, void*) {
  Sock* s = static_cast<Sock*>(data);
  closeSock(s);
  free(s->buf);
  delete s;
}

void callJs(Sock* s, napi_ref ref, size_t argc, napi_value* argv) {
  napi_value fn, recv;
  if (napi_get_reference_value(s->env, ref, &fn) != napi_ok || fn == nullptr) return;
  napi_get_global(s->env, &recv); // napi_make_callback wants an object receiver
  napi_value result;
  napi_status st = napi_make_callback(s->env, s->actx, recv, fn, argc, argv, &result);
  if (st == napi_pending_exception) {
    napi_value ex;
    napi_get_and_clear_last_exception(s->env, &ex);
    napi_fatal_exception(s->env, ex);
  }
}

void reportError(Sock* s, const char* what, int err) {
  napi_handle_scope scope;
  napi_open_handle_scope(s->env, &scope);
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_value text, e;
  napi_create_string_utf8(s->env, msg, NAPI_AUTO_LENGTH, &text);
  napi_create_error(s->env, nullptr, text, &e);
  if (s->onError) callJs(s, s->onError, 1, &e);
  napi_close_handle_scope(s->env, scope);
}

// At most this many datagrams per readiness event, so one flooded socket does not starve the loop.
constexpr int kBurst = 64;

void onReadable(uv_poll_t* h, int status, int events) {
  Sock* s = static_cast<Sock*>(h->data);
  if (s->closed) return;
  if (status < 0) {
    reportError(s, "poll", -status);
    return;
  }
  if (!(events & UV_READABLE)) return;
  for (int i = 0; i < kBurst && !s->closed; i++) {
    sockaddr_in6 from{};
    alignas(cmsghdr) unsigned char control[256];
    iovec iov{s->buf, s->bufLen};
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = recvmsg(s->fd, &msg, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
      reportError(s, "recvmsg", errno);
      return;
    }
    char src[INET6_ADDRSTRLEN] = "", dst[INET6_ADDRSTRLEN] = "";
    inet_ntop(AF_INET6, &from.sin6_addr, src, sizeof src);
    int ifindex = 0, hops = -1;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != IPPROTO_IPV6) continue;
      if (c->cmsg_type == IPV6_PKTINFO) {
        in6_pktinfo pi;
        memcpy(&pi, CMSG_DATA(c), sizeof pi);
        inet_ntop(AF_INET6, &pi.ipi6_addr, dst, sizeof dst);
        ifindex = static_cast<int>(pi.ipi6_ifindex);
      } else if (c->cmsg_type == IPV6_HOPLIMIT) {
        memcpy(&hops, CMSG_DATA(c), sizeof hops);
      }
    }
    napi_handle_scope scope;
    napi_open_handle_scope(s->env, &scope);
    napi_value argv[5];
    void* copy;
    napi_create_buffer_copy(s->env, static_cast<size_t>(n), s->buf, &copy, &argv[0]);
    napi_create_string_utf8(s->env, src, NAPI_AUTO_LENGTH, &argv[1]);
    napi_create_string_utf8(s->env, dst, NAPI_AUTO_LENGTH, &argv[2]);
    napi_create_int32(s->env, ifindex, &argv[3]);
    napi_create_int32(s->env, hops, &argv[4]);
    callJs(s, s->onMessage, 5, argv);
    napi_close_handle_scope(s->env, scope);
  }
}

Sock* unwrap(napi_env env, napi_value v) {
  void* data = nullptr;
  if (napi_get_value_external(env, v, &data) != napi_ok || data == nullptr) {
    throwText(env, "rawsock: not a socket handle");
    return nullptr;
  }
  Sock* s = static_cast<Sock*>(data);
  if (s->closed) {
    throwText(env, "rawsock: socket closed");
    return nullptr;
  }
  return s;
}

// A call on a socket handle: its arguments (at least n, the first the
// handle) into argv, and the socket; nullptr with a JS error thrown otherwise.
Sock* socketCall(napi_env env, napi_callback_info info, size_t n, napi_value* argv, const char* usage) {
  size_t argc = n;
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < n) {
    throwText(env, usage);
    return nullptr;
  }
  return unwrap(env, argv[0]);
}

bool argInt(napi_env env, napi_value v, int32_t* out) {
  if (napi_get_value_int32(env, v, out) != napi_ok) {
    throwText(env, "rawsock: integer argument expected");
    return false;
  }
  return true;
}

// open(protocol, bufferSize, onMessage(buf, src, dst, ifindex, hopLimit), onError(err)) -> handle
napi_value Open(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < 4) return throwText(env, "rawsock.open(protocol, bufferSize, onMessage, onError)");
  int32_t protocol, bufferSize;
  if (!argInt(env, argv[0], &protocol) || !argInt(env, argv[1], &bufferSize)) return nullptr;
  if (bufferSize < 64 || bufferSize > 65535) return throwText(env, "rawsock: bufferSize out of 64..65535");
  int fd = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, protocol);
  if (fd < 0) return throwErrno(env, "socket", errno);
  int on = 1;
  if (setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on) < 0 ||
      setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof on) < 0) {
    int err = errno;
    close(fd);
    return throwErrno(env, "setsockopt IPV6_RECVPKTINFO", err);
  }
  Sock* s = new Sock();
  s->fd = fd;
  s->env = env;
  s->bufLen = static_cast<size_t>(bufferSize);
  s->buf = static_cast<unsigned char*>(malloc(s->bufLen));
  napi_create_reference(env, argv[2], 1, &s->onMessage);
  napi_create_reference(env, argv[3], 1, &s->onError);
  napi_value name;
  napi_create_string_utf8(env, "rawsock", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, nullptr, name, &s->actx);
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  s->poll = new uv_poll_t;
  int rc = uv_poll_init(loop, s->poll, fd);
  if (rc == 0) {
    s->poll->data = s;
    rc = uv_poll_start(s->poll, UV_READABLE, onReadable);
  } else {
    delete s->poll;
    s->poll = nullptr;
  }
  napi_value handle;
  napi_create_external(env, s, finalize, nullptr, &handle);
  if (rc != 0) {
    closeSock(s);
    return throwErrno(env, "uv_poll", -rc);
  }
  return handle;
}

// send(handle, buf, dst, src ('' = the kernel picks), ifindex (0 = any)) -> bytes
napi_value Send(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  Sock* s = socketCall(env, info, 5, argv, "rawsock.send(handle, buf, dst, src, ifindex)");
  if (!s) return nullptr;
  void* data;
  size_t len;
  if (napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok) return throwText(env, "rawsock: Buffer expected");
  char dst[128], src[128];
  size_t n;
  if (napi_get_value_string_utf8(env, argv[2], dst, sizeof dst, &n) != napi_ok) return throwText(env, "rawsock: dst string expected");
  if (napi_get_value_string_utf8(env, argv[3], src, sizeof src, &n) != napi_ok) return throwText(env, "rawsock: src string expected");
  int32_t ifindex;
  if (!argInt(env, argv[4], &ifindex)) return nullptr;
  sockaddr_in6 to{};
  // uv_ip6_addr understands a zone ("fe80::1%eth0")
  if (uv_ip6_addr(dst, 0, &to) != 0) return throwText(env, "rawsock: invalid destination address");
  iovec iov{data, len};
  msghdr msg{};
  msg.msg_name = &to;
  msg.msg_namelen = sizeof to;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) unsigned char control[CMSG_SPACE(sizeof(in6_pktinfo))];
  if (src[0] != '\0' || ifindex != 0) {
    in6_pktinfo pi{};
    if (src[0] != '\0' && inet_pton(AF_INET6, src, &pi.ipi6_addr) != 1) return throwText(env, "rawsock: invalid source address");
    pi.ipi6_ifindex = static_cast<unsigned>(ifindex);
    memset(control, 0, sizeof control);
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = IPPROTO_IPV6;
    c->cmsg_type = IPV6_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof pi);
    memcpy(CMSG_DATA(c), &pi, sizeof pi);
  }
  ssize_t sent = sendmsg(s->fd, &msg, 0);
  if (sent < 0) return throwErrno(env, "sendmsg", errno);
  napi_value out;
  napi_create_int32(env, static_cast<int32_t>(sent), &out);
  return out;
}

// setIntOption(handle, level, option, value)
napi_value SetInt(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  Sock* s = socketCall(env, info, 4, argv, "rawsock.setIntOption(handle, level, option, value)");
  if (!s) return nullptr;
  int32_t level, option, value;
  if (!argInt(env, argv[1], &level) || !argInt(env, argv[2], &option) || !argInt(env, argv[3], &value)) return nullptr;
  if (setsockopt(s->fd, level, option, &value, sizeof value) < 0) return throwErrno(env, "setsockopt", errno);
  return nullptr;
}

// setBufferOption(handle, level, option, buf)
napi_value SetBuf(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  Sock* s = socketCall(env, info, 4, argv, "rawsock.setBufferOption(handle, level, option, buf)");
  if (!s) return nullptr;
  int32_t level, option;
  if (!argInt(env, argv[1], &level) || !argInt(env, argv[2], &option)) return nullptr;
  void* data;
  size_t len;
  if (napi_get_buffer_info(env, argv[3], &data, &len) != napi_ok) return throwText(env, "rawsock: Buffer expected");
  if (setsockopt(s->fd, level, option, data, static_cast<socklen_t>(len)) < 0) return throwErrno(env, "setsockopt", errno);
  return nullptr;
}

// getIntOption(handle, level, option) -> int
napi_value GetInt(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  Sock* s = socketCall(env, info, 3, argv, "rawsock.getIntOption(handle, level, option)");
  if (!s) return nullptr;
  int32_t level, option;
  if (!argInt(env, argv[1], &level) || !argInt(env, argv[2], &option)) return nullptr;
  int value = 0;
  socklen_t len = sizeof value;
  if (getsockopt(s->fd, level, option, &value, &len) < 0) return throwErrno(env, "getsockopt", errno);
  napi_value out;
  napi_create_int32(env, value, &out);
  return out;
}

// fd(handle) -> the descriptor (tests look it up in /proc)
napi_value Fd(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  Sock* s = socketCall(env, info, 1, argv, "rawsock.fd(handle)");
  if (!s) return nullptr;
  napi_value out;
  napi_create_int32(env, s->fd, &out);
  return out;
}

// close(handle): idempotent
napi_value Close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < 1) return nullptr;
  void* data = nullptr;
  if (napi_get_value_external(env, argv[0], &data) != napi_ok || data == nullptr) return nullptr;
  closeSock(static_cast<Sock*>(data));
  return nullptr;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", nullptr, Open, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"send", nullptr, Send, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setIntOption", nullptr, SetInt, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setBufferOption", nullptr, SetBuf, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"getIntOption", nullptr, GetInt, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"fd", nullptr, Fd, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"close", nullptr, Close, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
