#define TEXT_CURSOR 1
#define TEXT_BLINK 1
#include "vga-text.c"
