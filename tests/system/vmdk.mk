# VMware VMDK and VirtualBox VDI import (tests/system/vmdk.sh) and linked
# clones on qcow2 overlays (tests/system/clones.sh), with qemu-img,
# e2fsprogs and the guest's md5sum as the oracles.
.PHONY: check-vmdk check-linked-clones
check-vmdk: vx86 vx86-img
	@tests/system/vmdk.sh ./vx86-img ./vx86

check-linked-clones: vx86
	@tests/system/clones.sh ./vx86

CHECK_TARGETS += check-vmdk check-linked-clones
