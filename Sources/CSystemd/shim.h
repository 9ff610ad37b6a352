/* libsystemd's daemon API, from Debian's libsystemd-dev. */
#include <systemd/sd-daemon.h>
