/* Reset and exception handlers for Cortex-M4F on MPS2 AN386 (QEMU mps2-an386).
 *
 * Reset_Handler copies .data from its load address, enables the FPU (the code is built with
 * -mfloat-abi=hard, so the first floating-point instruction would fault otherwise) and jumps
 * to newlib's crt0 (_start), which zeroes .bss, runs constructors and calls main; main's return
 * value reaches QEMU as its exit code through semihosting SYS_EXIT.
 * SysTick_Handler counts milliseconds for the monotonic clock (os_baremetal.cpp). Faults print
 * the stacked PC and exit with 4 so a crash fails the test instead of hanging QEMU. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

extern uint32_t __data_load, __data_start__, __data_end__, __StackTop;
extern void _start(void) __attribute__((noreturn));
void imsdc_baremetal_systick_isr(void);

#define SCB_CPACR (*(volatile uint32_t*)0xE000ED88u)
#define SCB_CFSR (*(volatile uint32_t*)0xE000ED28u)
#define SCB_HFSR (*(volatile uint32_t*)0xE000ED2Cu)

void Reset_Handler(void) __attribute__((noreturn));
void Reset_Handler(void) {
  uint32_t* src = &__data_load;
  for (uint32_t* dst = &__data_start__; dst < &__data_end__;)
    *dst++ = *src++;
  SCB_CPACR |= (0xFu << 20); /* CP10 and CP11: full access */
  __asm volatile("dsb\n\tisb" ::: "memory");
  _start();
}

static void fault(const char* what, const uint32_t* frame) {
  /* Frame: r0 r1 r2 r3 r12 lr pc xpsr. */
  fprintf(stderr, "\n*** %s: pc=0x%08lx lr=0x%08lx cfsr=0x%08lx hfsr=0x%08lx\n", what,
          (unsigned long)frame[6], (unsigned long)frame[5], (unsigned long)SCB_CFSR,
          (unsigned long)SCB_HFSR);
  _exit(4);
}

void imsdc_baremetal_fault_c(const uint32_t* frame, uint32_t ipsr) {
  static const char* const kNames[] = {"exception", "exception", "NMI",       "HardFault",
                                       "MemManage", "BusFault",  "UsageFault"};
  fault(ipsr < 7 ? kNames[ipsr] : "unexpected interrupt", frame);
}

/* Picks the stack the exception frame was pushed on (MSP or PSP) and reports it. */
__attribute__((naked)) void Fault_Handler(void) {
  __asm volatile("tst lr, #4\n\t"
                 "ite eq\n\t"
                 "mrseq r0, msp\n\t"
                 "mrsne r0, psp\n\t"
                 "mrs r1, ipsr\n\t"
                 "b imsdc_baremetal_fault_c\n\t");
}

void SysTick_Handler(void) {
  imsdc_baremetal_systick_isr();
}

typedef void (*vector_fn)(void);
__attribute__((section(".isr_vector"), used)) const vector_fn g_vectors[16 + 32] = {
    (vector_fn)&__StackTop, Reset_Handler, Fault_Handler, /* NMI */
    Fault_Handler,                                        /* HardFault */
    Fault_Handler,                                        /* MemManage */
    Fault_Handler,                                        /* BusFault */
    Fault_Handler,                                        /* UsageFault */
    0, 0, 0, 0, Fault_Handler,                            /* SVCall: nothing here uses it */
    Fault_Handler,                                        /* DebugMonitor */
    0, Fault_Handler,                                     /* PendSV */
    SysTick_Handler,
    /* External interrupts 0..31: none enabled; a stray one is reported. */
    Fault_Handler, Fault_Handler, Fault_Handler, Fault_Handler, Fault_Handler, Fault_Handler,
    Fault_Handler, Fault_Handler, Fault_Handler, Fault_Handler, Fault_Handler, Fault_Handler,
    Fault_Handler, Fault_Handler, Fault_Handler, Fault_Handler, Fault_Handler, Fault_Handler,
    Fault_Handler, Fault_Handler, Fault_Handler, Fault_Handler, Fault_Handler, Fault_Handler,
    Fault_Handler, Fault_Handler, Fault_Handler, Fault_Handler, Fault_Handler, Fault_Handler,
    Fault_Handler, Fault_Handler};
