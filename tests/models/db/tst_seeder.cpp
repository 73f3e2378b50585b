#include "db/database.h"
#include "db/seeder.h"
#include "testsupport.h"

#include <QCryptographicHash>
#include <QFile>
#include <QSet>
#include <QSqlQuery>
#include <QTest>

namespace {

// A digest of every row of every table, in primary-key order: equal digests, equal data.
QByteArray contentDigest(Database &database)
{
    QCryptographicHash hash(QCryptographicHash::Sha256);
    for (const QString &table : database.tables().all()) {
        auto statement = database.run(QStringLiteral("SELECT * FROM %1 ORDER BY id").arg(DjangoTables::quote(table)));
        if (!statement)
            qFatal("%s", qPrintable(statement.error().message));
        while ((*statement)->next()) {
            for (int column = 0; column < 3; ++column) {
                hash.addData((*statement)->text(column));
                hash.addData("\x1f");
            }
        }
    }
    return hash.result().toHex();
}

QSet<QByteArray> allNames(Database &database)
{
    QSet<QByteArray> names;
    const DjangoTables &t = database.tables();
    for (const QString &table : { t.foo, t.bar, t.zab, t.baz }) {
        auto statement = database.run(QStringLiteral("SELECT name FROM %1").arg(DjangoTables::quote(table)));
        while ((*statement)->next())
            names.insert((*statement)->text(0).toByteArray());
    }
    return names;
}

std::unique_ptr<Database> openSeed(const QString &path, const QString &label = QStringLiteral("api"))
{
    auto database = Database::open(*DatabaseConfig::parse(path, label));
    if (!database)
        qFatal("%s", qPrintable(database.error().message));
    return std::move(database.value());
}

} // namespace

class TestSeeder : public QObject {
    Q_OBJECT

private slots:
    void scales()
    {
        QCOMPARE(Seeder::scaleNames(), (QStringList { QStringLiteral("small"), QStringLiteral("medium"),
                                                      QStringLiteral("large"), QStringLiteral("wide") }));
        // wide: many Foos, sized by the same power law (and the same largest Foo) as medium.
        const auto medium = *Seeder::scale(QStringLiteral("medium"));
        const auto wide = *Seeder::scale(QStringLiteral("wide"));
        QCOMPARE(wide.foos, 100000);
        QCOMPARE(wide.maxBars, medium.maxBars);
        QCOMPARE(wide.power, medium.power);
        QCOMPARE(wide.largestZabs * wide.largestLinks, medium.largestZabs * medium.largestLinks);
        for (const QString &name : Seeder::scaleNames())
            QVERIFY(Seeder::scale(name).ok());
        const auto unknown = Seeder::scale(QStringLiteral("huge"));
        QVERIFY(!unknown.ok());
        QVERIFY(unknown.error().message.contains(QLatin1String("huge")));
    }

    void smallIsDeterministicAndHasTheHardCases()
    {
        QTemporaryDir dir;
        const QString first = dir.filePath(QStringLiteral("a.sqlite3"));
        const QString second = dir.filePath(QStringLiteral("b.sqlite3"));
        const auto small = *Seeder::scale(QStringLiteral("small"));
        int lastProgress = 0;
        const auto summary = Seeder::write(first, small, QStringLiteral("api"), false, [&](int foos) { lastProgress = foos; });
        QVERIFY(summary.ok());
        QCOMPARE(lastProgress, small.foos);
        QVERIFY(Seeder::write(second, small, QStringLiteral("api")).ok());
        auto a = openSeed(first);
        auto b = openSeed(second);
        QCOMPARE(contentDigest(*a), contentDigest(*b));

        const auto counts = *a->counts();
        QCOMPARE(counts.foos, summary->foos);
        QCOMPARE(counts.bars, summary->bars);
        QCOMPARE(counts.zabs, summary->zabs);
        QCOMPARE(counts.bazs, summary->bazs);
        QCOMPARE(counts.links, summary->links);
        QCOMPARE(counts.foos, 20);

        const QSet<QByteArray> names = allNames(*a);
        for (const QByteArray &hard : Seeder::hardNames())
            QVERIFY2(names.contains(hard), hard.toHex().constData());
        for (const QByteArray &name : names)
            QVERIFY2(QString::fromUtf8(name).toUcs4().size() <= 50, name.constData()); // max_length=50
        QVERIFY(!a->tableNames()->contains(QStringLiteral("sqlite_stat1")));
    }

    void smallHasEmptyRelations()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("s.sqlite3"));
        QVERIFY(Seeder::write(path, *Seeder::scale(QStringLiteral("small")), QStringLiteral("api")).ok());
        auto database = openSeed(path);
        const auto countOf = [&](const char *sql) {
            auto statement = database->run(QString::fromLatin1(sql));
            return (*statement)->next() ? (*statement)->integer(0) : -1;
        };
        QVERIFY(countOf("SELECT count(*) FROM api_foo f WHERE NOT EXISTS (SELECT 1 FROM api_bar b WHERE b.foo_id = f.id)") > 0);
        QVERIFY(countOf("SELECT count(*) FROM api_bar b WHERE NOT EXISTS (SELECT 1 FROM api_zab z WHERE z.bar_id = b.id)") > 0);
        QVERIFY(countOf("SELECT count(*) FROM api_zab z WHERE NOT EXISTS (SELECT 1 FROM api_zab_bazs l WHERE l.zab_id = z.id)") > 0);
    }

    void mediumHasTheDocumentedShape()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("m.sqlite3"));
        const auto summary = Seeder::write(path, *Seeder::scale(QStringLiteral("medium")), QStringLiteral("api"));
        QVERIFY(summary.ok());
        QCOMPARE(summary->foos, 100);
        QCOMPARE(summary->bazs, 5000);
        QVERIFY(summary->bars > 3500 && summary->bars < 4500);
        QVERIFY(summary->zabs > 40000 && summary->zabs < 52000);
        QVERIFY(summary->links > 750000 && summary->links < 1000000);
        auto database = openSeed(path);
        auto largest = database->run(QStringLiteral(
            "SELECT b.foo_id, count(DISTINCT b.id), count(DISTINCT z.id), count(*) FROM api_bar b "
            "JOIN api_zab z ON z.bar_id = b.id JOIN api_zab_bazs l ON l.zab_id = z.id "
            "GROUP BY b.foo_id ORDER BY count(*) DESC LIMIT 1"));
        QVERIFY((*largest)->next());
        QCOMPARE((*largest)->integer(1), 250);
        QCOMPARE((*largest)->integer(2), 4000);
        QCOMPARE((*largest)->integer(3), 80000);
    }

    void otherLabelAndDjangoIndexNames()
    {
        const QStringList schema = Seeder::sqliteSchema(QStringLiteral("shop"));
        // Django names indexes <table>_<columns>_<md5(table + columns)[:8]>; these are what its
        // sqlmigrate printed for the two labels.
        QVERIFY(schema.contains(QStringLiteral("CREATE INDEX \"shop_zab_bar_id_b29148cf\" ON \"shop_zab\" (\"bar_id\")")));
        QVERIFY(schema.contains(QStringLiteral("CREATE INDEX \"shop_bar_foo_id_cdc1f610\" ON \"shop_bar\" (\"foo_id\")")));
        const QStringList api = Seeder::sqliteSchema(QStringLiteral("api"));
        QVERIFY(api.contains(QStringLiteral("CREATE INDEX \"api_zab_bar_id_5f476163\" ON \"api_zab\" (\"bar_id\")")));
        QVERIFY(api.contains(QStringLiteral(
            "CREATE UNIQUE INDEX \"api_zab_bazs_zab_id_baz_id_8852fc91_uniq\" ON \"api_zab_bazs\" (\"zab_id\", \"baz_id\")")));
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("shop.sqlite3"));
        QVERIFY(Seeder::write(path, *Seeder::scale(QStringLiteral("small")), QStringLiteral("shop")).ok());
        QCOMPARE(*openSeed(path, QStringLiteral("shop"))->appLabels(), QStringList { QStringLiteral("shop") });
        QVERIFY(!Seeder::write(dir.filePath(QStringLiteral("x")), *Seeder::scale(QStringLiteral("small")),
                               QStringLiteral("no-good")).ok());
    }

    void neverReplacesSilently()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("keep.sqlite3"));
        {
            QFile file(path);
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write("precious");
        }
        const auto small = *Seeder::scale(QStringLiteral("small"));
        const auto refused = Seeder::write(path, small, QStringLiteral("api"));
        QVERIFY(!refused.ok());
        QVERIFY(refused.error().message.contains(QLatin1String("--force")));
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        QCOMPARE(file.readAll(), QByteArray("precious"));
        file.close();
        QVERIFY(Seeder::write(path, small, QStringLiteral("api"), true).ok());
        QCOMPARE(openSeed(path)->counts()->foos, 20);
    }

    void unwritablePlaceFailsCleanly()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("no/such/folder/x.sqlite3"));
        const auto result = Seeder::write(path, *Seeder::scale(QStringLiteral("small")), QStringLiteral("api"));
        QVERIFY(!result.ok());
        QVERIFY(!result.error().message.isEmpty());
        QVERIFY(!QFile::exists(path));
        QVERIFY(!QFile::exists(path + QStringLiteral(".partial")));
    }
};

QTEST_GUILESS_MAIN(TestSeeder)
#include "tst_seeder.moc"
