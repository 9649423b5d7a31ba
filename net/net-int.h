/*
 * Inside net/: the -netdev spec parser and the backend table.  A backend
 * checks its options (check: syntax only, for the command-line parser)
 * and opens (open: sockets, slirp, tap; registers with the machine).
 */
#ifndef VX86_NET_NET_INT_H
#define VX86_NET_NET_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "net/net.h"

#define NETOPTS_MAX 32

/* "TYPE,key=value,..." split up; keys keep their order and may repeat. */
typedef struct NetOpts {
    char *type;
    char *key[NETOPTS_MAX], *val[NETOPTS_MAX];
    int n;
} NetOpts;

bool netopts_parse(const char *spec, NetOpts *o, char *err, size_t errlen);
void netopts_free(NetOpts *o);
/* The last value of key, or NULL. */
const char *netopts_get(const NetOpts *o, const char *key);
/* 1 / 0 for on/off (yes/no, true/false), dflt when absent, -1 when neither. */
int netopts_bool(const NetOpts *o, const char *key, bool dflt);
/* Refuses keys not in known (NULL-terminated; "id" is always allowed). */
bool netopts_check_keys(const NetOpts *o, const char *const *known, char *err, size_t errlen);

typedef struct NetBackend {
    const char *type;
    const char *const *keys;
    bool (*check)(const NetOpts *o, char *err, size_t errlen);
    NetClient *(*open)(Machine *m, const NetOpts *o, const char *id, char *err, size_t errlen);
} NetBackend;

extern const NetBackend net_user_backend, net_socket_backend, net_stream_backend,
    net_dgram_backend, net_tap_backend;

/* Lists a backend in the machine's device list, so machine_free frees it
 * (net_client_free) with the devices. */
void netdev_attach(Machine *m, NetClient *nc);

/* "HOST:PORT" (HOST may be empty: any/localhost) -> IPv4 sockaddr.
 * false with err set when malformed or the host is unknown. */
struct sockaddr_in;
bool net_parse_inet(const char *s, bool empty_host_any, struct sockaddr_in *sa,
                    char *err, size_t errlen);

#endif
