/* 16550 UART, polled (see arch/x86/serial.c). */
#ifndef PVKIT_SERIAL_H
#define PVKIT_SERIAL_H

#include <stdint.h>

void serial_init(uint16_t port);
void serial_putc(char c);
/* Returns the next received byte, or -1 if none is waiting. */
int serial_getc(void);

#endif
