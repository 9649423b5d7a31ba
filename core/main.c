#include <stdio.h>
#include "config.h"
int main(void) { printf("vx86 %s\n", VX86_VERSION); return 0; }
