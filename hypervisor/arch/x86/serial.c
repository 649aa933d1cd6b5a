/*
 * 16550 UART driver for the hypervisor console: polled output, polled input.
 *
 * Polling keeps the console usable from any context, including panic and
 * exception paths, with no interrupt setup. A port of 0 means "no serial
 * console" (console=none); all operations are then no-ops.
 */
#include "pvkit/serial.h"
#include "pvkit/x86.h"

#define UART_RBR 0 /* receive buffer (read) */
#define UART_THR 0 /* transmit holding (write) */
#define UART_IER 1
#define UART_DLL 0 /* divisor latch, with LCR.DLAB */
#define UART_DLM 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY  0x20

/* Set by serial_init at boot, before the APs start; read-only afterwards. */
static uint16_t uart_base;

void serial_init(uint16_t port)
{
    uart_base = port;
    if (!port)
        return;
    outb(port + UART_IER, 0x00);
    outb(port + UART_LCR, 0x80);   /* DLAB: program the divisor */
    outb(port + UART_DLL, 0x01);   /* 115200 baud */
    outb(port + UART_DLM, 0x00);
    outb(port + UART_LCR, 0x03);   /* 8 data bits, no parity, 1 stop bit */
    outb(port + UART_FCR, 0x07);   /* enable and clear the FIFOs */
    outb(port + UART_MCR, 0x03);   /* DTR, RTS */
}

void serial_putc(char c)
{
    if (!uart_base)
        return;
    while (!(inb(uart_base + UART_LSR) & LSR_THR_EMPTY))
        cpu_relax();
    outb(uart_base + UART_THR, (uint8_t)c);
}

int serial_getc(void)
{
    if (!uart_base || !(inb(uart_base + UART_LSR) & LSR_DATA_READY))
        return -1;
    return inb(uart_base + UART_RBR);
}
