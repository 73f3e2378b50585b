#include "djangotables.h"

DjangoTables DjangoTables::forLabel(const QString &label)
{
    return { label,
             label + QLatin1String("_foo"),
             label + QLatin1String("_bar"),
             label + QLatin1String("_zab"),
             label + QLatin1String("_baz"),
             label + QLatin1String("_zab_bazs") };
}

QString DjangoTables::quote(const QString &identifier)
{
    QString quoted = identifier;
    quoted.replace(QLatin1Char('"'), QLatin1String("\"\""));
    return QLatin1Char('"') + quoted + QLatin1Char('"');
}
