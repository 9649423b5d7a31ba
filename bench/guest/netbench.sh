#!/bin/sh
# The network rows, run inside the guest of a "network boot" of
# bench/run.py (virtio-net, initramfs-vnet).  BENCH_NET picks the role:
#   slirp  DHCP, then busybox wget of net.bin (BENCH_MB MiB) from the
#          host's HTTP server at 10.0.2.2:BENCH_PORT into tmpfs, timed;
#          the row's checksum is the file's md5 (taken after the clock)
#   recv   10.9.0.1: takes one TCP stream on port 5000 (busybox nc) into
#          tmpfs and prints its size and md5 as "BENCH-NET-RECV ..."
#   send   10.9.0.2: sends BENCH_MB MiB of zeros to 10.9.0.1:5000, timed
#          until nc returns
# busybox nc half-closes the connection when its stdin ends and exits when
# the other side closes: the receiver's stdin is the console (it never
# ends), so the sender's nc returns only after the receiver has read the
# end of the stream and closed.
# Each row prints "BENCH <name> <ns> <checksum>" timed with the guest's
# own monotonic clock, as workloads.sh does.
# Usage: netbench.sh BINDIR
B=$1
T=/tmp
case $BENCH_NET in
slirp)
    udhcpc -i eth0 -q -f -n -t 10 -s /etc/udhcpc/default.script >/dev/null 2>&1 ||
        echo "BENCH-NET: no DHCP lease"
    start=$($B/nowns)
    wget -q -O $T/net.bin "http://10.0.2.2:$BENCH_PORT/net.bin" || echo "BENCH-NET: wget failed"
    end=$($B/nowns)
    echo "BENCH net-slirp-${BENCH_MB}M $((end - start)) $(md5sum <$T/net.bin | cut -c1-8)"
    ;;
recv)
    ifconfig eth0 10.9.0.1 netmask 255.255.255.0 up
    nc -l -p 5000 </dev/console >$T/recv.bin &
    sleep 1
    echo "BENCH-NET-LISTENING"
    wait
    echo "BENCH-NET-RECV $(wc -c <$T/recv.bin) bytes, md5 $(md5sum <$T/recv.bin | cut -c1-8)"
    ;;
send)
    ifconfig eth0 10.9.0.2 netmask 255.255.255.0 up
    i=0
    until ping -c 1 -W 1 10.9.0.1 >/dev/null 2>&1 || [ $i -ge 60 ]; do i=$((i + 1)); done
    start=$($B/nowns)
    dd if=/dev/zero bs=65536 count=$((BENCH_MB * 16)) 2>/dev/null | nc 10.9.0.1 5000 >/dev/null ||
        echo "BENCH-NET: nc failed"
    end=$($B/nowns)
    sum=$(dd if=/dev/zero bs=65536 count=$((BENCH_MB * 16)) 2>/dev/null | md5sum | cut -c1-8)
    echo "BENCH net-socket-${BENCH_MB}M $((end - start)) $sum"
    ;;
esac
echo "BENCH-DONE"
