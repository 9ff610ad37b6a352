/* liblz4 from Debian's liblz4-dev: the block API (compression, see
 * LZ4Frames.swift for why) and the frame API (decompression). */
#include <lz4.h>
#include <lz4frame.h>
