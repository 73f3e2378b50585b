#include "background.h"

#include <QThreadPool>

#include <sys/resource.h>
#include <unistd.h>

void releaseInBackground(std::shared_ptr<void> parcel)
{
    if (!parcel)
        return;
    QThreadPool::globalInstance()->start([parcel = std::move(parcel)]() mutable { parcel.reset(); });
}

void yieldCpuToForeground()
{
    // On Linux a thread id names one thread to setpriority(): the rest of the process keeps its own.
    [[maybe_unused]] const int failed = setpriority(PRIO_PROCESS, id_t(gettid()), 10);
}
