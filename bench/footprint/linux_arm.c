/* Lets a footprint program built for the Cortex-M4 run under qemu-arm
 * (Linux user mode) with newlib-nano: the program's entry point and the three
 * system calls newlib needs (write, exit, and a heap), made directly with
 * the Linux EABI convention (svc 0, call number in r7). Nothing here is part
 * of a firmware image; bench/footprint.sh links it with -nostartfiles. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

int main(void);
int _write(int fd, const void *buf, size_t n);
void _exit(int code);
void *_sbrk(ptrdiff_t inc);
void _start(void);

static long syscall3(long nr, long a, long b, long c)
{
	register long r0 __asm__("r0") = a;
	register long r1 __asm__("r1") = b;
	register long r2 __asm__("r2") = c;
	register long r7 __asm__("r7") = nr;
	__asm__ volatile("svc 0" : "+r"(r0) : "r"(r1), "r"(r2), "r"(r7) : "memory");
	return r0;
}

int _write(int fd, const void *buf, size_t n)
{
	return (int)syscall3(4 /* write */, fd, (long)buf, (long)n);
}

void _exit(int code)
{
	for (;;)
		syscall3(248 /* exit_group */, code, 0, 0);
}

static unsigned char arena[1 << 20];
static size_t arena_used;

void *_sbrk(ptrdiff_t inc)
{
	if (inc < 0 || arena_used + (size_t)inc > sizeof arena) {
		errno = ENOMEM;
		return (void *)-1;
	}
	void *p = arena + arena_used;
	arena_used += (size_t)inc;
	return p;
}

void _start(void)
{
	exit(main());
}
