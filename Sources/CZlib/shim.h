/* zlib from Debian's zlib1g-dev: gzip for pprof profiles (tracectl profile). */
#include <zlib.h>
