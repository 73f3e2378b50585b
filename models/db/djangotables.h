#pragma once

#include <QString>
#include <QStringList>

// The five tables `manage.py migrate` creates for the Foo/Bar/Zab/Baz models of one Django app.
// Names are unquoted; quote() them before they go into SQL. The label was checked to be an
// identifier (DatabaseConfig::checkAppLabel), quoting is the second fence.
struct DjangoTables {
    QString label;
    QString foo;
    QString bar;
    QString zab;
    QString baz;
    QString zabBazs;

    static DjangoTables forLabel(const QString &label);
    QStringList all() const { return { foo, bar, zab, baz, zabBazs }; }
    static QString quote(const QString &identifier);
};
