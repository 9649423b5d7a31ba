/*
 * The inside of core/replay.c, shared with core/replay-reverse.c.
 */
#ifndef VX86_CORE_REPLAY_INT_H
#define VX86_CORE_REPLAY_INT_H

#include <stdio.h>

#include "core/replay.h"

#define RR_MAX_SOURCES 8

typedef struct Pending {
    ReplayEvent e;
    uint8_t *data;
} Pending;

struct Replay {
    RRMode mode;
    Machine *m;
    char *path;
    ReplayHeader h;
    /* record */
    FILE *f;
    uint32_t crc;
    uint64_t last_count;
    uint64_t nevents;
    uint64_t bytes;
    bool write_failed;
    Pending *pend;
    size_t npend, cappend;
    /* replay */
    uint8_t *data;
    ReplayLog log;
    size_t pos;
    bool diverged;
    char diverge_why[160];
    uint64_t idle_count;
    int idle_rounds;
    bool ended;
    /* reverse execution (core/replay-reverse.c), NULL unless a debugger
     * may ask for it; outputs muted while a replay re-runs what the user
     * saw already (below high_water) */
    struct RRReverse *rev;
    uint64_t high_water;
    CharDev *out[RR_MAX_SOURCES];
    int nout;
    /* sources */
    CharDev *chr[RR_MAX_SOURCES];
    int nchr;
    NetClient *net[RR_MAX_SOURCES];
    int nnet;
    ReplayInputOps input;
    void *input_opaque;
    uint64_t last_checkpoint;
};

/* The instruction count now. */
uint64_t rr_now(const Replay *r);
/* A replay's event point (replay_event_point's replay half, which does
 * not stop the machine on a divergence: r->diverged says). */
void rr_replay_point(Replay *r, bool halted);
/* Where the CPU stops next (the next event, or where muting ends) and
 * whether the outputs are muted, from the current position. */
void rr_replay_arm(Replay *r);
/* Reverse execution: a snapshot now when one is due; freeing. */
void rr_reverse_point(Replay *r);
void rr_reverse_free(Replay *r);

#endif
