#define TEXT_ROWS 50
#define TEXT_DOTS 8
#include "vga-text.c"
