/*
 * IRQ lines: a device raises or lowers a line; whoever is wired to the
 * other end (PIC, IOAPIC, the CPU's INTR pin) gets a callback.  Devices
 * never call interrupt controllers directly.
 */
#ifndef VX86_CORE_IRQ_H
#define VX86_CORE_IRQ_H

typedef void (*IRQHandler)(void *opaque, int n, int level);

typedef struct IRQLine {
    IRQHandler handler;
    void *opaque;
    int n;
    int level;
} IRQLine;

static inline void irq_init(IRQLine *l, IRQHandler h, void *opaque, int n)
{
    l->handler = h;
    l->opaque = opaque;
    l->n = n;
    l->level = 0;
}

/* Connects (or, with h NULL, disconnects) the receiving end of a line
 * another party owns, keeping its level: an accelerator attaching its
 * CPU to a wire the board already drives. */
static inline void irq_connect(IRQLine *l, IRQHandler h, void *opaque, int n)
{
    l->handler = h;
    l->opaque = opaque;
    l->n = n;
}

/* Unconnected lines (handler NULL) are allowed and do nothing. */
static inline void irq_set(IRQLine *l, int level)
{
    if (!l)
        return;
    l->level = level;
    if (l->handler)
        l->handler(l->opaque, l->n, level);
}
static inline void irq_raise(IRQLine *l) { irq_set(l, 1); }
static inline void irq_lower(IRQLine *l) { irq_set(l, 0); }
static inline void irq_pulse(IRQLine *l) { irq_set(l, 1); irq_set(l, 0); }

#endif
