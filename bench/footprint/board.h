/* The fake board of the footprint programs: what a real port supplies (see
 * docs/PORTING.md) reduced to a few functions over memory-mapped "registers",
 * so the linker keeps exactly the code a firmware image would carry. */
#ifndef SF_FOOTPRINT_BOARD_H
#define SF_FOOTPRINT_BOARD_H

#include <stddef.h>
#include <stdint.h>

/* The MAC (or the raw IP link): one received frame into buf, or 0. */
int board_rx(uint8_t *buf, size_t cap);
/* Hands one frame to the MAC's transmit DMA. */
void board_tx(const uint8_t *frame, size_t len);
/* A free-running microsecond clock (a timer peripheral). */
int64_t board_now_us(void);
/* Sleeps until the time given or the next interrupt (WFI). */
void board_sleep_until(int64_t deadline_us);
/* 64 bits from the hardware random number generator. */
uint64_t board_entropy(void);
/* This board's MAC address (from OTP). */
void board_mac(uint8_t mac[6]);

#endif
