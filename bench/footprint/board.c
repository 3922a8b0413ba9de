/* The fake board (board.h): peripherals as volatile memory, so the calls
 * cannot be optimised away and cost what a small driver would. */
#include <string.h>

#include "board.h"

/* Stand-ins for peripheral registers and DMA buffers. */
static volatile uint32_t rx_len_reg, tx_len_reg, timer_hi, timer_lo, rng_reg, sleep_reg;
static uint8_t rx_dma[1536], tx_dma[1536];

int board_rx(uint8_t *buf, size_t cap)
{
	uint32_t n = rx_len_reg;
	if (n == 0 || n > cap || n > sizeof rx_dma)
		return 0;
	memcpy(buf, rx_dma, n);
	rx_len_reg = 0;
	return (int)n;
}

void board_tx(const uint8_t *frame, size_t len)
{
	if (len > sizeof tx_dma)
		return;
	memcpy(tx_dma, frame, len);
	tx_len_reg = (uint32_t)len;
}

int64_t board_now_us(void)
{
	return (int64_t)(((uint64_t)timer_hi << 32) | timer_lo);
}

void board_sleep_until(int64_t deadline_us)
{
	sleep_reg = (uint32_t)deadline_us;
}

uint64_t board_entropy(void)
{
	uint64_t hi = rng_reg;
	return hi << 32 | rng_reg;
}

void board_mac(uint8_t mac[6])
{
	static const uint8_t otp[6] = {0x02, 0x00, 0x5e, 0x10, 0x20, 0x30};
	memcpy(mac, otp, 6);
}
