#pragma once

#include "core/result.h"

#include <QList>

class Database;

// Which of `pks` name no Foo row, in the order given (duplicates once). For the admin endpoints and
// commands that act on Foos by pk: a refresh or an invalidation of a Foo that does not exist is an
// operator's mistake to report (404, exit code 3), not a job to start. Call on the thread that owns
// `database`.
Result<QList<qint64>> missingFoos(Database &database, const QList<qint64> &pks);
