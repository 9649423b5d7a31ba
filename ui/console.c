/*
 * The display console (see console.h): one surface, the device's render
 * hooks, the backends' listeners and the accumulated dirty rectangle.
 */
#include "ui/console.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define MAX_LISTENERS 4

struct Console {
    char name[32];
    DisplaySurface surface;
    const ConsoleHwOps *hw;
    void *hw_opaque;
    ConsoleListener listeners[MAX_LISTENERS];
    int nlisteners;
    bool dirty;
    ConsoleRect dirty_rect;
};

Console *console_new(const char *name)
{
    Console *c = xcalloc(1, sizeof(*c));
    snprintf(c->name, sizeof c->name, "%s", name ? name : "console");
    return c;
}

void console_free(Console *c)
{
    if (!c)
        return;
    free(c->surface.pixels);
    free(c);
}

const char *console_name(const Console *c)
{
    return c->name;
}

void console_set_hw(Console *c, const ConsoleHwOps *ops, void *opaque)
{
    c->hw = ops;
    c->hw_opaque = opaque;
}

bool console_add_listener(Console *c, const ConsoleListener *l)
{
    if (c->nlisteners == MAX_LISTENERS)
        return false;
    c->listeners[c->nlisteners++] = *l;
    if (l->resize)
        l->resize(l->opaque, &c->surface);
    return true;
}

void console_remove_listener(Console *c, void *opaque)
{
    for (int i = 0; i < c->nlisteners; i++) {
        if (c->listeners[i].opaque == opaque) {
            memmove(&c->listeners[i], &c->listeners[i + 1],
                    (size_t)(c->nlisteners - i - 1) * sizeof(c->listeners[0]));
            c->nlisteners--;
            i--;
        }
    }
}

DisplaySurface *console_surface(Console *c)
{
    return &c->surface;
}

void console_resize(Console *c, int width, int height)
{
    DisplaySurface *s = &c->surface;
    if (width < 0)
        width = 0;
    if (height < 0)
        height = 0;
    if (s->width == width && s->height == height && (s->pixels || !width || !height))
        return;
    free(s->pixels);
    s->width = width;
    s->height = height;
    s->stride = width * 4;
    s->pixels = (width && height) ? xcalloc((size_t)width * (size_t)height, 4) : NULL;
    for (int i = 0; i < c->nlisteners; i++)
        if (c->listeners[i].resize)
            c->listeners[i].resize(c->listeners[i].opaque, s);
    c->dirty = false;
    console_mark_dirty(c, 0, 0, width, height);
}

void console_mark_dirty(Console *c, int x, int y, int w, int h)
{
    DisplaySurface *s = &c->surface;
    /* Clip to the surface. */
    if (x < 0) { w += x; x = 0; }
    if (y < 0) { h += y; y = 0; }
    if (x + w > s->width)
        w = s->width - x;
    if (y + h > s->height)
        h = s->height - y;
    if (w <= 0 || h <= 0)
        return;
    if (!c->dirty) {
        c->dirty_rect = (ConsoleRect){ x, y, w, h };
        c->dirty = true;
    } else {
        ConsoleRect *r = &c->dirty_rect;
        int x1 = MAX(r->x + r->w, x + w), y1 = MAX(r->y + r->h, y + h);
        r->x = MIN(r->x, x);
        r->y = MIN(r->y, y);
        r->w = x1 - r->x;
        r->h = y1 - r->y;
    }
    for (int i = 0; i < c->nlisteners; i++)
        if (c->listeners[i].update)
            c->listeners[i].update(c->listeners[i].opaque, x, y, w, h);
}

void console_refresh(Console *c, bool full)
{
    if (!c->hw)
        return;
    if (full && c->hw->invalidate)
        c->hw->invalidate(c->hw_opaque);
    if (c->hw->update)
        c->hw->update(c->hw_opaque);
}

bool console_take_dirty(Console *c, ConsoleRect *r)
{
    if (!c->dirty)
        return false;
    *r = c->dirty_rect;
    c->dirty = false;
    return true;
}

bool console_get_text(Console *c, ConsoleText *t)
{
    if (!c->hw || !c->hw->get_text)
        return false;
    t->cols = t->rows = 0;
    t->cursor_x = t->cursor_y = -1;
    return c->hw->get_text(c->hw_opaque, t);
}

bool console_screendump(Console *c, const char *path, ScreendumpFormat fmt,
                        char *err, size_t errlen)
{
    console_refresh(c, true);
    return screendump_write(&c->surface, path, fmt, err, errlen);
}
