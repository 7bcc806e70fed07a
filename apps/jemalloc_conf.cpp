// jemalloc's settings for the sample apps, read by jemalloc when the process starts (the
// MALLOC_CONF environment variable still overrides them). Freed pages go back to the kernel
// within about a second rather than jemalloc's default ten: a server's memory is watched after
// bursts of connections, and the pages of connections that went idle or away should show as free.
extern "C" {
// NOLINTNEXTLINE: the name and type are jemalloc's interface.
const char* malloc_conf = "dirty_decay_ms:1000,muzzy_decay_ms:0";
}
