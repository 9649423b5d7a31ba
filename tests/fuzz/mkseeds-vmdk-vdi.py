#!/usr/bin/env python3
"""Writes the small seed images of the vmdk, vdi and vpc fuzz harnesses
(tests/fuzz/corpus/vmdk/, vdi/, vpc/).  Real images from
qemu-img are 64 KiB and more; these use 4 KiB grains and blocks so the
fuzzer mutates headers, tables and markers rather than grain data.

A vmdk seed that is not a sparse extent is several files joined by the
line "@@@" (tests/fuzz/fuzz-vmdk.c): the descriptor d.vmdk, then the
extent files e1.vmdk, e2.vmdk, e3.vmdk.

Layouts from VMware's "Virtual Disk Format 5.0" (SparseExtentHeader,
grain directory and tables, stream markers), VirtualBox's VDI header and
Microsoft's VHD specification (footer, dynamic header, BAT).
"""
import os
import struct
import sys
import zlib

SEP = b"\n@@@\n"
S = 512


def pattern(n, seed):
    return bytes((i * 7 + seed * 31 + (i >> 9)) & 0xff for i in range(n))


def descriptor(create_type, extents, cid=0x1234abcd):
    lines = ["# Disk DescriptorFile", "version=1", "CID=%08x" % cid, "parentCID=ffffffff",
             'createType="%s"' % create_type, "", "# Extent description"]
    lines += extents
    lines += ["", "# The Disk Data Base", "#DDB", "", 'ddb.virtualHWVersion = "4"',
              'ddb.adapterType = "ide"', ""]
    return "\n".join(lines).encode()


def sparse_header(capacity, grain, desc_off, desc_size, gtes, rgd, gd, overhead, flags,
                  compress=0, version=1):
    h = struct.pack("<IIIQQQQIQQQB4sH", 0x564D444B, version, flags, capacity, grain, desc_off,
                    desc_size, gtes, rgd, gd, overhead, 0, b"\n \r\n", compress)
    return h + bytes(S - len(h))


def sparse(capacity=256, grain=8, gtes=16, grains=None, compressed=False, footer=False,
           zero_grain=False, desc=None):
    """A sparse extent; grains maps grain index -> bytes (or None: a zero grain)."""
    grains = grains or {}
    ngrains = (capacity + grain - 1) // grain
    ngd = (ngrains + gtes - 1) // gtes
    gt_sectors = (gtes * 4 + S - 1) // S
    gd_sectors = (ngd * 4 + S - 1) // S
    desc_off, desc_size = (1, 2) if desc else (0, 0)
    rgd = 1 + desc_size
    rgt = rgd + gd_sectors
    gd = rgt + ngd * gt_sectors
    gt0 = gd + gd_sectors
    overhead = gt0 + ngd * gt_sectors
    flags = 0x3 | (0x4 if zero_grain else 0) | (0x30000 if compressed else 0)
    body = bytearray()
    entries = [0] * (ngd * gtes)
    at = overhead
    for g in sorted(grains):
        data = grains[g]
        if data is None:
            entries[g] = 1
            continue
        entries[g] = at
        if compressed:
            z = zlib.compress(data)
            rec = struct.pack("<QI", g * grain, len(z)) + z
            rec += bytes(-len(rec) % S)
        else:
            rec = data
        body += rec
        at += len(rec) // S
    gds = b"".join(struct.pack("<I", gt0 + i * gt_sectors) for i in range(ngd))
    rgds = b"".join(struct.pack("<I", rgt + i * gt_sectors) for i in range(ngd))
    gts = b"".join(struct.pack("<I", e) for e in entries)
    gts_padded = b"".join(gts[i * gtes * 4:(i + 1) * gtes * 4].ljust(gt_sectors * S, b"\0")
                          for i in range(ngd))
    gd_field = 0xFFFFFFFFFFFFFFFF if footer else gd
    hdr = sparse_header(capacity, grain, desc_off, desc_size, gtes, rgd, gd_field, overhead,
                        flags, 1 if compressed else 0, 3 if compressed else 1)
    f = bytearray(hdr)
    if desc:
        f += desc.ljust(desc_size * S, b"\0")
    f += rgds.ljust(gd_sectors * S, b"\0") + gts_padded
    f += gds.ljust(gd_sectors * S, b"\0") + gts_padded + body
    if footer:
        f += struct.pack("<QII", 1, 0, 3).ljust(S, b"\0")
        f += sparse_header(capacity, grain, desc_off, desc_size, gtes, rgd, gd, overhead, flags,
                           1, 3)
        f += bytes(S)
    return bytes(f)


def vdi(disk, block, bmap, data_blocks, vtype=1):
    h = bytearray(S)
    h[0:40] = b"<<< Oracle VM VirtualBox Disk Image >>>\n"
    nblocks = len(bmap)
    off_bmap = S
    off_data = off_bmap + ((nblocks * 4 + S - 1) // S) * S
    struct.pack_into("<IIII", h, 64, 0xBEDA107F, 0x00010001, 0x190, vtype)
    struct.pack_into("<II", h, 340, off_bmap, off_data)
    struct.pack_into("<IIII", h, 348, 0, 0, 0, 512)
    struct.pack_into("<QIIII", h, 368, disk, block, 0, nblocks, len(data_blocks))
    bm = b"".join(struct.pack("<I", e) for e in bmap).ljust(off_data - off_bmap, b"\0")
    return bytes(h) + bm + b"".join(data_blocks)


def vhd_footer(size, dtype, data_offset):
    f = bytearray(512)
    f[0:8] = b"conectix"
    struct.pack_into(">IIQI", f, 8, 2, 0x00010000, data_offset, 0)
    f[28:32] = b"qem2"
    struct.pack_into(">I4sQQHBBI", f, 32, 0x00050003, b"Wi2k", size, size, 0xFFFF, 16, 255, dtype)
    struct.pack_into(">I", f, 64, ~sum(f) & 0xFFFFFFFF)
    return bytes(f)


def vhd_dynamic(size, block, blocks):
    """blocks maps block index -> data; a dynamic VHD with 4 KiB-ish blocks."""
    n = (size + block - 1) // block
    foot = vhd_footer(size, 3, 512)
    h = bytearray(1024)
    h[0:8] = b"cxsparse"
    bat_off = 512 + 1024
    struct.pack_into(">QQIII", h, 8, 0xFFFFFFFFFFFFFFFF, bat_off, 0x00010000, n, block)
    struct.pack_into(">I", h, 36, ~sum(h) & 0xFFFFFFFF)
    bat_bytes = (n * 4 + 511) // 512 * 512
    at = (bat_off + bat_bytes) // 512
    bitmap = (block // 512 // 8 + 511) // 512 * 512
    bat = [0xFFFFFFFF] * n
    body = bytearray()
    for b in sorted(blocks):
        bat[b] = at
        body += b"\xff" * bitmap + blocks[b]
        at += (bitmap + block) // 512
    batb = b"".join(struct.pack(">I", e) for e in bat).ljust(bat_bytes, b"\xff")
    return foot + bytes(h) + batb + bytes(body) + foot


def main(out):
    vm = os.path.join(out, "vmdk")
    vd = os.path.join(out, "vdi")
    os.makedirs(vm, exist_ok=True)
    os.makedirs(vd, exist_ok=True)
    G = 8 * S
    seeds = {
        "sparse.vmdk": sparse(grains={0: pattern(G, 1), 3: pattern(G, 2), 17: pattern(G, 3),
                                      18: None}, zero_grain=True,
                              desc=descriptor("monolithicSparse",
                                              ['RW 256 SPARSE "sparse.vmdk"'])),
        "stream.vmdk": sparse(grains={1: pattern(G, 4), 30: bytes(G)}, compressed=True,
                              footer=True,
                              desc=descriptor("streamOptimized", ['RW 256 SPARSE "s.vmdk"'])),
        "stream-hdr.vmdk": sparse(capacity=200, grains={0: pattern(G, 5), 24: pattern(G, 6)},
                                  compressed=True),
        "flat-zero": SEP.join([descriptor("monolithicFlat", ['RW 16 FLAT "e1.vmdk" 2',
                                                              'RW 8 ZERO',
                                                              'RDONLY 8 FLAT "e2.vmdk"']),
                               pattern(18 * S, 7), pattern(8 * S, 8)]),
        "two-sparse": SEP.join([descriptor("twoGbMaxExtentSparse",
                                           ['RW 64 SPARSE "e1.vmdk"', 'RW 64 SPARSE "e2.vmdk"']),
                                sparse(capacity=64, gtes=4, grains={2: pattern(G, 9)}),
                                sparse(capacity=64, gtes=4, grains={7: pattern(G, 10)})]),
    }
    for name, data in seeds.items():
        with open(os.path.join(vm, name), "wb") as f:
            f.write(data)
    B = 4096
    vseeds = {
        "dynamic.vdi": vdi(8 * B - 1024, B, [0xFFFFFFFF, 0, 0xFFFFFFFE, 1, 0xFFFFFFFF, 0xFFFFFFFF,
                                              2, 0xFFFFFFFF],
                           [pattern(B, 11), pattern(B, 12), pattern(B, 13)]),
        "fixed.vdi": vdi(4 * B, B, [0, 1, 2, 3], [pattern(B, i) for i in range(4)], vtype=2),
    }
    for name, data in vseeds.items():
        with open(os.path.join(vd, name), "wb") as f:
            f.write(data)
    vp = os.path.join(out, "vpc")
    os.makedirs(vp, exist_ok=True)
    hseeds = {
        "dynamic.vhd": vhd_dynamic(8 * B, B, {1: pattern(B, 14), 5: pattern(B, 15)}),
        "fixed.vhd": pattern(4 * B, 16) + vhd_footer(4 * B, 2, 0xFFFFFFFFFFFFFFFF),
    }
    for name, data in hseeds.items():
        with open(os.path.join(vp, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus"))
