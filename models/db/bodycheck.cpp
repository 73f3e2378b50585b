#include "bodycheck.h"

#include "core/seal.h"

#include <sqlite3.h>

qint64 bodyCheck(QByteArrayView body)
{
    return qint64(seal64(body));
}

namespace {

// Text and blobs are checked as the bytes SQLite holds (text as UTF-8, as written); NULL stays NULL.
void sqlBodyCheck(sqlite3_context *context, int, sqlite3_value **arguments)
{
    sqlite3_value *value = arguments[0];
    if (sqlite3_value_type(value) == SQLITE_NULL) {
        sqlite3_result_null(context);
        return;
    }
    const void *bytes = sqlite3_value_blob(value);
    const int size = sqlite3_value_bytes(value);
    sqlite3_result_int64(context, bodyCheck(QByteArrayView(static_cast<const char *>(bytes), size)));
}

} // namespace

bool registerBodyCheck(sqlite3 *handle)
{
    return sqlite3_create_function_v2(handle, "preserve_body_check", 1,
                                      SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, nullptr, sqlBodyCheck,
                                      nullptr, nullptr, nullptr)
        == SQLITE_OK;
}
