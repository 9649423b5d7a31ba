# VMware VMDK and VirtualBox VDI import (tests/system/vmdk.sh) and linked
# clones on qcow2 overlays (tests/system/clones.sh), with qemu-img,
# e2fsprogs and the guest's md5sum as the oracles.
IMPORT_READ := $(BUILD)/tests/system/import-read

$(IMPORT_READ): tests/system/import-read.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LIBS)

.PHONY: check-vmdk check-vmdk-full check-linked-clones
check-vmdk: vx86 vx86-img $(IMPORT_READ)
	@tests/system/vmdk.sh ./vx86-img ./vx86 $(IMPORT_READ)

check-linked-clones: vx86
	@tests/system/clones.sh ./vx86

# check-vmdk-full also converts 2200 MiB twoGbMaxExtent* images (several
# extents as qemu-img splits them).
check-vmdk-full: vx86 vx86-img $(IMPORT_READ)
	@VMDK_BIG=1 tests/system/vmdk.sh ./vx86-img ./vx86 $(IMPORT_READ)

CHECK_TARGETS += check-vmdk check-linked-clones
CHECK_FULL_TARGETS += check-vmdk-full
