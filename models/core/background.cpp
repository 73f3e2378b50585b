#include "background.h"

#include <QThreadPool>

void releaseInBackground(std::shared_ptr<void> parcel)
{
    if (!parcel)
        return;
    QThreadPool::globalInstance()->start([parcel = std::move(parcel)]() mutable { parcel.reset(); });
}
