/*
 * hello: the smallest test image.  qemudiff and the KVM scripts run it first
 * to learn whether an emulator can boot -bios images at all; it also checks
 * that start-up reached flat 32-bit protected mode with the expected GDT.
 */
#include "testrom.h"

int main(void)
{
    uint16_t cs, ds;
    asm volatile("mov %%cs, %0; mov %%ds, %1" : "=r"(cs), "=r"(ds));
    tprintf("hello from the vx86 test rom\n");
    tprintf("cs=%04x ds=%04x cr0.pe=%u\n", cs, ds, (unsigned)(READ_CR(0) & CR0_PE));
    CHECK(cs == SEL_KCODE32);
    CHECK(ds == SEL_KDATA);
    CHECK(READ_CR(0) & CR0_PE);
    return test_result();
}
