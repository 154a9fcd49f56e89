// liblz4 for Swift: the block API (LZ4_compress_default, LZ4_decompress_safe).
#include <lz4.h>
