/*
 * The command line, parsed into a plain struct.  Option names and syntax
 * follow qemu-system-x86_64 for the options both share.  Parsing never
 * exits: it returns an error line (naming the option and the problem) for
 * main() to print, so it can be unit-tested.
 */
#ifndef VX86_CORE_OPTIONS_H
#define VX86_CORE_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/log.h"

#define MAX_DRIVES 8
#define MAX_ACCELS 4
#define MAX_CHARDEVS 8
#define MAX_DEVICES 16
#define DEVICE_MAX_PROPS 8    /* properties listed per -device type */
#define VIRTIO_PORTS_MAX 31   /* virtio-serial ports per device */

typedef enum DriveIf {
    DRIVE_IF_IDE, DRIVE_IF_VIRTIO, DRIVE_IF_NONE, DRIVE_IF_FLOPPY,
    DRIVE_IF_SCSI,        /* a unit (index = scsi-id) of the first virtio-scsi-pci */
} DriveIf;
typedef enum DriveMedia { DRIVE_MEDIA_DISK, DRIVE_MEDIA_CDROM } DriveMedia;
/* cache=: the same order as BlockCacheMode (block/block.h). */
typedef enum DriveCache {
    DRIVE_CACHE_WRITEBACK,    /* QEMU's default */
    DRIVE_CACHE_NONE,
    DRIVE_CACHE_UNSAFE,
    DRIVE_CACHE_DIRECTSYNC,
    DRIVE_CACHE_WRITETHROUGH,
} DriveCache;
/* aio=: accepted for QEMU command lines; vx86 always uses its I/O threads. */
typedef enum DriveAio { DRIVE_AIO_THREADS, DRIVE_AIO_NATIVE, DRIVE_AIO_IO_URING } DriveAio;

typedef struct DriveOpt {
    char *file;           /* NULL only for an empty CD-ROM drive */
    char *format;         /* "raw", "qcow2" or NULL (probe) */
    DriveIf iface;
    DriveMedia media;
    int index;            /* -1: next free; after options_parse, IDE,
                           * floppy and virtio drives hold their resolved
                           * slot (IDE: 0 primary master .. 3 secondary
                           * slave; floppy: 0 A:, 1 B:) */
    bool readonly;        /* always true for media=cdrom */
    bool snapshot;        /* also implied by the global -snapshot */
    DriveCache cache;
    DriveAio aio;
    const char *opt;      /* option that created it: "-drive", "-hda", "-cdrom", "-fda", ... */
    bool index_given;     /* index= was explicit (or implied by -hdX/-cdrom) */
    char id[32];          /* id= (for -device ...,drive=ID); "" when not given */
} DriveOpt;

/* SERIAL_CHARDEV: the backend is the -chardev whose id is in *_path. */
typedef enum SerialKind { SERIAL_STDIO, SERIAL_FILE, SERIAL_NONE, SERIAL_CHARDEV } SerialKind;

/* -chardev BACKEND,id=ID,...: a named character backend (host/chardev.c
 * opens it with chardev_open_opt). */
typedef enum ChardevBackend {
    CHARDEV_FILE, CHARDEV_STDIO, CHARDEV_NULL, CHARDEV_SOCKET, CHARDEV_PIPE,
} ChardevBackend;

typedef struct ChardevOpt {
    char *id;
    ChardevBackend backend;
    char *path;           /* file, pipe, unix socket; NULL for a TCP socket */
    char *host;           /* TCP socket: host ("" = any / localhost) */
    uint16_t port;        /* TCP socket */
    bool server;          /* socket: listen (server=on) or connect */
    bool wait;            /* socket server: wait for the first client at start */
    bool append;          /* file: append instead of truncating */
} ChardevOpt;

/* -device DRIVER,...: the device types vx86 has (one table in
 * core/options.c, `-device help` lists it). */
typedef enum DeviceType {
    DEVICE_ISA_DEBUG_EXIT, DEVICE_ISA_DEBUGCON, DEVICE_PC_TESTDEV, DEVICE_PCI_TESTDEV,
    DEVICE_VGA, DEVICE_VIRTIO_BLK, DEVICE_VIRTIO_RNG,
    DEVICE_VIRTIO_SCSI, DEVICE_SCSI_HD, DEVICE_SCSI_CD, DEVICE_VIRTIO_BALLOON,
    DEVICE_VIRTIO_SERIAL, DEVICE_VIRTCONSOLE, DEVICE_VIRTSERIALPORT,
    DEVICE_NIC,           /* e1000, virtio-net-pci: parsed into VMOptions.nics, not .devices */
    DEVICE_USB_TABLET, DEVICE_USB_KBD, DEVICE_USB_MOUSE,   /* on the -usb UHCI or an xHCI */
    DEVICE_QEMU_XHCI,     /* xHCI controller; its bus is ID.0 */
    DEVICE_USB_HUB,       /* 8-port hub on a USB bus */
} DeviceType;

typedef struct DeviceOpt {
    DeviceType type;
    uint32_t iobase, iosize;  /* ISA devices: their ports */
    char *chardev;        /* isa-debugcon: the -chardev id (NULL: output dropped) */
    int devfn;            /* PCI devices: addr=SLOT[.FN]; -1: next free slot */
    unsigned vgamem_mb;   /* VGA: 0 = default */
    int vga_edid;         /* VGA edid=: -1 unset, 0 off, 1 on */
    unsigned vga_xres, vga_yres;   /* VGA xres=/yres=: 0 unset */
    char drive[32];       /* virtio-blk-pci, scsi-hd, scsi-cd drive=: an if=none drive's id */
    int num_queues;       /* virtio-blk-pci num-queues=, virtio-scsi-pci num_queues=;
                             0: default (1) */
    char id[32];          /* id= ("" when not given) */
    char bus[40];         /* scsi-hd/cd bus= ("ID.0" of a virtio-scsi-pci),
                             virtserialport/virtconsole bus= ("ID.0" of a
                             virtio-serial-pci), usb-* bus= ("ID.0" of a
                             qemu-xhci, "usb-bus.0" the -usb UHCI); "": the first */
    int channel;          /* scsi-hd/cd channel= (0) */
    int scsi_id;          /* scsi-hd/cd scsi-id=; -1: the first free target */
    int lun;              /* scsi-hd/cd lun= (0) */
    char serial[21];      /* scsi-hd/cd serial= ("": derived) */
    bool free_page_reporting;   /* virtio-balloon-pci free-page-reporting=on */
    bool deflate_on_oom;        /* virtio-balloon-pci deflate-on-oom=on */
    unsigned max_ports;   /* virtio-serial-pci max_ports=; 0: default (31) */
    char *port_name;      /* virtserialport/virtconsole name= */
    int nr;               /* virtserialport/virtconsole nr=; -1: the next free */
    int usb_p2, usb_p3;   /* qemu-xhci p2=/p3=: USB 2 and USB 3 root ports; -1: 4 */
} DeviceOpt;

/* Networking: -netdev/-nic/-net backends and NICs (net/, hw/e1000.c). */
#define MAX_NETDEVS 8
#define MAX_NICS 8
typedef struct NetdevOpt {
    char id[32];
    char *spec;           /* "user,id=n0,hostfwd=..." as net/netdev_open takes it */
} NetdevOpt;
typedef struct NicOpt {
    char model[24];       /* "e1000" or "virtio-net-pci" */
    char netdev[32];      /* the backend's id; "" = no cable */
    uint8_t mac[6];
    bool has_mac;         /* else 52:54:00:12:34:56 + the NIC's index */
    int devfn;            /* addr= when has_addr, else the next free slot */
    bool has_addr;
    uint64_t features_off;     /* virtio-net-pci: feature bits turned off (csum=off, ...) */
    uint16_t rx_queue_size, tx_queue_size;   /* virtio-net-pci; 0: 256 */
    char id[32];          /* -device id= (the name set_link takes); "": none */
    char romfile[256];    /* romfile=: the option ROM ("" with has_romfile: none) */
    bool has_romfile;
} NicOpt;
typedef enum DisplayKind { DISPLAY_DEFAULT, DISPLAY_SDL, DISPLAY_CURSES, DISPLAY_NONE } DisplayKind;
typedef enum VGAKind { VGA_DEFAULT, VGA_STD, VGA_NONE } VGAKind;

/* tcg,thread=: how vCPUs map to host threads.  DEFAULT is multi with
 * more than one CPU (one host thread each), else the main loop's thread. */
typedef enum AccelThread { ACCEL_THREAD_DEFAULT, ACCEL_THREAD_SINGLE, ACCEL_THREAD_MULTI } AccelThread;

/* -vnc (ui/vnc.c): QEMU's [HOST]:N | unix:PATH | none, with websocket=,
 * password=, to=. */
#define VNC_PORT_BASE 5900
#define VNC_WEBSOCKET_PORT_BASE 5700
typedef struct VncOpt {
    bool enabled;         /* a VNC server is wanted (not -vnc none) */
    char *spec;           /* the address as given, for messages (":1") */
    char *host;           /* NULL: every interface */
    int display;          /* TCP port VNC_PORT_BASE + display ... */
    int display_to;       /* ... or the first free one up to + display_to (to=) */
    char *unix_path;      /* unix:PATH: a Unix socket instead of TCP */
    char *ws_host;        /* websocket=HOST:PORT; NULL: the VNC host */
    int ws_port;          /* 0: no WebSocket listener */
    bool password;        /* password=on: VNC authentication (change vnc password) */
} VncOpt;

typedef struct AccelOpt {
    char name[8];         /* "kvm" or "tcg" */
    AccelThread thread;   /* tcg,thread=single|multi */
    bool interp;          /* tcg,interp=on: run the IR interpreter */
    bool force;           /* kvm,force=on: skip the speed probe (tests) */
} AccelOpt;

/* -icount rr= */
typedef enum RRMode { RR_NONE, RR_RECORD, RR_REPLAY } RRMode;
#define ICOUNT_OFF (-1)
#define ICOUNT_AUTO (-2)
#define ICOUNT_MAX_SHIFT 10

typedef struct VMOptions {
    uint64_t ram_size;    /* bytes */
    int smp;              /* CPUs present at start (-smp cpus=) */
    int smp_maxcpus;      /* possible CPUs (-smp maxcpus=; the rest are not present) */
    int smp_sockets, smp_dies, smp_cores, smp_threads;   /* their product: smp_maxcpus */
    char *kernel, *initrd, *append, *bios;
    DriveOpt drives[MAX_DRIVES];
    int ndrives;
    NetdevOpt netdevs[MAX_NETDEVS];
    int nnetdevs;
    NicOpt nics[MAX_NICS];  /* in PCI slot order */
    int nnics;
    bool net_given;       /* any -net/-nic/-netdev: no default NIC */
    char boot_order[8];   /* e.g. "cd"; empty: firmware default */
    char boot_once[8];    /* -boot once=d: order for the first boot only */
    bool boot_menu;       /* -boot menu=on */
    SerialKind serial;    /* SERIAL_NONE unless -serial or -nographic */
    char *serial_path;    /* SERIAL_FILE: the file; SERIAL_CHARDEV: the chardev id */
    bool serial_given;
    bool nographic;
    DisplayKind display;
    bool full_screen;     /* -full-screen: the SDL window starts full screen */
    bool no_quit;         /* -no-quit, -display sdl,window-close=off */
    VncOpt vnc;           /* -vnc, -display vnc=... */
    char *name;           /* -name: the window title, query-name */
    VGAKind vga;          /* -vga; VGA_DEFAULT: std unless -nodefaults */
    unsigned vgamem_mb;   /* -global VGA.vgamem_mb=N; 0: the default (16) */
    bool vga_no_edid;     /* VGA.edid=off */
    unsigned vga_xres, vga_yres;   /* VGA.xres/yres: the EDID's preferred mode; 0: 1280x800 */
    AccelOpt accels[MAX_ACCELS];
    int naccels;          /* 0: default (kvm if usable, else tcg) */
    SerialKind debugcon;  /* -debugcon: the debug console's output */
    char *debugcon_path;  /* SERIAL_FILE: the file; SERIAL_CHARDEV: the chardev id */
    uint16_t debugcon_port;    /* -global isa-debugcon.iobase= (default 0xe9): -debugcon's
                                  port and the default of -device isa-debugcon */
    ChardevOpt chardevs[MAX_CHARDEVS];
    int nchardevs;
    DeviceOpt devices[MAX_DEVICES];   /* -device, in command-line order */
    int ndevices;
    bool want_device_help;     /* -device help */
    char *monitor;        /* -monitor spec, e.g. "stdio", "none" */
    char *qmp[4];         /* -qmp specs (several QMP servers) */
    int nqmp;
    struct { char *chardev; bool control; } mons[4];   /* -mon chardev=ID,mode=control|readline */
    int nmons;
    char *incoming;       /* -incoming URI|defer */
    char *loadvm;         /* -loadvm TAG */
    unsigned log_mask;    /* -d */
    LogRange log_ranges[LOG_MAX_RANGES];   /* -dfilter */
    int log_nranges;
    char *log_file;       /* -D */
    bool no_reboot;
    bool no_shutdown;     /* guest power-off pauses instead of exiting */
    bool nodefaults;      /* no default devices (COM1 unless -serial, VGA unless -vga) */
    bool usb;             /* -usb: the PIIX3 UHCI at 00:01.2 */
    bool snapshot;
    char *cpu_model;
    char *gdb;            /* -s / -gdb */
    bool start_stopped;   /* -S */
    int icount_shift;     /* -icount shift=N (0..ICOUNT_MAX_SHIFT), ICOUNT_AUTO, or ICOUNT_OFF */
    bool icount_sleep;    /* -icount sleep=on (default): a halted guest waits in real time */
    RRMode rr;            /* -icount rr=record|replay */
    char *rr_file;        /* -icount rrfile= */
    int64_t rtc_base;     /* -rtc base=DATETIME: seconds since 1970 UTC; -1 = the host's time */
    bool rtc_localtime;   /* -rtc base=localtime */
    /* Hash of the options that shape the machine (all but debugging and
     * host controls): a replay must be given the recording's. */
    uint64_t cmdline_hash;
    bool want_help, want_version;
    bool want_accel_help;      /* -accel help */
    bool want_log_help;   /* -d help: main lists the log items */
} VMOptions;

void options_init(VMOptions *o);
void options_free(VMOptions *o);
/* Parses argv[1..argc).  Returns 0, or -1 with err holding one line
 * "OPTION: problem".  Checks that files exist and are readable. */
int options_parse(VMOptions *o, int argc, char **argv, char *err, size_t errlen);
/* Parses a size like 512 (MiB), 512M, 2G, 1T, 4096K, 1.5G.  Returns false
 * on malformed or zero sizes and on sizes that do not fit in 64 bits. */
bool options_parse_size(const char *s, uint64_t default_unit, uint64_t *out);

/* The most guest RAM -m accepts (machine_new's limit too). */
#define OPTIONS_MAX_RAM (1ULL << 46)
#define OPTIONS_MAX_SMP 64
void options_print_help(FILE *f);
/* -device help: the device types and their properties. */
void options_print_devices(FILE *f);
/* The -chardev with this id, or NULL. */
const ChardevOpt *options_find_chardev(const VMOptions *o, const char *id);
/* Multiboot modules: -initrd "a args,b" is a comma-separated list (",,"
 * is a literal comma); each item is a file name, then after the first
 * space the module's command line.  Splits item n into a malloc'ed path
 * and command line (the whole item); false when there is no item n. */
int options_initrd_count(const char *initrd);
bool options_initrd_item(const char *initrd, int n, char **path, char **cmdline);

#endif
