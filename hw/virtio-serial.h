/*
 * virtio-serial (virtio 1.2, 5.3 "Console Device"): ports that carry a byte
 * stream between a guest and a character backend (host/chardev.h), with
 * the multiport control channel (VIRTIO_CONSOLE_F_MULTIPORT) through which
 * Linux's virtio_console driver learns the ports: a console port becomes
 * /dev/hvcN, a named port /dev/vportNpM with its name in
 * /sys/class/virtio-ports/vportNpM/name.
 *
 *   VirtIOSerial *s = virtio_serial_create(m, 31);                 // max_ports
 *   virtio_serial_add_port(s, chr, true, NULL, -1, err, len);     // virtconsole
 *   virtio_serial_add_port(s, chr2, false, "org.x.y", -1, err, len);  // virtserialport
 *   virtio_pci_create(m, bus, devfn, virtio_serial_vdev(s), err, len);
 *
 * Port numbers as QEMU gives them: a console without nr= takes port 0 when
 * it is free, anything else the lowest free port from 1 (port 0 is kept
 * for a console, for drivers without MULTIPORT).  The board polls each
 * port's chardev (machine_watch_fd); the device pulls input only while
 * the guest has the port open and has given receive buffers.
 */
#ifndef VX86_HW_VIRTIO_SERIAL_H
#define VX86_HW_VIRTIO_SERIAL_H

#include "host/chardev.h"
#include "hw/virtio.h"

#define VIRTIO_ID_CONSOLE               3
#define VIRTIO_SERIAL_MAX_PORTS         ((VIRTIO_MAX_QUEUES - 2) / 2)   /* 31 */
#define VIRTIO_SERIAL_QUEUE_SIZE        128
#define VIRTIO_SERIAL_NAME_MAX          255

#define VIRTIO_CONSOLE_F_SIZE           0
#define VIRTIO_CONSOLE_F_MULTIPORT      1

/* Control events (5.3.6.2). */
#define VIRTIO_CONSOLE_DEVICE_READY     0
#define VIRTIO_CONSOLE_DEVICE_ADD       1
#define VIRTIO_CONSOLE_DEVICE_REMOVE    2
#define VIRTIO_CONSOLE_PORT_READY       3
#define VIRTIO_CONSOLE_CONSOLE_PORT     4
#define VIRTIO_CONSOLE_RESIZE           5
#define VIRTIO_CONSOLE_PORT_OPEN        6
#define VIRTIO_CONSOLE_PORT_NAME        7

typedef struct VirtIOSerial VirtIOSerial;

/* max_ports 1..VIRTIO_SERIAL_MAX_PORTS (QEMU's default is 31); with 1 the
 * device has no MULTIPORT and port 0 only. */
VirtIOSerial *virtio_serial_create(Machine *m, uint32_t max_ports);
VirtIODevice *virtio_serial_vdev(VirtIOSerial *s);
/* Adds a port on chr (NULL: output dropped, no input); nr < 0 picks one.
 * Returns the port number, or -1 with err set (no free port, nr taken or
 * out of range, nr 0 for a non-console). */
int virtio_serial_add_port(VirtIOSerial *s, CharDev *chr, bool console, const char *name,
                           int nr, char *err, size_t errlen);

#endif
