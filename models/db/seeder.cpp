#include "seeder.h"

#include "db/databaseconfig.h"

#include <QCryptographicHash>
#include <QFile>
#include <QFileInfo>
#include <QObject>

#include <algorithm>
#include <cmath>
#include <memory>

#include <sqlite3.h>

namespace {

// splitmix64: small, fast and the same on every machine, which std::mt19937's distributions are not.
class Random {
public:
    explicit Random(quint64 seed)
        : m_state(seed)
    {
    }
    quint64 next()
    {
        quint64 z = (m_state += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
    int between(int low, int high) { return low + int(next() % quint64(high - low + 1)); }

private:
    quint64 m_state;
};

// Django's index name: <table>_<columns>_<md5 of table and columns, 8 hex digits><suffix>.
QString djangoIndexName(const QString &table, const QStringList &columns, const QString &suffix = {})
{
    QCryptographicHash md5(QCryptographicHash::Md5);
    md5.addData(table.toUtf8());
    for (const QString &column : columns)
        md5.addData(column.toUtf8());
    return QStringLiteral("%1_%2_%3%4")
        .arg(table, columns.join(QLatin1Char('_')), QString::fromLatin1(md5.result().toHex().left(8)), suffix);
}

class Writer {
public:
    ~Writer()
    {
        for (sqlite3_stmt *statement : m_statements)
            sqlite3_finalize(statement);
        sqlite3_close(m_db);
    }

    Status open(const QString &path)
    {
        // One thread writes: no mutexes inside SQLite.
        if (sqlite3_open_v2(QFile::encodeName(path).constData(), &m_db,
                            SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr)
            != SQLITE_OK)
            return failure(QObject::tr("cannot create %1").arg(path));
        return success();
    }
    Status exec(const QString &sql)
    {
        if (sqlite3_exec(m_db, sql.toUtf8().constData(), nullptr, nullptr, nullptr) != SQLITE_OK)
            return failure(sql.left(60));
        return success();
    }
    Result<sqlite3_stmt *> prepare(const QByteArray &sql)
    {
        sqlite3_stmt *statement = nullptr;
        if (sqlite3_prepare_v2(m_db, sql.constData(), int(sql.size()), &statement, nullptr) != SQLITE_OK)
            return failure(QString::fromUtf8(sql).left(60)).error();
        m_statements.push_back(statement);
        return statement;
    }
    Status step(sqlite3_stmt *statement)
    {
        if (sqlite3_step(statement) != SQLITE_DONE)
            return failure(QObject::tr("insert"));
        sqlite3_reset(statement);
        return success();
    }

private:
    Status failure(const QString &what)
    {
        return Error::io(QStringLiteral("%1: %2").arg(what, QString::fromUtf8(sqlite3_errmsg(m_db))));
    }

    sqlite3 *m_db = nullptr;
    std::vector<sqlite3_stmt *> m_statements;
};

// The rows of one table, written many per INSERT: a statement per row spent most of a bulk load in
// the VDBE's per-statement work and in AUTOINCREMENT's sqlite_sequence update, which runs once per
// statement, not per row. Rows go in the order they were added, so the data is the same either way.
class RowBatch {
public:
    static constexpr int rowsPerInsert = 128;

    // `columns` like "id, name, foo_id"; a column named "name" is bound as text, the rest as integers.
    RowBatch(Writer &writer, QString table, QStringList columns)
        : m_writer(writer)
        , m_table(std::move(table))
        , m_columns(std::move(columns))
        , m_nameColumn(int(m_columns.indexOf(QStringLiteral("name"))))
    {
        m_numbers.reserve(size_t(rowsPerInsert * m_columns.size()));
        m_names.reserve(rowsPerInsert);
    }

    // The integers of one row in column order, leaving out the name, which comes separately.
    Status add(std::initializer_list<qint64> numbers, QByteArray name = {})
    {
        m_numbers.insert(m_numbers.end(), numbers.begin(), numbers.end());
        if (m_nameColumn >= 0)
            m_names.push_back(std::move(name));
        // The first row goes alone, so the tables enter sqlite_sequence in the order they did when
        // each row was its own statement, and the dump stays the same as older seeds'.
        if (++m_rows == rowsPerInsert || !m_started) {
            m_started = true;
            return flush();
        }
        return success();
    }

    Status flush()
    {
        if (m_rows == 0)
            return success();
        sqlite3_stmt *statement = m_rows == rowsPerInsert ? m_full : nullptr;
        if (!statement) {
            auto prepared = m_writer.prepare(insertSql(m_rows));
            if (!prepared)
                return prepared.error();
            statement = *prepared;
            if (m_rows == rowsPerInsert)
                m_full = statement;
        }
        int parameter = 1;
        size_t number = 0;
        for (int row = 0; row < m_rows; ++row) {
            for (int column = 0; column < m_columns.size(); ++column, ++parameter) {
                if (column == m_nameColumn) {
                    const QByteArray &name = m_names[size_t(row)];
                    sqlite3_bind_text(statement, parameter, name.constData(), int(name.size()), SQLITE_STATIC);
                } else {
                    sqlite3_bind_int64(statement, parameter, m_numbers[number++]);
                }
            }
        }
        const Status done = m_writer.step(statement);
        m_numbers.clear();
        m_names.clear();
        m_rows = 0;
        return done;
    }

private:
    QByteArray insertSql(int rows) const
    {
        QStringList placeholders(m_columns.size(), QStringLiteral("?"));
        const QString row = QLatin1Char('(') + placeholders.join(QStringLiteral(", ")) + QLatin1Char(')');
        QStringList values(rows, row);
        return QStringLiteral("INSERT INTO \"%1\" (%2) VALUES %3")
            .arg(m_table, m_columns.join(QStringLiteral(", ")), values.join(QStringLiteral(", ")))
            .toUtf8();
    }

    Writer &m_writer;
    QString m_table;
    QStringList m_columns;
    int m_nameColumn;
    sqlite3_stmt *m_full = nullptr;
    std::vector<qint64> m_numbers;
    std::vector<QByteArray> m_names;
    int m_rows = 0;
    bool m_started = false;
};

QByteArray nameFor(const char *kind, qint64 id)
{
    // Every 11th name (shifted per kind) is a hard case; the rest read like real data.
    const auto &hard = Seeder::hardNames();
    const qint64 slot = id + qint64(kind[1]);
    if (slot % 11 == 3)
        return hard[(slot / 11) % hard.size()];
    return QByteArray(kind) + '-' + QByteArray::number(id);
}

struct Generator {
    const Seeder::Scale &scale;
    RowBatch &fooRows, &barRows, &zabRows, &linkRows;
    Seeder::Summary summary;
    Random random { 0x5EED'0F'F00ULL };

    int barsOf(int foo) const
    {
        // A permutation of ranks (the multiplier is coprime with any count we use after the modulo
        // trick below), so big and small Foos are mixed in id order.
        const int n = scale.foos;
        if (n == 1)
            return scale.maxBars;
        int rank = int((qint64(foo - 1) * 37) % n);
        if (std::gcd(37, n) != 1)
            rank = foo - 1;
        return int(std::lround(scale.maxBars * std::pow(double(rank) / (n - 1), scale.power)));
    }

    Status writeFoo(int foo)
    {
        if (auto done = fooRows.add({ foo }, nameFor("foo", foo)); !done)
            return done;
        ++summary.foos;
        const int bars = barsOf(foo);
        const bool largest = bars == scale.maxBars && scale.largestZabs > 0;
        for (int b = 0; b < bars; ++b) {
            const qint64 bar = ++summary.bars;
            if (auto done = barRows.add({ bar, foo }, nameFor("bar", bar)); !done)
                return done;
            const int zabs = largest ? scale.largestZabs : random.between(scale.minZabs, scale.maxZabs);
            for (int z = 0; z < zabs; ++z) {
                const qint64 zab = ++summary.zabs;
                if (auto done = zabRows.add({ zab, bar }, nameFor("zab", zab)); !done)
                    return done;
                if (auto done = writeLinks(zab, largest ? scale.largestLinks
                                                        : random.between(scale.minLinks, scale.maxLinks));
                    !done)
                    return done;
            }
        }
        return success();
    }

    Status writeLinks(qint64 zab, int count)
    {
        std::vector<qint64> bazs;
        while (int(bazs.size()) < count) {
            const qint64 baz = 1 + qint64(random.next() % quint64(scale.bazPool));
            if (std::find(bazs.begin(), bazs.end(), baz) == bazs.end())
                bazs.push_back(baz);
        }
        std::sort(bazs.begin(), bazs.end());
        for (qint64 baz : bazs) {
            if (auto done = linkRows.add({ ++summary.links, zab, baz }); !done)
                return done;
        }
        return success();
    }
};

} // namespace

QStringList Seeder::scaleNames()
{
    return { QStringLiteral("small"), QStringLiteral("medium"), QStringLiteral("large"), QStringLiteral("wide") };
}

Result<Seeder::Scale> Seeder::scale(const QString &name)
{
    if (name == QLatin1String("small"))
        return Scale { name, 20, 12, 2.0, 0, 6, 0, 8, 0, 0, 300 };
    if (name == QLatin1String("medium"))
        return Scale { name, 100, 250, 5.3, 5, 17, 9, 28, 16, 20, 5000 };
    if (name == QLatin1String("large"))
        return Scale { name, 400, 250, 5.3, 5, 17, 9, 28, 16, 20, 20000 };
    // Many Foos: the Foo count, not the Foo size, grows. The same power law of Bars per Foo (and
    // the same largest Foo), with fewer Zabs and links under each Bar, so 100,000 Foos stay a file
    // of a few hundred MB written in well under a minute.
    if (name == QLatin1String("wide"))
        return Scale { name, 100000, 250, 5.3, 1, 1, 1, 2, 16, 20, 50000 };
    return Error::invalid(
        QObject::tr("unknown scale \"%1\" (choose %2)").arg(name, scaleNames().join(QStringLiteral(", "))));
}

QList<QByteArray> Seeder::hardNames()
{
    static const QList<QByteArray> names {
        QByteArray(),
        "Z\xC3\xBCrich caf\xC3\xA9",
        "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E",
        "\xCE\x95\xCE\xBB\xCE\xBB\xCE\xB7\xCE\xBD\xCE\xB9\xCE\xBA\xCE\xAC",
        "emoji \xF0\x9F\x98\x80\xF0\x9F\x8E\x89",
        "\"quoted\"",
        "back\\slash\\",
        "tab\there",
        "new\nline",
        "cr\rreturn",
        "bell\b feed\f",
        QByteArray("ctl \x01\x02\x1f end"),
        "del\x7f" "char",
        "line\xE2\x80\xA8sep",
        "para\xE2\x80\xA9sep",
        "</script><b>&amp;",
        "a/b 'single'",
        QByteArray(50, 'x'),
        QByteArray("\xC3\xA4").repeated(50),
        QByteArray("\xF0\x9F\x98\x80").repeated(50),
        "\xC2\xA0nbsp \xEF\xBB\xBF" "bom",
        "mix \" \\ \n \xF0\x9D\x84\x9E \xE2\x80\xA8 \x1b[0m",
        "  spaced  ",
        "\xD8\xA7\xD9\x84\xD8\xB9\xD8\xB1\xD8\xA8\xD9\x8A\xD8\xA9",
    };
    return names;
}

QStringList Seeder::sqliteSchema(const QString &label)
{
    const auto t = [&](const char *model) { return label + QLatin1Char('_') + QLatin1String(model); };
    const QString idColumn = QStringLiteral("\"id\" integer NOT NULL PRIMARY KEY AUTOINCREMENT");
    const QString nameColumn = QStringLiteral("\"name\" varchar(50) NOT NULL");
    const auto foreignKey = [&](const char *column, const QString &table) {
        return QStringLiteral("\"%1\" integer NOT NULL REFERENCES \"%2\" (\"id\") DEFERRABLE INITIALLY DEFERRED")
            .arg(QLatin1String(column), table);
    };
    const auto index = [&](const QString &table, const QStringList &columns, bool unique) {
        QStringList quoted;
        for (const QString &column : columns)
            quoted << QLatin1Char('"') + column + QLatin1Char('"');
        return QStringLiteral("CREATE %1INDEX \"%2\" ON \"%3\" (%4)")
            .arg(unique ? QStringLiteral("UNIQUE ") : QString(),
                 djangoIndexName(table, columns, unique ? QStringLiteral("_uniq") : QString()), table,
                 quoted.join(QStringLiteral(", ")));
    };
    return {
        QStringLiteral("CREATE TABLE \"django_migrations\" (\"id\" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "
                       "\"app\" varchar(255) NOT NULL, \"name\" varchar(255) NOT NULL, \"applied\" datetime NOT NULL)"),
        QStringLiteral("CREATE TABLE \"%1\" (%2, %3)").arg(t("baz"), idColumn, nameColumn),
        QStringLiteral("CREATE TABLE \"%1\" (%2, %3, \"pre_serialized\" text NULL CHECK "
                       "((JSON_VALID(\"pre_serialized\") OR \"pre_serialized\" IS NULL)))")
            .arg(t("foo"), idColumn, nameColumn),
        QStringLiteral("CREATE TABLE \"%1\" (%2, %3, %4)").arg(t("zab"), idColumn, nameColumn, foreignKey("bar_id", t("bar"))),
        QStringLiteral("CREATE TABLE \"%1\" (%2, %3, %4)")
            .arg(t("zab_bazs"), idColumn, foreignKey("zab_id", t("zab")), foreignKey("baz_id", t("baz"))),
        QStringLiteral("CREATE TABLE \"%1\" (%2, %3, %4)").arg(t("bar"), idColumn, nameColumn, foreignKey("foo_id", t("foo"))),
        index(t("zab"), { QStringLiteral("bar_id") }, false),
        index(t("zab_bazs"), { QStringLiteral("zab_id"), QStringLiteral("baz_id") }, true),
        index(t("zab_bazs"), { QStringLiteral("zab_id") }, false),
        index(t("zab_bazs"), { QStringLiteral("baz_id") }, false),
        index(t("bar"), { QStringLiteral("foo_id") }, false),
    };
}

Result<Seeder::Summary> Seeder::write(const QString &path, const Scale &scale, const QString &appLabel,
                                      bool replace, const std::function<void(int)> &progress)
{
    if (auto label = DatabaseConfig::checkAppLabel(appLabel); !label)
        return label.error();
    if (QFileInfo::exists(path) && !replace)
        return Error::invalid(QObject::tr("%1 exists already; pass --force to replace it").arg(path));
    const QString partial = path + QStringLiteral(".partial");
    QFile::remove(partial);
    Result<Summary> result = [&]() -> Result<Summary> {
        Writer writer;
        if (auto opened = writer.open(partial); !opened)
            return opened.error();
        const QStringList schema = sqliteSchema(appLabel);
        // Bulk load: no journal, indexes built once at the end (Django's DDL order is kept).
        for (const QString &sql : { QStringLiteral("PRAGMA journal_mode = OFF"),
                                    QStringLiteral("PRAGMA synchronous = OFF"), QStringLiteral("BEGIN") }) {
            if (auto done = writer.exec(sql); !done)
                return done.error();
        }
        for (int i = 0; i < 6; ++i) {
            if (auto done = writer.exec(schema[i]); !done)
                return done.error();
        }
        const auto table = [&](const char *model) { return appLabel + QLatin1Char('_') + QLatin1String(model); };
        const auto columns = [](const char *list) { return QString::fromLatin1(list).split(QStringLiteral(", ")); };
        RowBatch foos(writer, table("foo"), columns("id, name"));
        RowBatch bars(writer, table("bar"), columns("id, name, foo_id"));
        RowBatch zabs(writer, table("zab"), columns("id, name, bar_id"));
        RowBatch bazs(writer, table("baz"), columns("id, name"));
        RowBatch links(writer, table("zab_bazs"), columns("id, zab_id, baz_id"));
        for (int baz = 1; baz <= scale.bazPool; ++baz) {
            if (auto done = bazs.add({ baz }, nameFor("baz", baz)); !done)
                return done.error();
        }
        Generator generator { scale, foos, bars, zabs, links, {} };
        generator.summary.bazs = scale.bazPool;
        for (int foo = 1; foo <= scale.foos; ++foo) {
            if (auto done = generator.writeFoo(foo); !done)
                return done.error();
            if (progress)
                progress(foo);
        }
        for (RowBatch *batch : { &bazs, &foos, &bars, &zabs, &links }) {
            if (auto done = batch->flush(); !done)
                return done.error();
        }
        const QString migration = QStringLiteral("INSERT INTO \"django_migrations\" (app, name, applied) "
                                                 "VALUES ('%1', '0001_initial', '2024-01-01 00:00:00.000000')")
                                      .arg(appLabel);
        for (const QString &sql : schema.mid(6) + QStringList { migration, QStringLiteral("COMMIT"),
                                                                 QStringLiteral("PRAGMA journal_mode = DELETE") }) {
            if (auto done = writer.exec(sql); !done)
                return done.error();
        }
        return generator.summary;
    }();
    if (!result) {
        QFile::remove(partial);
        return result;
    }
    QFile::remove(path);
    if (!QFile::rename(partial, path))
        return Error::io(QObject::tr("cannot move the new database to %1").arg(path));
    return result;
}
