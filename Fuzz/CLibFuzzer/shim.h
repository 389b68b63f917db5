// libFuzzer's driver entry point (compiler-rt, linked by -sanitize=fuzzer).
// SwiftPM names an executable's entry point <module>_main, so the fuzz targets
// start libFuzzer themselves instead of relying on its own main().
#pragma once
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
