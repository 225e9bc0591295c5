/*
 * invite-tap: a transparent UDP relay in front of the upstream UAS that records when each INVITE
 * reached it, by the kernel's receive timestamp (SO_TIMESTAMPNS) brought onto CLOCK_MONOTONIC,
 * the clock of process.hrtime and so of the timer's grid and the shaper's own records.
 *
 * Why the kernel's time: it is when the datagram arrived at the upstream's socket, whatever the
 * relay's own scheduling does afterwards. A relay timing arrivals when it gets to read them (a
 * Node thread, or sipp's -trace_msg) adds its own wake-up delays, milliseconds on a loaded
 * 2-core machine, to the path it is meant to measure. The time the relay read each INVITE is
 * recorded too, so both can be reported.
 *
 *   invite-tap LISTEN_ADDRESS TARGET_ADDRESS TARGET_PORT
 *
 * stdout: "listening PORT" once bound; then, for each "invites" line on stdin, one line per INVITE
 * relayed so far, "KERNEL_NS READ_NS CALL-ID" (monotonic nanoseconds), and a line "end DROPPED".
 * It exits when stdin closes. Each client address gets a relay socket of its own towards the
 * target, so the UAS's answers (sent back to where a request came from) return to it and are
 * relayed to that client. Every datagram is relayed unchanged. Bounded: 1,024 client addresses
 * (datagrams of further ones are dropped and counted), 1,000,000 recorded INVITEs, datagrams of
 * 65,535 bytes.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 1024
#define MAX_INVITES 1000000
#define CALL_ID_MAX 127

struct invite {
  int64_t kernel_ns;
  int64_t read_ns;
  char call_id[CALL_ID_MAX + 1];
};

struct client {
  struct sockaddr_in address;
  int relay;
};

static struct invite *invites;
static size_t ninvites;
static struct client clients[MAX_CLIENTS];
static size_t nclients;
static long dropped;
static unsigned char datagram[65536];

static int64_t ns_of(clockid_t clock) {
  struct timespec t;
  clock_gettime(clock, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void fail(const char *what) {
  fprintf(stderr, "invite-tap: %s: %s\n", what, strerror(errno));
  exit(1);
}

/* The Call-ID header's value (or its compact form "i"), within the first 8 KiB. */
static void call_id_of(const unsigned char *data, size_t length, char *out) {
  out[0] = 0;
  if (length > 8192) length = 8192;
  for (size_t i = 0; i + 2 < length; i++) {
    if (data[i] != '\n') continue;
    const char *line = (const char *)data + i + 1;
    size_t rest = length - i - 1, name;
    if (rest > 7 && strncasecmp(line, "Call-ID", 7) == 0) name = 7;
    else if (rest > 1 && (line[0] == 'i' || line[0] == 'I') && (line[1] == ':' || line[1] == ' ' || line[1] == '\t')) name = 1;
    else continue;
    size_t j = name;
    while (j < rest && (line[j] == ' ' || line[j] == '\t')) j++;
    if (j >= rest || line[j] != ':') continue;
    j++;
    while (j < rest && (line[j] == ' ' || line[j] == '\t')) j++;
    size_t n = 0;
    while (j < rest && line[j] != '\r' && line[j] != '\n' && n < CALL_ID_MAX) out[n++] = line[j++];
    while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t')) n--;
    out[n] = 0;
    return;
  }
}

static struct client *client_of(const struct sockaddr_in *from, const struct sockaddr_in *bind_to) {
  for (size_t i = 0; i < nclients; i++)
    if (clients[i].address.sin_port == from->sin_port && clients[i].address.sin_addr.s_addr == from->sin_addr.s_addr) return &clients[i];
  if (nclients >= MAX_CLIENTS) return NULL;
  int relay = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  if (relay < 0) fail("socket");
  struct sockaddr_in local = *bind_to;
  local.sin_port = 0;
  if (bind(relay, (struct sockaddr *)&local, sizeof local) < 0) fail("bind (relay)");
  clients[nclients].address = *from;
  clients[nclients].relay = relay;
  return &clients[nclients++];
}

static void answer(void) {
  for (size_t i = 0; i < ninvites; i++) printf("%lld %lld %s\n", (long long)invites[i].kernel_ns, (long long)invites[i].read_ns, invites[i].call_id);
  printf("end %ld\n", dropped);
  fflush(stdout);
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: invite-tap LISTEN_ADDRESS TARGET_ADDRESS TARGET_PORT\n");
    return 2;
  }
  struct sockaddr_in listen_at = {.sin_family = AF_INET}, target = {.sin_family = AF_INET};
  if (inet_pton(AF_INET, argv[1], &listen_at.sin_addr) != 1 || inet_pton(AF_INET, argv[2], &target.sin_addr) != 1) {
    fprintf(stderr, "invite-tap: the addresses must be IPv4 dotted quads; got %s and %s\n", argv[1], argv[2]);
    return 2;
  }
  long port = strtol(argv[3], NULL, 10);
  if (port < 1 || port > 65535) {
    fprintf(stderr, "invite-tap: the target port must be 1 to 65535; got %s\n", argv[3]);
    return 2;
  }
  target.sin_port = htons((uint16_t)port);
  invites = calloc(MAX_INVITES, sizeof *invites);
  if (!invites) fail("calloc");

  int front = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  if (front < 0) fail("socket");
  int on = 1;
  if (setsockopt(front, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) < 0) fail("setsockopt SO_TIMESTAMPNS");
  int buffer = 4 << 20;
  setsockopt(front, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  if (bind(front, (struct sockaddr *)&listen_at, sizeof listen_at) < 0) fail("bind");
  socklen_t length = sizeof listen_at;
  getsockname(front, (struct sockaddr *)&listen_at, &length);
  printf("listening %d\n", ntohs(listen_at.sin_port));
  fflush(stdout);

  static struct pollfd fds[MAX_CLIENTS + 2];
  char command[64];
  size_t command_length = 0;
  for (;;) {
    fds[0] = (struct pollfd){.fd = 0, .events = POLLIN};
    fds[1] = (struct pollfd){.fd = front, .events = POLLIN};
    size_t polled = nclients; /* clients added below are polled from the next round on */
    for (size_t i = 0; i < polled; i++) fds[i + 2] = (struct pollfd){.fd = clients[i].relay, .events = POLLIN};
    if (poll(fds, polled + 2, -1) < 0) {
      if (errno == EINTR) continue;
      fail("poll");
    }
    if (fds[0].revents) {
      char c;
      ssize_t n = read(0, &c, 1);
      if (n <= 0) return 0; /* stdin closed: done */
      if (c == '\n') {
        command[command_length] = 0;
        if (strcmp(command, "invites") == 0) answer();
        command_length = 0;
      } else if (command_length + 1 < sizeof command) {
        command[command_length++] = c;
      }
    }
    if (fds[1].revents & POLLIN) {
      for (;;) {
        struct sockaddr_in from;
        char control[CMSG_SPACE(sizeof(struct timespec))];
        struct iovec io = {.iov_base = datagram, .iov_len = sizeof datagram};
        struct msghdr message = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &io, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
        ssize_t n = recvmsg(front, &message, 0);
        if (n < 0) {
          if (errno == EAGAIN || errno == EWOULDBLOCK) break;
          if (errno == EINTR) continue;
          fail("recvmsg");
        }
        int64_t read_ns = ns_of(CLOCK_MONOTONIC);
        /* The kernel stamps CLOCK_REALTIME; the two clocks run at one rate and differ by an offset. */
        int64_t offset = ns_of(CLOCK_REALTIME) - ns_of(CLOCK_MONOTONIC);
        int64_t kernel_ns = -1;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&message); c; c = CMSG_NXTHDR(&message, c))
          if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
            struct timespec t;
            memcpy(&t, CMSG_DATA(c), sizeof t);
            kernel_ns = (int64_t)t.tv_sec * 1000000000 + t.tv_nsec - offset;
          }
        struct client *client = client_of(&from, &listen_at);
        if (!client) {
          dropped++;
          continue;
        }
        if (n > 7 && memcmp(datagram, "INVITE ", 7) == 0 && ninvites < MAX_INVITES) {
          struct invite *i = &invites[ninvites++];
          i->kernel_ns = kernel_ns >= 0 ? kernel_ns : read_ns;
          i->read_ns = read_ns;
          call_id_of(datagram, (size_t)n, i->call_id);
        }
        sendto(client->relay, datagram, (size_t)n, 0, (struct sockaddr *)&target, sizeof target);
      }
    }
    for (size_t i = 0; i < polled; i++) {
      if (!(fds[i + 2].revents & POLLIN)) continue;
      for (;;) {
        ssize_t n = recv(clients[i].relay, datagram, sizeof datagram, 0);
        if (n < 0) break;
        sendto(front, datagram, (size_t)n, 0, (struct sockaddr *)&clients[i].address, sizeof clients[i].address);
      }
    }
  }
}
