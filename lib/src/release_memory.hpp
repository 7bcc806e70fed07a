// Giving memory back to the operating system after a burst of connections.
#pragma once

namespace cortado::detail {

// Returns the allocator's free pages to the kernel (glibc keeps them otherwise: a server that
// once held 10,000 connections would keep their memory for good). Costs a walk of the heap, so
// callers do it after bursts, not per connection. Works with glibc's malloc and with jemalloc.
void release_free_memory();

}  // namespace cortado::detail
