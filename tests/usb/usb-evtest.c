/*
 * Guest side of tests/usb/usb.py: a small static program for the Debian
 * test guest.  It finds the input device whose name (EVIOCGNAME, what the
 * kernel's hid-input made of the USB device's strings) contains the first
 * argument, prints its absolute axis ranges as the kernel reports them,
 * then prints every event until killed:
 *
 *   usb-evtest "QEMU USB Tablet"
 *   DEV /dev/input/event2 QEMU QEMU USB Tablet
 *   ABSINFO 0 min 0 max 32767
 *   READY
 *   ABS 0 16384        (EV_ABS code value)
 *   KEY 272 1          (EV_KEY code value)
 *   REL 8 -1
 *
 * Lines go out unbuffered, so the host reads them from the serial log as
 * they happen.
 */
#include <dirent.h>
#include <fcntl.h>
#include <linux/input.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int open_named(const char *want, char *path, size_t len)
{
    DIR *d = opendir("/dev/input");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (strncmp(e->d_name, "event", 5))
            continue;
        snprintf(path, len, "/dev/input/%s", e->d_name);
        int fd = open(path, O_RDONLY);
        char name[256] = "";
        if (fd < 0)
            continue;
        if (ioctl(fd, EVIOCGNAME(sizeof name - 1), name) >= 0 && strstr(name, want)) {
            printf("DEV %s %s\n", path, name);
            closedir(d);
            return fd;
        }
        close(fd);
    }
    if (d)
        closedir(d);
    return -1;
}

int main(int argc, char **argv)
{
    char path[300];
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc < 2) {
        printf("usage: usb-evtest NAME\n");
        return 2;
    }
    int fd = -1;
    for (int i = 0; i < 50 && fd < 0; i++) {
        fd = open_named(argv[1], path, sizeof path);
        if (fd < 0)
            usleep(100000);
    }
    if (fd < 0) {
        printf("NODEV %s\n", argv[1]);
        return 1;
    }
    for (int axis = 0; axis < ABS_CNT; axis++) {
        unsigned long bits[ABS_CNT / (8 * sizeof(long)) + 1] = { 0 };
        if (ioctl(fd, EVIOCGBIT(EV_ABS, sizeof bits), bits) < 0)
            break;
        if (!(bits[axis / (8 * sizeof(long))] >> (axis % (8 * sizeof(long))) & 1))
            continue;
        struct input_absinfo ai;
        if (ioctl(fd, EVIOCGABS(axis), &ai) == 0)
            printf("ABSINFO %d min %d max %d\n", axis, ai.minimum, ai.maximum);
    }
    printf("READY\n");
    struct input_event ev[64];
    for (;;) {
        ssize_t n = read(fd, ev, sizeof ev);
        if (n <= 0)
            return 1;
        for (size_t i = 0; i < (size_t)n / sizeof ev[0]; i++) {
            if (ev[i].type == EV_ABS)
                printf("ABS %d %d\n", ev[i].code, ev[i].value);
            else if (ev[i].type == EV_KEY)
                printf("KEY %d %d\n", ev[i].code, ev[i].value);
            else if (ev[i].type == EV_REL)
                printf("REL %d %d\n", ev[i].code, ev[i].value);
        }
    }
}
