/* liblz4's frame API, from Debian's liblz4-dev. */
#include <lz4frame.h>
