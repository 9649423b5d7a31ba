# qcow2 and vx86-img against qemu-img (tests/system/qcow2.sh): images
# written by vx86-img and through the block layer are checked and read by
# qemu-img; images made by qemu-img are read by vx86-img; random-write
# stress against a raw shadow; a kill -9 crash-safety loop.
QCOW2_IO := $(BUILD)/tests/system/qcow2-io

$(QCOW2_IO): tests/system/qcow2-io.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LIBS)

.PHONY: check-qcow2
check-qcow2: vx86-img $(QCOW2_IO)
	@tests/system/qcow2.sh ./vx86-img $(QCOW2_IO) 10

check-qcow2-full: vx86-img $(QCOW2_IO)
	@tests/system/qcow2.sh ./vx86-img $(QCOW2_IO) 100

CHECK_TARGETS += check-qcow2
CHECK_FULL_TARGETS += check-qcow2-full
