/*
 * -netdev tap,id=ID,ifname=NAME[,script=no][,downscript=no]: a host TAP
 * interface (Linux /dev/net/tun) for users who bridge guests onto a host
 * network.  vx86 runs no scripts: the interface is set up (brought up,
 * bridged) by the user beforehand, so script= and downscript= must be no.
 * Each read() is one frame from the host, each write() one frame to it;
 * a frame the interface cannot take is dropped.
 *
 * vnet_hdr=on (IFF_VNET_HDR, a 12-byte header, TUNSETVNETHDRSZ): every
 * frame written carries a virtio-net header, so a virtio-net NIC hands its
 * guest's checksum and TCP segmentation requests to the host kernel
 * (net_send_vnet) instead of doing them in software.  The host is offered
 * no offloads back (TUNSETOFFLOAD 0: it sends whole, checksummed frames),
 * so the header of each frame read is dropped.  Off by default (QEMU tries
 * it by default; here a user asks).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/machine.h"
#include "core/util.h"
#include "net/net-int.h"

typedef struct TapNet {
    NetClient *nc;
    Machine *m;
    int fd;
    bool vnet_hdr;
    uint8_t *buf;
} TapNet;

static const char *const tap_keys[] = { "ifname", "script", "downscript", "vhost", "vnet_hdr",
                                        NULL };

static bool tap_check(const NetOpts *o, char *err, size_t errlen)
{
    const char *ifname = netopts_get(o, "ifname");
    const char *script = netopts_get(o, "script"), *down = netopts_get(o, "downscript");
    if (!ifname || !*ifname || strlen(ifname) >= IFNAMSIZ) {
        snprintf(err, errlen, "tap: ifname=NAME expected (vx86 does not create interfaces)");
        return false;
    }
    if ((script && strcmp(script, "no")) || (down && strcmp(down, "no"))) {
        snprintf(err, errlen, "tap: vx86 runs no scripts: use script=no,downscript=no");
        return false;
    }
    if (netopts_bool(o, "vhost", false) == 1) {
        snprintf(err, errlen, "tap: vhost=on is not supported");
        return false;
    }
    if (netopts_bool(o, "vnet_hdr", false) < 0) {
        snprintf(err, errlen, "tap: vnet_hdr=%s: expected on or off", netopts_get(o, "vnet_hdr"));
        return false;
    }
    return true;
}

static bool tap_receive(NetClient *nc, const uint8_t *buf, size_t len)
{
    TapNet *t = nc->opaque;
    if (write(t->fd, buf, len) < 0)
        nc->dropped++;
    return true;
}

static void tap_read(TapNet *t)
{
    for (int i = 0; i < 64 && !net_peer_busy(t->nc); i++) {
        ssize_t n = read(t->fd, t->buf, NET_VNET_HDR_LEN + NET_MAX_FRAME);
        if (n <= 0)
            return;
        size_t skip = t->vnet_hdr ? NET_VNET_HDR_LEN : 0;
        if ((size_t)n > skip)
            net_send(t->nc, t->buf + skip, (size_t)n - skip);
    }
}

static void tap_fill(void *opaque, PollSet *ps, int *timeout_ms)
{
    TapNet *t = opaque;
    if (!net_peer_busy(t->nc))
        pollset_add(ps, t->fd, POLLIN);
}

static void tap_dispatch(void *opaque, PollSet *ps)
{
    TapNet *t = opaque;
    for (int i = 0; i < ps->n; i++)
        if (ps->fds[i].fd == t->fd && (ps->fds[i].revents & POLLIN))
            tap_read(t);
}

static void tap_peer_drained(NetClient *nc)
{
    tap_read(nc->opaque);
}

static void tap_cleanup(NetClient *nc)
{
    TapNet *t = nc->opaque;
    machine_remove_poll_hook(t->m, t);
    if (t->fd >= 0)
        close(t->fd);
    free(t->buf);
    free(t);
}

static const NetClientOps tap_ops = {
    .type = "tap", .receive = tap_receive, .peer_drained = tap_peer_drained,
    .cleanup = tap_cleanup,
};

static NetClient *tap_open(Machine *m, const NetOpts *o, const char *id, char *err, size_t errlen)
{
    const char *ifname = netopts_get(o, "ifname");
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "tap: /dev/net/tun: %s", strerror(errno));
        return NULL;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    bool vnet_hdr = netopts_bool(o, "vnet_hdr", false) == 1;
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (vnet_hdr ? IFF_VNET_HDR : 0);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
    int hdr_len = NET_VNET_HDR_LEN;
    if (ioctl(fd, TUNSETIFF, &ifr) < 0 ||
        (vnet_hdr && (ioctl(fd, TUNSETVNETHDRSZ, &hdr_len) < 0 ||
                      ioctl(fd, TUNSETOFFLOAD, 0UL) < 0))) {
        snprintf(err, errlen, "tap: %s: %s", ifname, strerror(errno));
        close(fd);
        return NULL;
    }
    TapNet *t = xcalloc(1, sizeof *t);
    t->m = m;
    t->fd = fd;
    t->vnet_hdr = vnet_hdr;
    t->buf = xmalloc(NET_VNET_HDR_LEN + NET_MAX_FRAME);
    t->nc = net_client_new(&tap_ops, id, t);
    t->nc->vnet_hdr = vnet_hdr;
    if (!machine_add_poll_hook(m, tap_fill, tap_dispatch, t)) {
        snprintf(err, errlen, "tap: too many network backends");
        net_client_free(t->nc);
        return NULL;
    }
    netdev_attach(m, t->nc);
    return t->nc;
}

const NetBackend net_tap_backend = {
    .type = "tap", .keys = tap_keys, .check = tap_check, .open = tap_open,
};
