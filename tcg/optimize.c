/* Placeholder until the optimiser lands: the identity transformation. */
#include "tcg/optimize.h"

void ir_optimize(IRBlock *b)
{
    (void)b;
}
