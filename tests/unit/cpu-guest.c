/* The shared CPU test machine (cpu-guest.h). */
#include "tests/unit/cpu-guest.h"
#include "tests/unit/unit.h"

const char *const unit_engines[2] = { "interp", "x86_64" };

Guest unit_guest_new(uint32_t ram_size, int engine)
{
    char err[128];
    Guest g;
    g.m = machine_new(ram_size, CLOCK_MANUAL, err, sizeof(err));
    ck_assert_msg(g.m != NULL, "%s", err);
    ck_assert_ptr_nonnull(memmap_add_ram(g.m->mem, "ram", 0, ram_size, g.m->ram, NULL));
    CPUConfig cfg = CPU_CONFIG_DEFAULT;
    cfg.engine = unit_engines[engine];
    g.cpu = cpu_create(g.m, 0, &cfg, err, sizeof(err));
    ck_assert_msg(g.cpu != NULL, "%s", err);
    cpu_reset(g.cpu);
    return g;
}

Guest unit_guest_new_real(uint32_t ram_size, int engine, const uint8_t *code, size_t len)
{
    Guest g = unit_guest_new(ram_size, engine);
    memcpy(g.m->ram + 0x1000, code, len);
    cpu_set_seg_real(g.cpu, R_CS, 0);
    cpu_set_seg_real(g.cpu, R_SS, 0);
    cpu_set_seg_real(g.cpu, R_DS, 0);
    cpu_set_seg_real(g.cpu, R_ES, 0);
    g.cpu->rip = 0x1000;
    g.cpu->regs[R_ESP] = 0x8000;
    return g;
}

void unit_guest_free(Guest *g)
{
    cpu_free(g->cpu);
    machine_free(g->m);
}
