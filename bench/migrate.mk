# Save/load of a 512 MiB guest, vx86 vs QEMU (bench/migrate.py; not part of check).
.PHONY: bench-migrate
bench-migrate: vx86
	@bench/migrate.py
