#pragma once

#include "core/result.h"
#include "db/tablecounts.h"

#include <QString>
#include <QStringList>

#include <functional>

// Writes the deterministic demo database: a SQLite file with exactly the schema `manage.py migrate`
// gives the Foo/Bar/Zab/Baz models (Django 3.2+), no ANALYZE statistics, and names that include the
// hard cases for JSON (quotes, backslashes, control characters, U+2028/2029, 4-byte UTF-8, empty and
// 50-character names). The same scale always gives the same bytes of data.
class Seeder {
public:
    struct Scale {
        QString name;
        int foos = 0;
        int maxBars = 0;     // of the largest Foo; the others follow a power law below it
        double power = 1.0;  // higher: fewer big Foos
        int minZabs = 0;     // Zabs per Bar, uniform in [minZabs, maxZabs]
        int maxZabs = 0;
        int minLinks = 0;    // Bazs per Zab, uniform in [minLinks, maxLinks]
        int maxLinks = 0;
        int largestZabs = 0; // the largest Foo's Bars all have this many Zabs (0: random like the rest)
        int largestLinks = 0;
        int bazPool = 0;
    };
    using Summary = TableCounts;

    static QStringList scaleNames();
    static Result<Scale> scale(const QString &name);

    // Writes to `path` (through a temporary file renamed into place, so a failed run leaves nothing
    // half-written). Refuses to replace an existing file unless `replace`. `progress` gets the number
    // of Foos written so far.
    static Result<Summary> write(const QString &path, const Scale &scale, const QString &appLabel,
                                 bool replace = false, const std::function<void(int)> &progress = {});

    // The names the generator draws its hard cases from, in UTF-8 (tests use them as golden inputs).
    static QList<QByteArray> hardNames();
    // The CREATE statements Django's migrate gives these models on SQLite, in Django's order.
    static QStringList sqliteSchema(const QString &appLabel);
};
