#pragma once

#include <vector>

// The CPUs a thread may run on (sched_getaffinity / pthread_setaffinity_np), for pinning each
// serving thread to a CPU of its own (HttpServerOptions::pinThreads).
namespace CpuAffinity {

// The CPUs this thread may run on now, ascending (a process inherits them: taskset, cgroups).
std::vector<int> allowed();
// Restricts the calling thread to `cpu`; false when the system refuses.
bool pinCurrentThread(int cpu);

} // namespace CpuAffinity
