/*
 * The command line parser (core/options.c).  Expected values follow
 * qemu-system-x86_64's documented option syntax (sizes in binary units
 * with MiB as -m's default, ",," as an escaped comma, -hda..-hdd on IDE
 * slots 0..3, -cdrom on slot 2) and the error contract of options.h: one
 * line "OPTION: problem".
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/machine.h"
#include "core/options.h"
#include "cpu/cpu.h"
#include "cpu/decode.h"
#include "tests/unit/unit.h"

#define MIB (1ULL << 20)
#define GIB (1ULL << 30)
#define TIB (1ULL << 40)

static VMOptions o;
static char err[512];
static char dir[64];
static char kernel[128], initrd[128], disk[128], disk2[128], comma_disk[128], bios[128];

static void make_file(char *path, size_t len, const char *name)
{
    snprintf(path, len, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("data\n", f);
    fclose(f);
}

static void setup(void)
{
    options_init(&o);
    err[0] = '\0';
    snprintf(dir, sizeof(dir), "/tmp/vx86-opts-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    make_file(kernel, sizeof(kernel), "bzImage");
    make_file(initrd, sizeof(initrd), "initrd.img");
    make_file(disk, sizeof(disk), "disk.img");
    make_file(disk2, sizeof(disk2), "disk2.img");
    make_file(comma_disk, sizeof(comma_disk), "a,b.img");
    make_file(bios, sizeof(bios), "bios.bin");
}

static void teardown(void)
{
    options_free(&o);
    unlink(kernel);
    unlink(initrd);
    unlink(disk);
    unlink(disk2);
    unlink(comma_disk);
    unlink(bios);
    rmdir(dir);
}

/* parse("-m", "512", NULL): runs options_parse on a fresh argv. */
static int parse(const char *first, ...)
{
    char *argv[64] = { "vx86" };
    int argc = 1;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && argc < 63; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    va_end(ap);
    return options_parse(&o, argc, argv, err, sizeof(err));
}

static bool starts_with(const char *s, const char *prefix)
{
    return !strncmp(s, prefix, strlen(prefix));
}

#define ck_assert_err_prefix(prefix) \
    ck_assert_msg(starts_with(err, prefix), "error '%s' does not start with '%s'", err, prefix)
#define ck_assert_err_has(part) \
    ck_assert_msg(strstr(err, part) != NULL, "error '%s' does not contain '%s'", err, part)

/* ---- defaults and sizes ---- */

START_TEST(defaults_without_options)
{
    ck_assert_int_eq(parse(NULL), 0);
    ck_assert_uint_eq(o.ram_size, 128 * MIB);
    ck_assert_int_eq(o.smp, 1);
    ck_assert_int_eq(o.naccels, 0);
    ck_assert_int_eq(o.ndrives, 0);
    ck_assert_int_eq(o.display, DISPLAY_DEFAULT);
    ck_assert(!o.serial_given);
    ck_assert_ptr_null(o.kernel);
    ck_assert_str_eq(o.boot_order, "");
}
END_TEST

START_TEST(size_units)
{
    uint64_t v;
    ck_assert(options_parse_size("512", MIB, &v));
    ck_assert_uint_eq(v, 512 * MIB);
    ck_assert(options_parse_size("512", 1, &v));             /* default unit bytes */
    ck_assert_uint_eq(v, 512);
    ck_assert(options_parse_size("512M", 1, &v));
    ck_assert_uint_eq(v, 512 * MIB);
    ck_assert(options_parse_size("2G", MIB, &v));
    ck_assert_uint_eq(v, 2 * GIB);
    ck_assert(options_parse_size("2g", MIB, &v));             /* case-insensitive */
    ck_assert_uint_eq(v, 2 * GIB);
    ck_assert(options_parse_size("1T", MIB, &v));
    ck_assert_uint_eq(v, TIB);
    ck_assert(options_parse_size("4096K", MIB, &v));
    ck_assert_uint_eq(v, 4 * MIB);
    ck_assert(options_parse_size("1.5G", MIB, &v));
    ck_assert_uint_eq(v, 3 * GIB / 2);
    ck_assert(options_parse_size("100B", MIB, &v));
    ck_assert_uint_eq(v, 100);
    ck_assert(options_parse_size("16E", MIB, &v) == false);   /* 2^64: does not fit */
    ck_assert(options_parse_size("15E", MIB, &v));
    ck_assert_uint_eq(v, 15ULL << 60);
}
END_TEST

START_TEST(size_rejects_garbage_zero_overflow)
{
    uint64_t v = 77;
    const char *bad[] = {
        "", "12Q", "-5", "+5", "0", "0M", "M", "1.G", "1.5.3", " 5", "5 ", "0x10",
        "5MB", "99999999999999T", "18446744073709551616", "1.5B", "1,5G",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(!options_parse_size(bad[i], MIB, &v), "'%s' accepted", bad[i]);
    ck_assert_uint_eq(v, 77);                                 /* untouched on failure */
    ck_assert(!options_parse_size(NULL, MIB, &v));
}
END_TEST

START_TEST(m_default_unit_is_mib)
{
    ck_assert_int_eq(parse("-m", "512", NULL), 0);
    ck_assert_uint_eq(o.ram_size, 512 * MIB);
    ck_assert_int_eq(parse("-m", "size=2G", NULL), 0);
    ck_assert_uint_eq(o.ram_size, 2 * GIB);
    ck_assert_int_eq(parse("--m", "1T", NULL), 0);
    ck_assert_uint_eq(o.ram_size, TIB);
    ck_assert_int_eq(parse("-m", "64T", NULL), 0);            /* the limit itself */
    ck_assert_uint_eq(o.ram_size, 64 * TIB);
    /* Not a whole page: rounded up to 4 KiB. */
    ck_assert_int_eq(parse("-m", "1025K", NULL), 0);
    ck_assert_uint_eq(o.ram_size, 1028 * 1024);
    /* Last one wins. */
    ck_assert_int_eq(parse("-m", "256", "-m", "1G", NULL), 0);
    ck_assert_uint_eq(o.ram_size, GIB);
}
END_TEST

START_TEST(m_errors_name_the_option)
{
    ck_assert_int_eq(parse("-m", "12Q", NULL), -1);
    ck_assert_str_eq(err, "-m: invalid size '12Q'");
    ck_assert_int_eq(parse("-m", "0", NULL), -1);
    ck_assert_str_eq(err, "-m: size must be at least 1 MiB");
    ck_assert_int_eq(parse("-m", "100K", NULL), -1);
    ck_assert_str_eq(err, "-m: size must be at least 1 MiB");
    ck_assert_int_eq(parse("-m", "-5", NULL), -1);
    ck_assert_str_eq(err, "-m: invalid size '-5'");
    ck_assert_int_eq(parse("-m", "99999999999999T", NULL), -1);
    ck_assert_err_prefix("-m: ");
    ck_assert_err_has("too large");
    ck_assert_int_eq(parse("-m", "65T", NULL), -1);
    ck_assert_err_prefix("-m: ");
    ck_assert_err_has("too large");
    ck_assert_int_eq(parse("-m", "2G,slots=2", NULL), -1);
    ck_assert_str_eq(err, "-m: unknown parameter 'slots'");
}
END_TEST

/* ---- CPUs ---- */

START_TEST(smp_counts_and_ranges)
{
    ck_assert_int_eq(parse("-smp", "1", NULL), 0);
    ck_assert_int_eq(o.smp, 1);
    ck_assert_int_eq(parse("-smp", "cpus=4", NULL), 0);
    ck_assert_int_eq(o.smp, 4);
    ck_assert_int_eq(parse("-smp", "64", NULL), 0);
    ck_assert_int_eq(o.smp, 64);
    ck_assert_int_eq(parse("-smp", "sockets=2,cores=2,threads=2", NULL), 0);
    ck_assert_int_eq(o.smp, 8);
    ck_assert_int_eq(parse("-smp", "65", NULL), -1);
    ck_assert_err_prefix("-smp: ");
    ck_assert_int_eq(parse("-smp", "0", NULL), -1);
    ck_assert_err_prefix("-smp: ");
    ck_assert_int_eq(parse("-smp", "two", NULL), -1);
    ck_assert_err_prefix("-smp: ");
}
END_TEST

/* QEMU 7.2's -smp rules (machine-smp), the expected values and messages
 * as qemu-system-x86_64 gives them for the same arguments. */
START_TEST(smp_topology_as_qemu)
{
    /* threads computed last: 4 / (1 socket * 2 cores) */
    ck_assert_int_eq(parse("-smp", "4,sockets=1,cores=2", NULL), 0);
    ck_assert_int_eq(o.smp, 4);
    ck_assert_int_eq(o.smp_threads, 2);
    /* cores preferred over sockets: cores = maxcpus / sockets */
    ck_assert_int_eq(parse("-smp", "4,maxcpus=8,sockets=2", NULL), 0);
    ck_assert_int_eq(o.smp, 4);
    ck_assert_int_eq(o.smp_maxcpus, 8);
    ck_assert_int_eq(o.smp_cores, 4);
    ck_assert_int_eq(parse("-smp", "sockets=2,cores=3", NULL), 0);
    ck_assert_int_eq(o.smp, 6);
    ck_assert_int_eq(o.smp_maxcpus, 6);
    ck_assert_int_eq(parse("-smp", "4", NULL), 0);
    ck_assert_int_eq(o.smp_sockets, 1);
    ck_assert_int_eq(o.smp_cores, 4);
    ck_assert_int_eq(o.smp_threads, 1);
    ck_assert_int_eq(parse("-smp", "4,sockets=3", NULL), -1);
    ck_assert_str_eq(err, "-smp: Invalid CPU topology: product of the hierarchy must match "
                          "maxcpus: sockets (3) * dies (1) * cores (1) * threads (1) != "
                          "maxcpus (4)");
    ck_assert_int_eq(parse("-smp", "2,maxcpus=1", NULL), -1);
    ck_assert_str_eq(err, "-smp: Invalid CPU topology: maxcpus must be equal to or greater "
                          "than smp: sockets (1) * dies (1) * cores (1) * threads (1) == "
                          "maxcpus (1) < smp_cpus (2)");
    ck_assert_int_eq(parse("-smp", "4,cores=3", NULL), -1);
    ck_assert_err_has("cores (3) * threads (1) != maxcpus (4)");
    ck_assert_int_eq(parse("-smp", "4,maxcpus=65", NULL), -1);
    ck_assert_err_prefix("-smp: ");
    ck_assert_int_eq(parse("-smp", "2,foo=1", NULL), -1);
    ck_assert_err_prefix("-smp: ");
}
END_TEST

/* ---- kernel, initrd, bios: files are checked ---- */

START_TEST(kernel_initrd_append_accepted)
{
    ck_assert_int_eq(parse("-kernel", kernel, "-initrd", initrd,
                           "-append", "console=ttyS0 root=/dev/vda", NULL), 0);
    ck_assert_str_eq(o.kernel, kernel);
    ck_assert_str_eq(o.initrd, initrd);
    ck_assert_str_eq(o.append, "console=ttyS0 root=/dev/vda");
}
END_TEST

START_TEST(missing_and_directory_files_refused)
{
    ck_assert_int_eq(parse("-kernel", "/nonexistent", NULL), -1);
    ck_assert_str_eq(err, "-kernel: /nonexistent: No such file or directory");
    ck_assert_int_eq(parse("-kernel", dir, NULL), -1);
    ck_assert_err_prefix("-kernel: ");
    ck_assert_err_has("Is a directory");
    ck_assert_int_eq(parse("-kernel", kernel, "-initrd", "/nonexistent/initrd", NULL), -1);
    ck_assert_err_prefix("-initrd: /nonexistent/initrd: ");
    ck_assert_int_eq(parse("-bios", "/nonexistent.bin", NULL), -1);
    ck_assert_err_prefix("-bios: /nonexistent.bin: ");
    ck_assert_int_eq(parse("-bios", bios, NULL), 0);
    ck_assert_str_eq(o.bios, bios);
    ck_assert_int_eq(parse("-kernel", "", NULL), -1);
    ck_assert_err_prefix("-kernel: ");
}
END_TEST

START_TEST(initrd_and_append_need_kernel)
{
    ck_assert_int_eq(parse("-initrd", initrd, NULL), -1);
    ck_assert_str_eq(err, "-initrd: needs -kernel");
    options_free(&o);
    options_init(&o);
    ck_assert_int_eq(parse("-append", "quiet", NULL), -1);
    ck_assert_str_eq(err, "-append: needs -kernel");
    options_free(&o);
    options_init(&o);
    /* Order does not matter: -kernel may come after. */
    ck_assert_int_eq(parse("-append", "quiet", "-kernel", kernel, NULL), 0);
}
END_TEST

START_TEST(missing_argument)
{
    ck_assert_int_eq(parse("-kernel", NULL), -1);
    ck_assert_str_eq(err, "-kernel: missing argument");
    ck_assert_int_eq(parse("--m", NULL), -1);
    ck_assert_str_eq(err, "-m: missing argument");
    ck_assert_int_eq(parse("-drive", NULL), -1);
    ck_assert_str_eq(err, "-drive: missing argument");
}
END_TEST

START_TEST(unknown_option)
{
    ck_assert_int_eq(parse("-frobnicate", NULL), -1);
    ck_assert_err_prefix("unknown option '-frobnicate'");
    ck_assert_int_eq(parse("--frobnicate", NULL), -1);
    ck_assert_err_prefix("unknown option '--frobnicate'");
    ck_assert_int_eq(parse("-", NULL), -1);
    ck_assert_err_prefix("unknown option '-'");
    /* Option names are exact: no prefixes. */
    ck_assert_int_eq(parse("-ker", kernel, NULL), -1);
    ck_assert_err_prefix("unknown option '-ker'");
}
END_TEST

START_TEST(double_dash_spellings)
{
    ck_assert_int_eq(parse("--kernel", kernel, "--m", "256", "--smp", "1", "--nographic",
                           "--no-reboot", NULL), 0);
    ck_assert_str_eq(o.kernel, kernel);
    ck_assert_uint_eq(o.ram_size, 256 * MIB);
    ck_assert(o.nographic);
    ck_assert(o.no_reboot);
}
END_TEST

/* ---- drives ---- */

START_TEST(drive_all_parameters)
{
    char spec[512];
    snprintf(spec, sizeof(spec),
             "file=%s,format=qcow2,if=virtio,media=disk,index=1,readonly=on,snapshot=on", disk);
    ck_assert_int_eq(parse("-drive", spec, NULL), 0);
    ck_assert_int_eq(o.ndrives, 1);
    const DriveOpt *d = &o.drives[0];
    ck_assert_str_eq(d->file, disk);
    ck_assert_str_eq(d->format, "qcow2");
    ck_assert_int_eq(d->iface, DRIVE_IF_VIRTIO);
    ck_assert_int_eq(d->media, DRIVE_MEDIA_DISK);
    ck_assert_int_eq(d->index, 1);
    ck_assert(d->readonly);
    ck_assert(d->snapshot);
    ck_assert_str_eq(d->opt, "-drive");
}
END_TEST

START_TEST(drive_defaults_and_bare_booleans)
{
    char spec[512];
    snprintf(spec, sizeof(spec), "file=%s,readonly", disk);
    ck_assert_int_eq(parse("-drive", spec, NULL), 0);
    const DriveOpt *d = &o.drives[0];
    ck_assert_ptr_null(d->format);                 /* probe */
    ck_assert_int_eq(d->iface, DRIVE_IF_IDE);      /* QEMU's default interface */
    ck_assert_int_eq(d->media, DRIVE_MEDIA_DISK);
    ck_assert_int_eq(d->index, 0);                 /* first free IDE slot */
    ck_assert(d->readonly);
    ck_assert(!d->snapshot);
}
END_TEST

START_TEST(drive_comma_escaping)
{
    /* "a,b.img" is written a,,b.img inside -drive. */
    char spec[512];
    snprintf(spec, sizeof(spec), "file=%s/a,,b.img,format=raw", dir);
    ck_assert_int_eq(parse("-drive", spec, NULL), 0);
    ck_assert_str_eq(o.drives[0].file, comma_disk);
    ck_assert_str_eq(o.drives[0].format, "raw");
    /* A single comma splits: "a" alone does not exist. */
    options_free(&o);
    options_init(&o);
    snprintf(spec, sizeof(spec), "file=%s/a,b.img", dir);
    ck_assert_int_eq(parse("-drive", spec, NULL), -1);
    ck_assert_err_prefix("-drive: ");
    /* -hda takes the name whole: no escaping needed. */
    options_free(&o);
    options_init(&o);
    ck_assert_int_eq(parse("-hda", comma_disk, NULL), 0);
    ck_assert_str_eq(o.drives[0].file, comma_disk);
}
END_TEST

START_TEST(drive_bad_values)
{
    char spec[512];
    snprintf(spec, sizeof(spec), "file=%s,format=vhdx", disk);
    ck_assert_int_eq(parse("-drive", spec, NULL), -1);
    ck_assert_str_eq(err, "-drive: format 'vhdx' not supported (raw, qcow2, vmdk, vdi, vpc)");
    snprintf(spec, sizeof(spec), "file=%s,if=sd", disk);
    ck_assert_int_eq(parse("-drive", spec, NULL), -1);
    ck_assert_err_prefix("-drive: ");
    ck_assert_err_has("scsi");
    snprintf(spec, sizeof(spec), "file=%s,media=floppy", disk);
    ck_assert_int_eq(parse("-drive", spec, NULL), -1);
    ck_assert_err_has("floppy");
    snprintf(spec, sizeof(spec), "file=%s,cache=sometimes", disk);
    ck_assert_int_eq(parse("-drive", spec, NULL), -1);
    ck_assert_str_eq(err, "-drive: cache=sometimes not supported (writeback, none, writethrough, directsync, unsafe)");
    snprintf(spec, sizeof(spec), "file=%s,aio=posix", disk);
    ck_assert_int_eq(parse("-drive", spec, NULL), -1);
    ck_assert_str_eq(err, "-drive: aio=posix not supported (threads, native, io_uring)");
    snprintf(spec, sizeof(spec), "file=%s,aio=native", disk);
    ck_assert_int_eq(parse("-drive", spec, NULL), -1);
    ck_assert_str_eq(err, "-drive: aio=native needs cache=none or cache=directsync");
    snprintf(spec, sizeof(spec), "file=%s,if=floppy,media=cdrom", disk);
    ck_assert_int_eq(parse("-drive", spec, NULL), -1);
    ck_assert_str_eq(err, "-drive: media=cdrom is not possible with if=floppy");
    snprintf(spec, sizeof(spec), "file=%s,if=floppy,index=2", disk);
    ck_assert_int_eq(parse("-drive", spec, NULL), -1);
    ck_assert_str_eq(err, "-drive: index 2 is out of range for if=floppy (0..1)");
    snprintf(spec, sizeof(spec), "file=%s,blah=1", disk);
    ck_assert_int_eq(parse("-drive", spec, NULL), -1);
    ck_assert_str_eq(err, "-drive: unknown parameter 'blah'");
    snprintf(spec, sizeof(spec), "file=%s,readonly=maybe", disk);
    ck_assert_int_eq(parse("-drive", spec, NULL), -1);
    ck_assert_err_prefix("-drive: ");
    snprintf(spec, sizeof(spec), "file=%s,index=x", disk);
    ck_assert_int_eq(parse("-drive", spec, NULL), -1);
    ck_assert_err_prefix("-drive: ");
    ck_assert_int_eq(parse("-drive", disk, NULL), -1);           /* bare file name */
    ck_assert_err_prefix("-drive: ");
    ck_assert_int_eq(parse("-drive", "format=raw", NULL), -1);   /* no file= */
    ck_assert_err_prefix("-drive: ");
    ck_assert_int_eq(parse("-drive", "file=/nonexistent.img", NULL), -1);
    ck_assert_str_eq(err, "-drive: /nonexistent.img: No such file or directory");
    ck_assert_int_eq(o.ndrives, 0);
}
END_TEST

START_TEST(drive_cache_and_aio)
{
    static const struct { const char *v; DriveCache c; } modes[] = {
        { "writeback", DRIVE_CACHE_WRITEBACK }, { "none", DRIVE_CACHE_NONE },
        { "unsafe", DRIVE_CACHE_UNSAFE }, { "directsync", DRIVE_CACHE_DIRECTSYNC },
        { "writethrough", DRIVE_CACHE_WRITETHROUGH },
    };
    char spec[512];
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        options_free(&o);
        options_init(&o);
        snprintf(spec, sizeof(spec), "file=%s,cache=%s", disk, modes[i].v);
        ck_assert_int_eq(parse("-drive", spec, NULL), 0);
        ck_assert_int_eq(o.drives[0].cache, modes[i].c);
        ck_assert_int_eq(o.drives[0].aio, DRIVE_AIO_THREADS);
    }
    options_free(&o);
    options_init(&o);
    ck_assert_int_eq(parse("-hda", disk, NULL), 0);
    ck_assert_int_eq(o.drives[0].cache, DRIVE_CACHE_WRITEBACK);     /* QEMU's default */
    options_free(&o);
    options_init(&o);
    snprintf(spec, sizeof(spec), "file=%s,cache=none,aio=native", disk);
    ck_assert_int_eq(parse("-drive", spec, NULL), 0);
    ck_assert_int_eq(o.drives[0].aio, DRIVE_AIO_NATIVE);
    snprintf(spec, sizeof(spec), "file=%s,aio=io_uring", disk2);
    ck_assert_int_eq(parse("-drive", spec, NULL), 0);
    ck_assert_int_eq(o.drives[1].aio, DRIVE_AIO_IO_URING);
}
END_TEST

START_TEST(floppy_drives)
{
    char spec[512];
    snprintf(spec, sizeof(spec), "file=%s,if=floppy", disk2);
    /* -fda is A: (slot 0); an unindexed floppy -drive takes B:. */
    ck_assert_int_eq(parse("-fda", disk, "-drive", spec, "-hda", disk, NULL), 0);
    ck_assert_int_eq(o.ndrives, 3);
    ck_assert_int_eq(o.drives[0].iface, DRIVE_IF_FLOPPY);
    ck_assert_int_eq(o.drives[0].index, 0);
    ck_assert_str_eq(o.drives[0].opt, "-fda");
    ck_assert_int_eq(o.drives[1].iface, DRIVE_IF_FLOPPY);
    ck_assert_int_eq(o.drives[1].index, 1);
    ck_assert(!o.drives[1].readonly);
    ck_assert_int_eq(o.drives[2].iface, DRIVE_IF_IDE);
    ck_assert_int_eq(o.drives[2].index, 0);            /* IDE slots are separate */
    ck_assert_int_eq(parse("-fdb", disk, NULL), -1);
    ck_assert_str_eq(err, "-drive and -fdb both use floppy slot 1");
    options_free(&o);
    options_init(&o);
    snprintf(spec, sizeof(spec), "file=%s,if=floppy", disk2);
    ck_assert_int_eq(parse("-fda", disk, "-fdb", disk, "-drive", spec, NULL), -1);
    ck_assert_str_eq(err, "-drive: more than 2 floppy devices");
    options_free(&o);
    options_init(&o);
    ck_assert_int_eq(parse("-fdb", "/nonexistent.img", NULL), -1);
    ck_assert_str_eq(err, "-fdb: /nonexistent.img: No such file or directory");
}
END_TEST

START_TEST(hda_and_drive_index_conflict)
{
    char spec[512];
    snprintf(spec, sizeof(spec), "file=%s,index=0", disk2);
    ck_assert_int_eq(parse("-hda", disk, "-drive", spec, NULL), -1);
    ck_assert_str_eq(err, "-hda and -drive index=0 both use IDE slot 0");
}
END_TEST

START_TEST(disk_slots_and_cdrom)
{
    char spec[512];
    snprintf(spec, sizeof(spec), "file=%s", disk2);
    /* -hda takes slot 0; an unindexed -drive gets the next free one. */
    ck_assert_int_eq(parse("-hda", disk, "-drive", spec, "-cdrom", comma_disk, NULL), 0);
    ck_assert_int_eq(o.ndrives, 3);
    ck_assert_int_eq(o.drives[0].index, 0);
    ck_assert_str_eq(o.drives[0].opt, "-hda");
    ck_assert_int_eq(o.drives[1].index, 1);
    ck_assert_int_eq(o.drives[2].index, 2);          /* secondary master */
    ck_assert_int_eq(o.drives[2].media, DRIVE_MEDIA_CDROM);
    ck_assert(o.drives[2].readonly);
    ck_assert_str_eq(o.drives[2].opt, "-cdrom");
    /* -hdc wants the slot -cdrom holds. */
    ck_assert_int_eq(parse("-hdc", disk, NULL), -1);
    ck_assert_str_eq(err, "-cdrom and -hdc both use IDE slot 2");
}
END_TEST

START_TEST(more_than_four_ide_devices)
{
    char spec[512];
    snprintf(spec, sizeof(spec), "file=%s", disk2);
    ck_assert_int_eq(parse("-hda", disk, "-hdb", disk, "-hdc", disk, "-hdd", disk,
                           "-drive", spec, NULL), -1);
    ck_assert_err_prefix("-drive: ");
    ck_assert_err_has("more than 4 IDE devices");
    /* virtio drives do not use IDE slots. */
    options_free(&o);
    options_init(&o);
    snprintf(spec, sizeof(spec), "file=%s,if=virtio", disk2);
    ck_assert_int_eq(parse("-hda", disk, "-hdb", disk, "-hdc", disk, "-hdd", disk,
                           "-drive", spec, NULL), 0);
    ck_assert_int_eq(o.drives[4].index, 0);
    /* An explicit IDE index past the secondary slave. */
    options_free(&o);
    options_init(&o);
    snprintf(spec, sizeof(spec), "file=%s,index=4", disk2);
    ck_assert_int_eq(parse("-drive", spec, NULL), -1);
    ck_assert_err_prefix("-drive: ");
    ck_assert_err_has("out of range");
}
END_TEST

START_TEST(bare_argument_is_hda)
{
    ck_assert_int_eq(parse(disk, NULL), 0);
    ck_assert_int_eq(o.ndrives, 1);
    ck_assert_str_eq(o.drives[0].file, disk);
    ck_assert_int_eq(o.drives[0].index, 0);
    ck_assert_int_eq(parse("/nonexistent.img", NULL), -1);
    ck_assert_err_prefix("-hda: /nonexistent.img: ");
}
END_TEST

/* ---- boot, serial, display ---- */

START_TEST(boot_order)
{
    ck_assert_int_eq(parse("-boot", "order=dc", NULL), 0);
    ck_assert_str_eq(o.boot_order, "dc");
    ck_assert_int_eq(parse("-boot", "c", NULL), 0);
    ck_assert_str_eq(o.boot_order, "c");
    ck_assert_int_eq(parse("-boot", "order=c,once=d", NULL), 0);
    ck_assert_str_eq(o.boot_once, "d");
    ck_assert_int_eq(parse("-boot", "order=cx", NULL), -1);
    ck_assert_err_prefix("-boot: ");
    ck_assert_err_has("'x'");
    ck_assert_int_eq(parse("-boot", "cc", NULL), -1);
    ck_assert_err_prefix("-boot: ");
    ck_assert_int_eq(parse("-boot", "order=c,menu=on", NULL), 0);
    ck_assert(o.boot_menu);
    ck_assert_int_eq(parse("-boot", "menu=maybe", NULL), -1);
    ck_assert_str_eq(err, "-boot: menu=maybe: expected on or off");
    ck_assert_int_eq(parse("-boot", "order=c,splash=x", NULL), -1);
    ck_assert_str_eq(err, "-boot: unknown parameter 'splash'");
}
END_TEST

START_TEST(machine_and_board_switches)
{
    ck_assert_int_eq(parse("-M", "pc", NULL), 0);
    ck_assert_int_eq(parse("-machine", "pc,accel=kvm:tcg", NULL), 0);
    ck_assert_int_eq(o.naccels, 2);
    ck_assert_str_eq(o.accels[0].name, "kvm");
    ck_assert_str_eq(o.accels[1].name, "tcg");
    ck_assert_int_eq(parse("-machine", "type=pc,accel=tcg", NULL), 0);
    ck_assert_int_eq(parse("-M", "q35", NULL), -1);
    ck_assert_str_eq(err, "-M: machine type 'q35' not supported (pc)");
    ck_assert_int_eq(parse("-no-shutdown", "-nodefaults", NULL), 0);
    ck_assert(o.no_shutdown);
    ck_assert(o.nodefaults);
    ck_assert_int_eq(parse("-global", "isa-debugcon.iobase=0x402", NULL), 0);
    ck_assert_uint_eq(o.debugcon_port, 0x402);
    ck_assert_int_eq(parse("-global", "isa-debugcon.chardev=x", NULL), -1);
    ck_assert_err_prefix("-global: ");
}
END_TEST

START_TEST(serial_backends)
{
    ck_assert_int_eq(parse("-serial", "stdio", NULL), 0);
    ck_assert_int_eq(o.serial, SERIAL_STDIO);
    ck_assert(o.serial_given);
    options_free(&o);
    options_init(&o);
    ck_assert_int_eq(parse("-serial", "file:/tmp/vx86-serial.txt", NULL), 0);
    ck_assert_int_eq(o.serial, SERIAL_FILE);
    ck_assert_str_eq(o.serial_path, "/tmp/vx86-serial.txt");
    options_free(&o);
    options_init(&o);
    ck_assert_int_eq(parse("-serial", "none", NULL), 0);
    ck_assert_int_eq(o.serial, SERIAL_NONE);
    ck_assert(o.serial_given);
    options_free(&o);
    options_init(&o);
    ck_assert_int_eq(parse("-serial", "stdio", "-serial", "none", NULL), -1);
    ck_assert_err_prefix("-serial: ");
    ck_assert_err_has("twice");
    options_free(&o);
    options_init(&o);
    ck_assert_int_eq(parse("-serial", "pty", NULL), -1);
    ck_assert_err_prefix("-serial: ");
    ck_assert_int_eq(parse("-serial", "file:", NULL), -1);
    ck_assert_err_prefix("-serial: ");
}
END_TEST

START_TEST(nographic_and_display)
{
    ck_assert_int_eq(parse("-nographic", NULL), 0);
    ck_assert_int_eq(o.display, DISPLAY_NONE);
    ck_assert_int_eq(o.serial, SERIAL_STDIO);           /* as in QEMU */
    options_free(&o);
    options_init(&o);
    ck_assert_int_eq(parse("-nographic", "-serial", "none", NULL), 0);
    ck_assert_int_eq(o.serial, SERIAL_NONE);            /* explicit -serial wins */
    options_free(&o);
    options_init(&o);
    ck_assert_int_eq(parse("-display", "sdl", NULL), 0);
    ck_assert_int_eq(o.display, DISPLAY_SDL);
    ck_assert_int_eq(parse("-display", "none", NULL), 0);
    ck_assert_int_eq(o.display, DISPLAY_NONE);
    ck_assert_int_eq(parse("-display", "curses", NULL), 0);
    ck_assert_int_eq(o.display, DISPLAY_CURSES);
    ck_assert_int_eq(parse("-display", "gtk", NULL), -1);
    ck_assert_err_prefix("-display: ");
    ck_assert_err_has("gtk");
    options_free(&o);
    options_init(&o);
    ck_assert_int_eq(parse("-name", "guest=web1", "-full-screen", NULL), 0);
    ck_assert_str_eq(o.name, "web1");
    ck_assert(o.full_screen);
    ck_assert_int_eq(parse("-name", "a,debug-threads=on", NULL), -1);
    ck_assert_err_prefix("-name: ");
    options_free(&o);
    options_init(&o);
    ck_assert_int_eq(parse("-display", "sdl,window-close=off", NULL), 0);
    ck_assert(o.no_quit);
    ck_assert_int_eq(parse("-display", "sdl,window-close=maybe", NULL), -1);
    ck_assert_int_eq(parse("-nographic", "-display", "curses", NULL), -1);
    ck_assert_err_prefix("-nographic: ");
}
END_TEST

START_TEST(nographic_conflicts_with_display_sdl)
{
    ck_assert_int_eq(parse("-nographic", "-display", "sdl", NULL), -1);
    ck_assert_err_prefix("-nographic: ");
    ck_assert_err_has("-display sdl");
    options_free(&o);
    options_init(&o);
    ck_assert_int_eq(parse("-display", "sdl", "-nographic", NULL), -1);
    ck_assert_err_prefix("-nographic: ");
}
END_TEST

/* ---- accelerators ---- */

START_TEST(accel_order_and_interp)
{
    ck_assert_int_eq(parse("-accel", "kvm", "-accel", "tcg,interp=on", NULL), 0);
    ck_assert_int_eq(o.naccels, 2);
    ck_assert_str_eq(o.accels[0].name, "kvm");
    ck_assert(!o.accels[0].interp);
    ck_assert_str_eq(o.accels[1].name, "tcg");
    ck_assert(o.accels[1].interp);
    options_free(&o);
    options_init(&o);
    ck_assert_int_eq(parse("-accel", "tcg", "-enable-kvm", "-accel", "accel=tcg,interp=off", NULL), 0);
    ck_assert_int_eq(o.naccels, 3);
    ck_assert_str_eq(o.accels[0].name, "tcg");
    ck_assert_str_eq(o.accels[1].name, "kvm");
    ck_assert_str_eq(o.accels[2].name, "tcg");
    ck_assert(!o.accels[2].interp);
}
END_TEST

START_TEST(accel_thread_modes)
{
    ck_assert_int_eq(parse("-accel", "tcg", NULL), 0);
    ck_assert_int_eq(o.accels[0].thread, ACCEL_THREAD_DEFAULT);
    ck_assert_int_eq(parse("-accel", "tcg,thread=single", NULL), 0);
    ck_assert_int_eq(o.accels[o.naccels - 1].thread, ACCEL_THREAD_SINGLE);
    ck_assert_int_eq(parse("-accel", "tcg,thread=multi", NULL), 0);
    ck_assert_int_eq(o.accels[o.naccels - 1].thread, ACCEL_THREAD_MULTI);
}
END_TEST

START_TEST(accel_errors)
{
    ck_assert_int_eq(parse("-accel", "foo", NULL), -1);
    ck_assert_str_eq(err, "-accel: unknown accelerator 'foo'");
    ck_assert_int_eq(parse("-accel", "kvm,interp=on", NULL), -1);
    ck_assert_err_prefix("-accel: ");
    ck_assert_int_eq(parse("-accel", "tcg,thread=many", NULL), -1);
    ck_assert_str_eq(err, "-accel: thread=many: expected single or multi");
    ck_assert_int_eq(parse("-accel", "kvm,thread=single", NULL), -1);
    ck_assert_err_prefix("-accel: ");

    ck_assert_int_eq(parse("-accel", "tcg,interp=sometimes", NULL), -1);
    ck_assert_err_prefix("-accel: ");
    ck_assert_int_eq(o.naccels, 0);
    ck_assert_int_eq(parse("-accel", "kvm", "-accel", "tcg", "-accel", "kvm",
                           "-accel", "tcg", "-accel", "tcg", NULL), -1);
    ck_assert_err_prefix("-accel: ");
    ck_assert_err_has("at most 4");
}
END_TEST

/* ---- debugging ---- */

START_TEST(d_log_items)
{
    ck_assert_int_eq(parse("-d", "int,unimp", NULL), 0);
    ck_assert_uint_eq(o.log_mask, LOG_INT | LOG_UNIMP);
    ck_assert_int_eq(parse("-d", "in_asm", "-D", "/tmp/vx86.log", NULL), 0);
    ck_assert_uint_eq(o.log_mask, LOG_IN_ASM);           /* the last -d wins */
    ck_assert_str_eq(o.log_file, "/tmp/vx86.log");
    ck_assert_int_eq(parse("-d", "pcall,ioport,mmu", NULL), 0);
    ck_assert_uint_eq(o.log_mask, LOG_PCALL | LOG_IOPORT | LOG_MMU);
    ck_assert_int_eq(parse("-d", "int,bogus", NULL), -1);
    ck_assert_err_prefix("-d: ");
    ck_assert_err_has("'bogus'");
}
END_TEST

START_TEST(d_help_stops_parsing)
{
    /* Like QEMU, the help request wins over anything after it. */
    ck_assert_int_eq(parse("-d", "help", "-frobnicate", NULL), 0);
    ck_assert(o.want_log_help);
}
END_TEST

START_TEST(help_and_version)
{
    ck_assert_int_eq(parse("--help", "-frobnicate", NULL), 0);
    ck_assert(o.want_help);
    options_free(&o);
    options_init(&o);
    ck_assert_int_eq(parse("-h", NULL), 0);
    ck_assert(o.want_help);
    options_free(&o);
    options_init(&o);
    ck_assert_int_eq(parse("-version", NULL), 0);
    ck_assert(o.want_version);
    options_free(&o);
    options_init(&o);
    ck_assert_int_eq(parse("--version", NULL), 0);
    ck_assert(o.want_version);
    /* Earlier errors still count. */
    options_free(&o);
    options_init(&o);
    ck_assert_int_eq(parse("-m", "12Q", "--help", NULL), -1);
}
END_TEST

START_TEST(mon_option)
{
    ck_assert_int_eq(parse("-chardev", "socket,id=m,path=/tmp/m,server=on,wait=off",
                           "-mon", "chardev=m,mode=control", NULL), 0);
    ck_assert_int_eq(o.nmons, 1);
    ck_assert_str_eq(o.mons[0].chardev, "m");
    ck_assert(o.mons[0].control);
    ck_assert_int_eq(parse("-mon", "chardev=nope", NULL), -1);
    ck_assert_int_eq(parse("-mon", "chardev=m,mode=fancy", NULL), -1);
}
END_TEST

START_TEST(gdb_and_flags)
{
    ck_assert_int_eq(parse("-s", "-S", "-no-reboot", "-snapshot",
                           "-cpu", "qemu64", "-monitor", "none", "-qmp", "unix:/tmp/q,server", NULL), 0);
    ck_assert_str_eq(o.gdb, "tcp::1234");
    ck_assert(o.start_stopped);
    ck_assert(o.no_reboot);
    ck_assert(o.snapshot);
    ck_assert_str_eq(o.cpu_model, "qemu64");
    ck_assert_str_eq(o.monitor, "none");
    ck_assert_int_eq(o.nqmp, 1);
    ck_assert_str_eq(o.qmp[0], "unix:/tmp/q,server");
    ck_assert_int_eq(parse("-gdb", "tcp::4321", NULL), 0);
    ck_assert_str_eq(o.gdb, "tcp::4321");
    ck_assert_int_eq(parse("-gdb", "tcp::0", NULL), -1);
    ck_assert_err_prefix("-gdb: ");
    ck_assert_int_eq(parse("-gdb", "tcp::65536", NULL), -1);
    ck_assert_err_prefix("-gdb: ");
    ck_assert_int_eq(parse("-gdb", "udp::1234", NULL), -1);
    ck_assert_err_prefix("-gdb: ");
}
END_TEST

START_TEST(error_is_one_line)
{
    ck_assert_int_eq(parse("-kernel", "/nonexistent\nsecond line", NULL), -1);
    ck_assert_err_prefix("-kernel: ");
    ck_assert_ptr_null(strchr(err, '\n'));
}
END_TEST

START_TEST(readonly_image_needs_readonly_flag)
{
    if (geteuid() == 0)
        return;                        /* root may write anything: nothing to test */
    ck_assert_int_eq(chmod(disk, 0444), 0);
    ck_assert_int_eq(parse("-hda", disk, NULL), -1);
    ck_assert_err_prefix("-hda: ");
    ck_assert_err_has("readonly=on");
    options_free(&o);
    options_init(&o);
    ck_assert_int_eq(parse("-hda", disk, "-snapshot", NULL), 0);
}
END_TEST

START_TEST(vga_options)
{
    ck_assert_int_eq(parse("-kernel", kernel, NULL), 0);
    ck_assert_int_eq(o.vga, VGA_DEFAULT);
    ck_assert(!o.nodefaults);
    options_free(&o);
    options_init(&o);
    ck_assert_int_eq(parse("-kernel", kernel, "-vga", "none", "-nodefaults",
                           "-global", "VGA.vgamem_mb=32", NULL), 0);
    ck_assert_int_eq(o.vga, VGA_NONE);
    ck_assert(o.nodefaults);
    ck_assert_uint_eq(o.vgamem_mb, 32);
    options_free(&o);
    options_init(&o);
    ck_assert_int_eq(parse("-vga", "cirrus", NULL), -1);
    ck_assert_msg(starts_with(err, "-vga: unsupported VGA card 'cirrus'"), "%s", err);
    options_free(&o);
    options_init(&o);
    ck_assert_int_eq(parse("-global", "VGA.vgamem_mb=3", NULL), -1);
    ck_assert_msg(starts_with(err, "-global: VGA.vgamem_mb=3"), "%s", err);
    options_free(&o);
    options_init(&o);
    ck_assert_int_eq(parse("-global", "e1000.mac=1", NULL), -1);
    ck_assert_msg(starts_with(err, "-global: 'e1000.mac': property not supported"), "%s", err);
}
END_TEST

START_TEST(network_options)
{
    /* QEMU's pc default: one e1000 on user networking... */
    ck_assert_int_eq(parse(NULL), 0);
    ck_assert_int_eq(o.nnics, 1);
    ck_assert_int_eq(o.nnetdevs, 1);
    ck_assert_str_eq(o.netdevs[0].spec, "user");
    options_free(&o);
    options_init(&o);
    /* ...but not with -nodefaults, -nic none or any -netdev. */
    ck_assert_int_eq(parse("-nodefaults", NULL), 0);
    ck_assert_int_eq(o.nnics, 0);
    options_free(&o);
    options_init(&o);
    ck_assert_int_eq(parse("-nic", "none", NULL), 0);
    ck_assert_int_eq(o.nnics + o.nnetdevs, 0);
    options_free(&o);
    options_init(&o);
    ck_assert_int_eq(parse("-netdev", "user,id=n0,hostfwd=tcp::8080-:80", "-device",
                           "e1000,netdev=n0,mac=52:54:00:aa:bb:cc", NULL), 0);
    ck_assert_int_eq(o.nnics, 1);
    ck_assert_str_eq(o.nics[0].netdev, "n0");
    ck_assert(o.nics[0].has_mac);
    ck_assert_uint_eq(o.nics[0].mac[3], 0xaa);
    options_free(&o);
    options_init(&o);
    ck_assert_int_eq(parse("-nic", "user,model=e1000,mac=52:54:00:00:00:01,hostfwd=tcp::1-:2", NULL), 0);
    ck_assert_int_eq(o.nnics, 1);
    ck_assert_str_eq(o.netdevs[0].spec, "user,hostfwd=tcp::1-:2");
    options_free(&o);
    options_init(&o);
    ck_assert_int_eq(parse("-net", "nic,model=e1000", "-net", "user,restrict=on", NULL), 0);
    ck_assert_str_eq(o.nics[0].netdev, o.netdevs[0].id);
    options_free(&o);
    options_init(&o);
    ck_assert_int_eq(parse("-device", "e1000,netdev=nope", "-nodefaults", NULL), -1);
    ck_assert_err_has("no -netdev with id=nope");
    options_free(&o);
    options_init(&o);
    ck_assert_int_eq(parse("-netdev", "user,id=a", "-netdev", "user,id=a", NULL), -1);
    ck_assert_err_has("given twice");
    options_free(&o);
    options_init(&o);
    ck_assert_int_eq(parse("-netdev", "user", NULL), -1);
    ck_assert_err_prefix("-netdev:");
    options_free(&o);
    options_init(&o);
    ck_assert_int_eq(parse("-nic", "user,model=rtl8139", NULL), -1);
    ck_assert_err_has("not supported");
    options_free(&o);
    options_init(&o);
    ck_assert_int_eq(parse("-netdev", "socket,id=s,connect=x", NULL), -1);
    ck_assert_err_has("HOST:PORT");
    options_free(&o);
    options_init(&o);
    ck_assert_int_eq(parse("-device", "e1000,mac=01:00:00:00:00:00", NULL), -1);
    ck_assert_err_has("unicast");
}
END_TEST

START_TEST(debugcon_device_and_kvm_force)
{
    ck_assert_int_eq(o.ndevices, 0);
    ck_assert_int_eq(parse("-debugcon", "file:/tmp/x", "-device", "isa-debug-exit,iobase=0x501,iosize=2",
                           "-accel", "kvm,force=on", NULL), 0);
    ck_assert_int_eq(o.debugcon, SERIAL_FILE);
    ck_assert_str_eq(o.debugcon_path, "/tmp/x");
    ck_assert_int_eq(o.ndevices, 1);
    ck_assert_int_eq(o.devices[0].type, DEVICE_ISA_DEBUG_EXIT);
    ck_assert_int_eq(o.devices[0].iobase, 0x501);
    ck_assert_int_eq(o.devices[0].iosize, 2);
    ck_assert(o.accels[0].force);
    options_free(&o);
    options_init(&o);
    ck_assert_int_eq(parse("-device", "ne2k_pci", NULL), -1);
    ck_assert_err_prefix("-device:");
    ck_assert_err_has("device 'ne2k_pci' not supported");
    options_free(&o);
    options_init(&o);
    ck_assert_int_eq(parse("-device", "isa-debug-exit,iosize=3", NULL), -1);
    ck_assert_err_has("iosize=3");
    options_free(&o);
    options_init(&o);
    ck_assert_int_eq(parse("-accel", "tcg,force=on", NULL), -1);
    ck_assert_err_has("force= applies only to kvm");
    options_free(&o);
    options_init(&o);
    ck_assert_int_eq(parse("-debugcon", "tcp:1", NULL), -1);
    ck_assert_err_prefix("-debugcon:");
}
END_TEST

/* -chardev and its users: ids, backends, parameters per backend. */
START_TEST(chardev_backends_and_users)
{
    ck_assert_int_eq(parse("-chardev", "file,id=log,path=/tmp/vx86-log", "-chardev", "null,id=n0",
                           "-chardev", "socket,id=s1,path=/tmp/vx86-sock,server=on,wait=off",
                           "-chardev", "socket,id=t1,host=127.0.0.1,port=4555",
                           "-chardev", "pipe,id=p,path=/tmp/vx86-pipe", "-chardev", "stdio,id=con",
                           "-serial", "chardev:con", "-debugcon", "chardev:log",
                           "-device", "isa-debugcon,iobase=0x402,chardev=n0", NULL), 0);
    ck_assert_int_eq(o.nchardevs, 6);
    ck_assert_int_eq(o.chardevs[0].backend, CHARDEV_FILE);
    ck_assert_str_eq(o.chardevs[0].path, "/tmp/vx86-log");
    ck_assert_int_eq(o.chardevs[2].backend, CHARDEV_SOCKET);
    ck_assert(o.chardevs[2].server);
    ck_assert(!o.chardevs[2].wait);
    ck_assert_str_eq(o.chardevs[3].host, "127.0.0.1");
    ck_assert_int_eq(o.chardevs[3].port, 4555);
    ck_assert(!o.chardevs[3].server);
    ck_assert_int_eq(o.serial, SERIAL_CHARDEV);
    ck_assert_str_eq(o.serial_path, "con");
    ck_assert_int_eq(o.debugcon, SERIAL_CHARDEV);
    ck_assert_int_eq(o.devices[0].type, DEVICE_ISA_DEBUGCON);
    ck_assert_int_eq(o.devices[0].iobase, 0x402);
    ck_assert_str_eq(o.devices[0].chardev, "n0");
    ck_assert_ptr_eq(options_find_chardev(&o, "p"), &o.chardevs[4]);

    static const struct { const char *a[6]; const char *msg; } bad[] = {
        { { "-chardev", "file,path=/tmp/x" }, "id= is required" },
        { { "-chardev", "file,id=a" }, "file needs path=PATH" },
        { { "-chardev", "pty,id=a" }, "backend 'pty' not supported" },
        { { "-chardev", "null,id=a,path=/x" }, "null: parameter 'path' does not apply" },
        { { "-chardev", "null,id=1a" }, "invalid id '1a'" },
        { { "-chardev", "null,id=a", "-chardev", "null,id=a" }, "duplicate id 'a'" },
        { { "-chardev", "socket,id=a" }, "socket needs path=PATH (unix) or port=N (tcp)" },
        { { "-chardev", "socket,id=a,path=/x,port=5" }, "not both" },
        { { "-chardev", "socket,id=a,port=70000" }, "port=70000" },
        { { "-chardev", "socket,id=a,port=5,server=maybe" }, "server=maybe: expected on or off" },
        { { "-chardev", "null,id=a,frob=1" }, "unknown parameter 'frob'" },
        { { "-serial", "chardev:nope" }, "-serial: chardev 'nope' not found" },
        { { "-chardev", "null,id=a", "-serial", "chardev:a", "-debugcon", "chardev:a" },
          "-debugcon: chardev 'a' is already used by -serial" },
        { { "-device", "isa-debugcon,chardev=zz" }, "chardev 'zz' not found" },
        { { "-device", "isa-debugcon,iobase=0x10000" }, "iobase=0x10000" },
        { { "-device", "isa-debugcon,iosize=2" }, "isa-debugcon: unknown property 'iosize'" },
        { { "-device", "pci-testdev,addr=0x20" }, "addr=0x20" },
        { { "-device", "pc-testdev", "-device", "pc-testdev" }, "at most 1" },
        { { "-device", "VGA,addr=5" }, "addr= must be 2" },
        { { "-device", "isa-debug-exit,iobase=0xfffe" }, "run past 0xffff" },
        { { "-device", "scsi-hd" }, "scsi-hd needs drive=ID" },
        { { "-device", "scsi-hd,drive=d0,scsi-id=256" }, "scsi-id=256: expected 0..255" },
        { { "-device", "scsi-cd,lun=16384" }, "lun=16384: expected 0..16383" },
        { { "-device", "scsi-cd,channel=1" }, "channel=1" },
        { { "-device", "scsi-cd,serial=123456789012345678901" }, "serial=" },
        { { "-device", "scsi-cd,drive=nope" }, "scsi-cd: no -drive with id=nope" },
        { { "-device", "virtio-scsi-pci,num_queues=15" }, "num_queues=15: expected 1..14" },
        { { "-device", "virtio-balloon-pci,free-page-reporting=maybe" }, "expected on or off" },
        { { "-device", "virtio-balloon-pci", "-device", "virtio-balloon-pci" }, "at most 1" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        options_free(&o);
        options_init(&o);
        char *argv[8] = { "vx86" };
        int argc = 1;
        for (int j = 0; j < 6 && bad[i].a[j]; j++)
            argv[argc++] = (char *)bad[i].a[j];
        ck_assert_int_eq(options_parse(&o, argc, argv, err, sizeof err), -1);
        ck_assert_err_has(bad[i].msg);
        ck_assert(!strchr(err, '\n'));
    }
}
END_TEST

START_TEST(device_table)
{
    ck_assert_int_eq(parse("-device", "pc-testdev", "-device", "pci-testdev,addr=5.0",
                           "-device", "pci-testdev", "-device", "VGA,vgamem_mb=32",
                           "-device", "isa-debugcon,id=dc", "-global", "isa-debugcon.iobase=0x402",
                           NULL), 0);
    ck_assert_int_eq(o.ndevices, 5);
    ck_assert_int_eq(o.devices[0].type, DEVICE_PC_TESTDEV);
    ck_assert_int_eq(o.devices[0].iobase, 0xe0);
    ck_assert_int_eq(o.devices[1].devfn, 5 << 3);
    ck_assert_int_eq(o.devices[2].devfn, -1);
    ck_assert_int_eq(o.vga, VGA_STD);
    ck_assert_int_eq(o.vgamem_mb, 32);
    ck_assert_int_eq(o.devices[4].iobase, 0x402);      /* -global applies to every debugcon */
    ck_assert_ptr_null(o.devices[4].chardev);
    options_free(&o);
    options_init(&o);
    ck_assert_int_eq(parse("-device", "help", "-device", "nonsense", NULL), 0);
    ck_assert(o.want_device_help);
    FILE *f = tmpfile();
    options_print_devices(f);
    rewind(f);
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    static const char *const names[] = { "isa-debug-exit", "isa-debugcon", "pc-testdev",
                                         "pci-testdev", "VGA" };
    for (size_t i = 0; i < 5; i++)
        ck_assert_msg(strstr(buf, names[i]), "-device help lacks %s", names[i]);
}
END_TEST

START_TEST(scsi_and_balloon_devices)
{
    char d0[512], d1[512], d2[512];
    snprintf(d0, sizeof d0, "if=none,id=d0,file=%s,format=raw", disk);
    snprintf(d1, sizeof d1, "if=none,id=c0,file=%s,format=raw,media=cdrom", disk);
    snprintf(d2, sizeof d2, "if=scsi,file=%s,format=raw,index=3", disk);
    ck_assert_int_eq(parse("-drive", d0, "-drive", d1, "-drive", d2,
                           "-device", "virtio-scsi-pci,id=hba,num_queues=2,addr=6",
                           "-device", "scsi-hd,drive=d0,bus=hba.0,scsi-id=3,lun=2,serial=abc",
                           "-device", "scsi-cd,drive=c0", "-device", "scsi-cd",
                           "-device", "virtio-balloon-pci,free-page-reporting=on", NULL), 0);
    ck_assert_int_eq(o.drives[2].iface, DRIVE_IF_SCSI);
    ck_assert_int_eq(o.drives[2].index, 3);
    ck_assert_int_eq(o.ndevices, 5);
    ck_assert_int_eq(o.devices[0].type, DEVICE_VIRTIO_SCSI);
    ck_assert_str_eq(o.devices[0].id, "hba");
    ck_assert_int_eq(o.devices[0].num_queues, 2);
    ck_assert_int_eq(o.devices[0].devfn, 6 << 3);
    ck_assert_int_eq(o.devices[1].type, DEVICE_SCSI_HD);
    ck_assert_str_eq(o.devices[1].bus, "hba.0");
    ck_assert_int_eq(o.devices[1].scsi_id, 3);
    ck_assert_int_eq(o.devices[1].lun, 2);
    ck_assert_str_eq(o.devices[1].serial, "abc");
    ck_assert_int_eq(o.devices[2].type, DEVICE_SCSI_CD);
    ck_assert_int_eq(o.devices[2].scsi_id, -1);
    ck_assert_str_eq(o.devices[3].drive, "");
    ck_assert_int_eq(o.devices[4].type, DEVICE_VIRTIO_BALLOON);
    ck_assert(o.devices[4].free_page_reporting);
    ck_assert(!o.devices[4].deflate_on_oom);
    /* A CD drive for scsi-hd, one drive for two units: refused. */
    options_free(&o);
    options_init(&o);
    ck_assert_int_eq(parse("-drive", d1, "-device", "scsi-hd,drive=c0", NULL), -1);
    ck_assert_err_has("scsi-hd: drive c0 is a CD-ROM");
    options_free(&o);
    options_init(&o);
    ck_assert_int_eq(parse("-drive", d0, "-device", "scsi-hd,drive=d0", "-device",
                           "virtio-blk-pci,drive=d0", NULL), -1);
    ck_assert_err_has("drive d0 is used twice");
}
END_TEST

START_TEST(initrd_module_lists)
{
    char list[512];
    snprintf(list, sizeof list, "%s arg1 arg2,%s,%s x,,y", kernel, initrd, kernel);
    ck_assert_int_eq(parse("-kernel", kernel, "-initrd", list, NULL), 0);
    ck_assert_int_eq(options_initrd_count(o.initrd), 3);
    char *path, *cmd;
    ck_assert(options_initrd_item(o.initrd, 0, &path, &cmd));
    ck_assert_str_eq(path, kernel);
    ck_assert(strstr(cmd, " arg1 arg2") && !strncmp(cmd, kernel, strlen(kernel)));
    free(path);
    free(cmd);
    ck_assert(options_initrd_item(o.initrd, 2, &path, &cmd));
    ck_assert(strstr(cmd, " x,y"));               /* ",," is a literal comma */
    free(path);
    free(cmd);
    ck_assert(!options_initrd_item(o.initrd, 3, &path, &cmd));
    options_free(&o);
    options_init(&o);
    snprintf(list, sizeof list, "%s,%s/missing arg", kernel, dir);
    ck_assert_int_eq(parse("-kernel", kernel, "-initrd", list, NULL), -1);
    ck_assert_err_prefix("-initrd: ");
    ck_assert_err_has("missing: No such file");
}
END_TEST

/* -cpu MODEL,+feat,-feat,feat=on|off: checked by cpu_model_apply (main
 * calls it before anything starts), seen by the guest through CPUID. */
START_TEST(cpu_feature_lists)
{
    char e[256];
    CPUConfig cfg = CPU_CONFIG_DEFAULT;
    ck_assert(cpu_model_apply(&cfg, "max", e, sizeof e));
    ck_assert(cfg.feat[CPU_FEAT_1_ECX] & (1u << 20));            /* SSE4.2 */
    CPUConfig cfg2 = CPU_CONFIG_DEFAULT;
    ck_assert_msg(cpu_model_apply(&cfg2, "max,-sse4.2,popcnt=off,+sse2,bmi2=on", e, sizeof e), "%s", e);
    ck_assert_uint_eq(cfg2.feat[CPU_FEAT_1_ECX] & (1u << 20), 0);
    ck_assert_uint_eq(cfg2.feat[CPU_FEAT_1_ECX] & (1u << 23), 0);   /* POPCNT */
    ck_assert(cfg2.feat[CPU_FEAT_7_EBX] & (1u << 8));                /* BMI2 */
    CPUConfig cfg3 = CPU_CONFIG_DEFAULT;
    ck_assert(cpu_model_apply(&cfg3, "qemu64,+sse4_1,+pni", e, sizeof e));   /* QEMU's aliases */
    ck_assert(cfg3.feat[CPU_FEAT_1_ECX] & ((1u << 19) | 1u));

    static const struct { const char *spec, *msg; } bad[] = {
        { "max,+frobnicate", "unknown CPU feature 'frobnicate'" },
        { "max,-frobnicate", "unknown CPU feature 'frobnicate'" },
        { "qemu64,+avx", "CPU feature 'avx' is not implemented by vx86" },
        { "max,sse2=maybe", "sse2=maybe: expected on or off" },
        { "max,sse2", "expected +FEATURE, -FEATURE or FEATURE=on|off" },
        { "max,", "invalid CPU model" },
        { "pentium9,+sse2", "unknown CPU model 'pentium9'" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CPUConfig c = CPU_CONFIG_DEFAULT;
        ck_assert_msg(!cpu_model_apply(&c, bad[i].spec, e, sizeof e), "%s accepted", bad[i].spec);
        ck_assert_msg(strstr(e, bad[i].msg), "'%s' -> '%s'", bad[i].spec, e);
    }

    /* The guest's CPUID follows: leaf 1 ECX bit 20 gone, the rest kept. */
    Machine *m = machine_new(1 << 20, CLOCK_MANUAL, e, sizeof e);
    ck_assert_ptr_nonnull(m);
    CPUConfig cc = CPU_CONFIG_DEFAULT;
    cc.model_name = "max,-sse4.2";
    CPUState *cpu = cpu_create(m, 0, &cc, e, sizeof e);
    ck_assert_msg(cpu != NULL, "%s", e);
    uint32_t r[4];
    cpu_cpuid(cpu, 1, 0, r);
    ck_assert_uint_eq(r[2] & (1u << 20), 0);
    ck_assert(r[2] & (1u << 19));
    ck_assert(!cpu_has_feature(cpu, X86_FEAT_SSE42));   /* and its instructions #UD */
    ck_assert(cpu_has_feature(cpu, X86_FEAT_SSE41));
    cpu_free(cpu);
    machine_free(m);

    ck_assert_int_eq(parse("-cpu", "max,-sse4.2", NULL), 0);
    ck_assert_str_eq(o.cpu_model, "max,-sse4.2");
}
END_TEST

/* -icount and -rtc as qemu-system-x86_64 spells them (qemu-options.hx):
 * [shift=]N|auto, sleep=, rr=record|replay with rrfile=; base=utc|
 * localtime|2006-06-17T16:01:21 (seconds from GNU date -u -d ... +%s). */
START_TEST(icount_and_rtc)
{
    ck_assert_int_eq(o.icount_shift, ICOUNT_OFF);
    ck_assert_int_eq(parse("-icount", "3", NULL), 0);
    ck_assert_int_eq(o.icount_shift, 3);
    ck_assert(o.icount_sleep);
    ck_assert_int_eq(o.naccels, 1);                 /* only tcg counts */
    ck_assert_str_eq(o.accels[0].name, "tcg");
    options_free(&o);
    options_init(&o);
    ck_assert_int_eq(parse("-icount", "shift=auto,sleep=off,rr=record,rrfile=/tmp/x.log", NULL), 0);
    ck_assert_int_eq(o.icount_shift, ICOUNT_AUTO);
    ck_assert(!o.icount_sleep);
    ck_assert_int_eq(o.rr, RR_RECORD);
    ck_assert_str_eq(o.rr_file, "/tmp/x.log");
    options_free(&o);
    options_init(&o);
    ck_assert_int_lt(parse("-icount", "shift=11", NULL), 0);
    ck_assert_err_prefix("-icount: ");
    ck_assert_int_lt(parse("-icount", "shift=0,rr=replay", NULL), 0);
    ck_assert_err_has("rrfile");
    ck_assert_int_lt(parse("-icount", "shift=0,rrfile=x", NULL), 0);
    ck_assert_int_lt(parse("-icount", "rr=record,rrfile=x", NULL), 0);
    ck_assert_err_has("shift");
    ck_assert_int_lt(parse("-icount", "shift=1,rr=play,rrfile=x", NULL), 0);
    ck_assert_int_lt(parse("-icount", "shift=1,align=on", NULL), 0);
    options_free(&o);
    options_init(&o);
    ck_assert_int_lt(parse("-accel", "kvm", "-icount", "1", NULL), 0);
    ck_assert_err_prefix("-icount: ");
    /* One CPU only (docs/usage.md, record/replay); -smp 1 is fine. */
    options_free(&o);
    options_init(&o);
    ck_assert_int_lt(parse("-smp", "2", "-icount", "shift=1,rr=record,rrfile=x", NULL), 0);
    ck_assert_err_prefix("-icount: ");
    ck_assert_err_has("-smp 2");
    options_free(&o);
    options_init(&o);
    ck_assert_int_eq(parse("-smp", "1", "-icount", "1", NULL), 0);

    options_free(&o);
    options_init(&o);
    ck_assert_int_eq(o.rtc_base, -1);
    ck_assert_int_eq(parse("-rtc", "base=2006-06-17T16:01:21,clock=vm", NULL), 0);
    ck_assert_int_eq(o.rtc_base, 1150560081);
    ck_assert_int_eq(parse("-rtc", "base=2000-03-01", NULL), 0);
    ck_assert_int_eq(o.rtc_base, 951868800);
    ck_assert_int_eq(parse("-rtc", "base=localtime", NULL), 0);
    ck_assert(o.rtc_localtime);
    ck_assert_int_lt(parse("-rtc", "base=2006-02-30", NULL), 0);
    ck_assert_err_prefix("-rtc: ");
    ck_assert_int_lt(parse("-rtc", "base=2006-06-17T25:00:00", NULL), 0);
    ck_assert_int_lt(parse("-rtc", "clock=host", NULL), 0);
}
END_TEST

/* A replay must get the recording's options; debugging and host-side
 * options may differ. */
START_TEST(cmdline_hash_ignores_debugging)
{
    ck_assert_int_eq(parse("-m", "256", "-serial", "stdio", "-icount", "shift=0", NULL), 0);
    uint64_t h = o.cmdline_hash;
    options_free(&o);
    options_init(&o);
    ck_assert_int_eq(parse("-s", "-S", "-m", "256", "-d", "int", "-serial", "file:/tmp/o",
                           "-icount", "shift=0,rr=replay,rrfile=/tmp/l", NULL), 0);
    ck_assert_uint_eq(o.cmdline_hash, h);
    options_free(&o);
    options_init(&o);
    ck_assert_int_eq(parse("-m", "255", "-serial", "stdio", NULL), 0);
    ck_assert_uint_ne(o.cmdline_hash, h);
}
END_TEST

static Suite *options_suite(void)
{
    Suite *s = suite_create("options");
    TCase *tc = tcase_create("parse");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, defaults_without_options);
    tcase_add_test(tc, size_units);
    tcase_add_test(tc, size_rejects_garbage_zero_overflow);
    tcase_add_test(tc, m_default_unit_is_mib);
    tcase_add_test(tc, m_errors_name_the_option);
    tcase_add_test(tc, smp_counts_and_ranges);
    tcase_add_test(tc, smp_topology_as_qemu);
    tcase_add_test(tc, accel_thread_modes);
    tcase_add_test(tc, kernel_initrd_append_accepted);
    tcase_add_test(tc, missing_and_directory_files_refused);
    tcase_add_test(tc, initrd_and_append_need_kernel);
    tcase_add_test(tc, missing_argument);
    tcase_add_test(tc, unknown_option);
    tcase_add_test(tc, double_dash_spellings);
    tcase_add_test(tc, drive_all_parameters);
    tcase_add_test(tc, drive_defaults_and_bare_booleans);
    tcase_add_test(tc, drive_comma_escaping);
    tcase_add_test(tc, drive_bad_values);
    tcase_add_test(tc, drive_cache_and_aio);
    tcase_add_test(tc, floppy_drives);
    tcase_add_test(tc, hda_and_drive_index_conflict);
    tcase_add_test(tc, disk_slots_and_cdrom);
    tcase_add_test(tc, more_than_four_ide_devices);
    tcase_add_test(tc, bare_argument_is_hda);
    tcase_add_test(tc, boot_order);
    tcase_add_test(tc, machine_and_board_switches);
    tcase_add_test(tc, serial_backends);
    tcase_add_test(tc, nographic_and_display);
    tcase_add_test(tc, nographic_conflicts_with_display_sdl);
    tcase_add_test(tc, accel_order_and_interp);
    tcase_add_test(tc, accel_errors);
    tcase_add_test(tc, d_log_items);
    tcase_add_test(tc, d_help_stops_parsing);
    tcase_add_test(tc, help_and_version);
    tcase_add_test(tc, gdb_and_flags);
    tcase_add_test(tc, mon_option);
    tcase_add_test(tc, error_is_one_line);
    tcase_add_test(tc, readonly_image_needs_readonly_flag);
    tcase_add_test(tc, debugcon_device_and_kvm_force);
    tcase_add_test(tc, chardev_backends_and_users);
    tcase_add_test(tc, device_table);
    tcase_add_test(tc, scsi_and_balloon_devices);
    tcase_add_test(tc, initrd_module_lists);
    tcase_add_test(tc, cpu_feature_lists);
    tcase_add_test(tc, network_options);
    tcase_add_test(tc, vga_options);
    tcase_add_test(tc, icount_and_rtc);
    tcase_add_test(tc, cmdline_hash_ignores_debugging);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_SUITE(options_suite)
